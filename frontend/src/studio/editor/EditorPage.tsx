// /app/studio/workflows/:slug — loads the workflow (its draft, else its latest published
// version) and the palette, then opens the editor.
import { useQuery } from "@tanstack/react-query";
import { useLocation, useParams } from "react-router";
import { dataOf, useApi } from "../../api/client";
import { useMe } from "../../app/useMe";
import { useI18n } from "../../i18n";
import type { GraphSpec } from "../../lib/graph";
import { useNodeTypes, useWorkflow } from "../api";
import "../studio.css";
import { Editor } from "./Editor";
import type { OpenedGraph } from "./Editor";

function useOpenedGraph(slug: string) {
  const api = useApi();
  const workflow = useWorkflow(slug);
  const latest = workflow.data?.published[0]?.number;
  const published = useQuery({
    queryKey: ["workflows", slug, "versions", latest],
    enabled: workflow.data !== undefined && workflow.data.draft === null && latest !== undefined,
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
  if (draft) {
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
  return { workflow, opened, error: workflow.error ?? published.error };
}

export function EditorPage() {
  const slug = useParams().slug ?? "";
  // Each navigation here (e.g. after an import) opens the editor afresh on the current data.
  const visit = useLocation().key;
  const { t } = useI18n();
  const me = useMe();
  const types = useNodeTypes();
  const { workflow, opened, error } = useOpenedGraph(slug);
  const failure = error ?? types.error;
  if (failure) {
    return (
      <p className="error-text" role="alert" data-testid="editor-error">
        {failure.message}
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
      key={`${slug}:${visit}`}
      slug={slug}
      workflow={workflow.data}
      opened={opened}
      types={types.data}
      readOnly={me.role !== "admin"}
    />
  );
}
