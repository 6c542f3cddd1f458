// Saving and publishing the draft from the editor's working copy, with optimistic locking:
// every save names the draft it started from (base_updated_at); a stale one is a conflict the
// editor shows — who saved and when — and never an overwrite.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useCallback, useRef, useState } from "react";
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

export function specOf(store: EditorStore, base: GraphBase): GraphSpec {
  const { nodes, edges } = store.getState();
  return canvasToSpec(nodes, edges, base);
}

export function useDraft(
  slug: string,
  store: EditorStore,
  decorations: DecorationStore,
  opened: { base: GraphBase; updatedAt: string; spec: GraphSpec },
) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [base, setBase] = useState(opened.base);
  const baseUpdatedAt = useRef(opened.updatedAt);
  const [savedJson, setSavedJson] = useState(() => JSON.stringify(opened.spec));
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);

  const saveMutation = useMutation({
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
  }, []);

  return {
    base,
    savedJson,
    conflict,
    draft,
    save: saveMutation,
    publish: publishMutation,
    reloaded,
  };
}
