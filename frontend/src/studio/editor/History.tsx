// Version history: every version with its note; a visual diff of a version against the one
// before it (or the draft against the latest); rollback; export and import of workflow files.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useNavigate } from "react-router";
import { dataOf, useApi } from "../../api/client";
import { useI18n } from "../../i18n";
import { formatDateTime } from "../../lib/format";
import { GateNote } from "../../quality/GateNote";
import type { GraphSpec } from "../../lib/graph";
import { studioKeys, useVersions } from "../api";
import { DiffCanvas } from "./DiffCanvas";

function useDiff(slug: string, pair: [number, number] | null) {
  const api = useApi();
  return useQuery({
    queryKey: ["workflows", slug, "diff", pair],
    enabled: pair !== null,
    queryFn: async ({ signal }) => {
      const [from, to] = pair!;
      const version = async (number: number) =>
        dataOf(
          await api.GET("/api/v1/workflows/{slug}/versions/{number}", {
            params: { path: { slug, number } },
            signal,
          }),
        );
      const [diff, older, newer] = await Promise.all([
        api
          .GET("/api/v1/workflows/{slug}/diff", { params: { path: { slug }, query: { from, to } }, signal })
          .then(dataOf),
        version(from),
        version(to),
      ]);
      return { diff, older: older.graph as GraphSpec, newer: newer.graph as GraphSpec };
    },
  });
}

export function History({ slug, canChange }: { slug: string; canChange: boolean }) {
  const { t, locale } = useI18n();
  const api = useApi();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const versions = useVersions(slug);
  const [pair, setPair] = useState<[number, number] | null>(null);
  const diff = useDiff(slug, pair);
  const rollback = useMutation({
    mutationFn: async (version: number) =>
      dataOf(
        await api.POST("/api/v1/workflows/{slug}/rollback", {
          params: { path: { slug } },
          body: { version },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: studioKeys.versions(slug) }),
  });
  const importFile = useMutation({
    mutationFn: async (file: File) => {
      const form = new FormData();
      form.append("file", file);
      return dataOf(
        await api.POST("/api/v1/workflows/import", {
          params: { query: { draft: true } },
          body: form as unknown as { file?: string | null },
          bodySerializer: (body) => body as unknown as FormData,
        }),
      );
    },
    onSuccess: async (imported) => {
      // Refetched before the editor reopens (a new navigation remounts it) on the imported draft.
      await queryClient.invalidateQueries({ queryKey: ["workflows"] });
      void navigate(`/studio/workflows/${imported.workflow.slug}`, { replace: true });
    },
  });

  const list = versions.data ?? [];
  return (
    <div className="history" data-testid="history">
      <h2>{t("studio.history.heading")}</h2>
      {versions.isPending ? <p className="muted">{t("page.loading")}</p> : null}
      <ol className="versions">
        {list.map((v, index) => {
          const previous = list[index + 1];
          return (
            <li key={v.number} data-testid="version" data-number={v.number} data-status={v.status}>
              <strong>v{v.number}</strong> <span className="tag">{t(v.status === "draft" ? "studio.history.draft" : "studio.history.published")}</span>{" "}
              <span className="muted">
                {formatDateTime(v.published_at ?? v.updated_at, locale)} · {v.updated_by ?? v.created_by ?? ""}
              </span>
              {v.published_from ? <span className="muted"> · {t("studio.history.rollbackOf", { n: v.published_from })}</span> : null}
              {v.publish_note ? <p className="note" data-testid="version-note">{v.publish_note}</p> : null}
              <GateNote slug={slug} version={v.number} />
              <div className="version-actions">
                {previous ? (
                  <button type="button" className="link-button" data-testid="diff-previous" onClick={() => setPair([previous.number, v.number])}>
                    {t("studio.history.diff", { from: previous.number })}
                  </button>
                ) : null}
                {v.status === "published" ? (
                  <a href={`/api/v1/workflows/${slug}/export?version=${v.number}`} download data-testid="export">
                    {t("studio.history.export")}
                  </a>
                ) : null}
                {canChange && v.status === "published" && index > 0 ? (
                  <button type="button" className="link-button" onClick={() => rollback.mutate(v.number)} data-testid="rollback">
                    {t("studio.history.rollback")}
                  </button>
                ) : null}
              </div>
            </li>
          );
        })}
      </ol>
      {rollback.error ? <p className="error-text">{rollback.error.message}</p> : null}
      {rollback.data ? <p className="ok-text">{t("studio.published", { version: rollback.data.number })}</p> : null}
      {canChange ? (
        <label className="import">
          {t("studio.history.import")}
          <input
            type="file"
            accept="application/json,.json"
            data-testid="import-file"
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) importFile.mutate(file);
            }}
          />
        </label>
      ) : null}
      {importFile.error ? (
        <div className="error-text" role="alert">
          {importFile.error.message}
        </div>
      ) : null}
      {pair ? (
        <div className="overlay" role="dialog" aria-modal="true" data-testid="diff-dialog">
          <div className="overlay-box overlay-box--wide">
            <h2>{t("studio.history.diffHeading", { from: pair[0], to: pair[1] })}</h2>
            {diff.data ? <DiffCanvas {...diff.data} /> : diff.error ? <p className="error-text">{diff.error.message}</p> : <p>{t("page.loading")}</p>}
            <button type="button" onClick={() => setPair(null)}>
              {t("studio.close")}
            </button>
          </div>
        </div>
      ) : null}
    </div>
  );
}
