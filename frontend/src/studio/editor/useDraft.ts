// Saving and publishing the draft from the editor's working copy, with optimistic locking:
// every save names the draft it started from (base_updated_at); a stale one is a conflict the
// editor shows — who saved and when — and never an overwrite. The draft saves itself a short
// while after the last edit (useAutosave); a conflict stops that until it is resolved.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, dataOf, useApi } from "../../api/client";
import { canvasToSpec } from "../../lib/graph";
import type { GraphBase, GraphSpec } from "../../lib/graph";
import type { GraphProblem } from "../../lib/problems";
import { studioKeys } from "../api";
import type { Draft, VersionSummary } from "../api";
import type { DecorationStore } from "./decorations";
import type { EditorStore } from "./store";

export interface Conflict {
  updatedBy: string | null;
  updatedAt: string;
  message: string;
}

function conflictOf(error: unknown): Conflict | null {
  if (!(error instanceof ApiError) || error.status !== 409) return null;
  const body = (error.body ?? {}) as { updated_by?: string | null; updated_at?: string };
  return { updatedBy: body.updated_by ?? null, updatedAt: body.updated_at ?? "", message: error.message };
}

/** Problems of a refused publish (400 with every problem as an object). */
function problemsOf(error: unknown): GraphProblem[] | null {
  if (!(error instanceof ApiError) || error.status !== 400) return null;
  const body = error.body as { problems?: unknown } | undefined;
  return Array.isArray(body?.problems) && body.problems.every((p) => typeof p === "object")
    ? (body.problems as GraphProblem[])
    : null;
}

/** How long after the last edit the draft saves itself. */
export const AUTOSAVE_MS = 1200;

export type SaveState = "saved" | "saving" | "unsaved" | "conflict" | "failed";

/** The editor's save indicator. */
export function saveStateOf(s: { pending: boolean; dirty: boolean; conflict: boolean; failed: boolean }): SaveState {
  if (s.conflict) return "conflict";
  if (s.pending) return "saving";
  if (!s.dirty) return "saved";
  return s.failed ? "failed" : "unsaved";
}

export function specOf(store: EditorStore, base: GraphBase): GraphSpec {
  const { nodes, edges } = store.getState();
  return canvasToSpec(nodes, edges, base);
}

export function useDraft(
  slug: string,
  store: EditorStore,
  decorations: DecorationStore,
  opened: { base: GraphBase; updatedAt: string; spec: GraphSpec; replacesDraft?: boolean },
) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [base, setBase] = useState(opened.base);
  const baseUpdatedAt = useRef(opened.updatedAt);
  const [savedJson, setSavedJson] = useState(() => JSON.stringify(opened.spec));
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  // The working copy is not the server's draft although nothing was edited (opened from a
  // run's version): a test run saves it first.
  const [replacesDraft, setReplacesDraft] = useState(Boolean(opened.replacesDraft));

  const saveMutation = useMutation({
    // Saves run one after another: each starts from the draft the previous one wrote (an
    // autosave under way and a test run's save must not both claim the same base).
    scope: { id: `draft:${slug}` },
    mutationFn: async (options: { overwrite?: boolean } = {}) => {
      const graph = specOf(store, base);
      const basedOn = options.overwrite && conflict ? conflict.updatedAt : baseUpdatedAt.current;
      const saved = dataOf(
        await api.PUT("/api/v1/workflows/{slug}/draft", {
          params: { path: { slug } },
          body: { graph, base_updated_at: basedOn },
        }),
      );
      return { saved, graph };
    },
    onSuccess: ({ saved, graph }) => {
      baseUpdatedAt.current = saved.updated_at;
      setSavedJson(JSON.stringify(graph));
      setConflict(null);
      setReplacesDraft(false);
      setDraft(saved);
      decorations.getState().setProblems(saved.problems, saved.warnings);
    },
    onError: (error) => setConflict(conflictOf(error)),
  });

  const publishMutation = useMutation({
    mutationFn: async (note: string) => {
      await saveMutation.mutateAsync({});
      return dataOf(
        await api.POST("/api/v1/workflows/{slug}/publish", {
          params: { path: { slug } },
          body: { note },
        }),
      );
    },
    onSuccess: async (version: VersionSummary) => {
      baseUpdatedAt.current = version.updated_at;
      setDraft(null);
      await queryClient.invalidateQueries({ queryKey: studioKeys.versions(slug) });
      // The list only: refetching this workflow would reopen the editor on the new version.
      await queryClient.invalidateQueries({ queryKey: studioKeys.workflows, exact: true });
    },
    onError: (error) => {
      const problems = problemsOf(error);
      if (problems) decorations.getState().setProblems(problems, []);
    },
  });

  /** Take the graph someone else saved (after a conflict): the editor shows theirs. */
  const reloaded = useCallback((spec: GraphSpec, updatedAt: string, next: GraphBase) => {
    baseUpdatedAt.current = updatedAt;
    setBase(next);
    setSavedJson(JSON.stringify(spec));
    setConflict(null);
    setReplacesDraft(false);
  }, []);

  return {
    base,
    savedJson,
    conflict,
    draft,
    replacesDraft,
    save: saveMutation,
    publish: publishMutation,
    reloaded,
  };
}

/** Save the draft ``AUTOSAVE_MS`` after the last edit (``currentJson`` is the working copy).
 * Not while a save is under way or a conflict waits for the user, and not again for a graph
 * whose save just failed (the next edit, or the Save button, tries again). */
export function useAutosave(draft: ReturnType<typeof useDraft>, currentJson: string, enabled: boolean): void {
  const attempted = useRef<string | null>(null);
  const dirty = currentJson !== draft.savedJson;
  const pending = draft.save.isPending;
  const failed = draft.save.isError;
  const mutate = draft.save.mutate;
  const conflict = draft.conflict !== null;
  useEffect(() => {
    if (!enabled || !dirty || conflict || pending) return;
    if (failed && attempted.current === currentJson) return;
    const timer = window.setTimeout(() => {
      attempted.current = currentJson;
      mutate({});
    }, AUTOSAVE_MS);
    return () => window.clearTimeout(timer);
  }, [enabled, dirty, conflict, pending, failed, currentJson, mutate]);
}
