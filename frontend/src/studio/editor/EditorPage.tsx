// /app/studio/workflows/:slug — loads the workflow (its draft, else its latest published
// version) and the palette, then opens the editor. With ?from_run=<id> ("open in editor" on a
// run) it opens the workflow version that run used, with the outputs the run recorded.
import { useQuery } from "@tanstack/react-query";
import { useLocation, useParams, useSearchParams } from "react-router";
import { dataOf, useApi } from "../../api/client";
import { useMe } from "../../app/useMe";
import { fetchRun } from "../../runs/useRunDetail";
import { useI18n } from "../../i18n";
import type { GraphSpec } from "../../lib/graph";
import { useNodeTypes, useWorkflow } from "../api";
import "../studio.css";
import { Editor } from "./Editor";
import type { OpenedGraph } from "./Editor";

function useOpenedGraph(slug: string, fromRunId: number | null) {
  const api = useApi();
  const workflow = useWorkflow(slug);
  const run = useQuery({
    queryKey: ["run", fromRunId, "for-editor"],
    enabled: fromRunId !== null,
    queryFn: async ({ signal }) => {
      const found = await fetchRun(api, fromRunId!, signal);
      if (found.workflow.slug !== slug) throw new Error(`run ${found.id}: ${found.workflow.slug}`);
      return found;
    },
    staleTime: Infinity,
  });
  const latest = fromRunId !== null ? run.data?.workflow.version : workflow.data?.published[0]?.number;
  const published = useQuery({
    queryKey: ["workflows", slug, "versions", latest],
    enabled:
      workflow.data !== undefined &&
      latest !== undefined &&
      (fromRunId !== null || workflow.data.draft === null),
    queryFn: async ({ signal }) =>
      dataOf(
        await api.GET("/api/v1/workflows/{slug}/versions/{number}", {
          params: { path: { slug, number: latest! } },
          signal,
        }),
      ),
    staleTime: Infinity,
  });
  let opened: OpenedGraph | undefined;
  const draft = workflow.data?.draft;
  if (fromRunId !== null) {
    if (run.data && published.data) {
      opened = {
        spec: published.data.graph as GraphSpec,
        // A save replaces the current draft (or makes one): it is the draft that is locked.
        updatedAt: draft?.updated_at ?? published.data.updated_at,
        problems: [],
        warnings: [],
        fromRun: run.data,
      };
    }
  } else if (draft) {
    opened = {
      spec: draft.graph as GraphSpec,
      updatedAt: draft.updated_at,
      problems: draft.problems,
      warnings: draft.warnings,
    };
  } else if (published.data) {
    opened = {
      spec: published.data.graph as GraphSpec,
      updatedAt: published.data.updated_at,
      problems: [],
      warnings: [],
    };
  }
  return { workflow, opened, error: workflow.error ?? run.error ?? published.error };
}

export function EditorPage() {
  const slug = useParams().slug ?? "";
  // Each navigation here (e.g. after an import) opens the editor afresh on the current data.
  const visit = useLocation().key;
  const { t } = useI18n();
  const me = useMe();
  const types = useNodeTypes();
  const fromRunParam = useSearchParams()[0].get("from_run");
  const fromRunId = fromRunParam && /^\d+$/.test(fromRunParam) ? Number(fromRunParam) : null;
  const { workflow, opened, error } = useOpenedGraph(slug, fromRunId);
  const failure = error ?? types.error;
  if (failure) {
    return (
      <p className="error-text" role="alert" data-testid="editor-error">
        {fromRunId !== null ? t("studio.fromRunError", { id: fromRunId, message: failure.message }) : failure.message}
      </p>
    );
  }
  if (!workflow.data || !opened || !types.data || !me) {
    return (
      <p className="state state--loading" role="status">
        {t("page.loading")}
      </p>
    );
  }
  return (
    <Editor
      key={`${slug}:${visit}:${fromRunId ?? ""}`}
      slug={slug}
      workflow={workflow.data}
      opened={opened}
      types={types.data}
      readOnly={me.role !== "admin"}
    />
  );
}
