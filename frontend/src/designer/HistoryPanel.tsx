// A template's versions and what changed between two of them.
import { useState } from "react";
import { useI18n } from "../i18n";
import { useDiff, useVersions } from "./useTemplates";

export function HistoryPanel({ slug }: { slug: string }) {
  const { t, lang } = useI18n();
  const versions = useVersions(slug);
  const numbers = versions.data?.map((v) => v.number) ?? [];
  const [from, setFrom] = useState<number | null>(null);
  const [to, setTo] = useState<number | null>(null);
  const fromN = from ?? numbers[1] ?? null;
  const toN = to ?? numbers[0] ?? null;
  const diff = useDiff(slug, fromN, toN);
  const date = (iso: string | null | undefined) =>
    iso ? new Date(iso).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB") : "—";

  return (
    <section className="panel history" aria-label={t("history.heading")}>
      <h3>{t("history.heading")}</h3>
      <ul className="versions">
        {versions.data?.map((v) => (
          <li key={v.number} data-version={v.number}>
            {t("history.entry", {
              number: v.number,
              status: v.status,
              date: date(v.published_at ?? v.created_at),
            })}
          </li>
        ))}
      </ul>
      {numbers.length > 1 && (
        <div className="diff-pick actions">
          <label className="inline">
            {t("history.from")}{" "}
            <select aria-label={t("history.from")} value={fromN ?? ""} onChange={(e) => setFrom(Number(e.target.value))}>
              {numbers.map((n) => (
                <option key={n} value={n}>
                  v{n}
                </option>
              ))}
            </select>
          </label>
          <label className="inline">
            {t("history.to")}{" "}
            <select aria-label={t("history.to")} value={toN ?? ""} onChange={(e) => setTo(Number(e.target.value))}>
              {numbers.map((n) => (
                <option key={n} value={n}>
                  v{n}
                </option>
              ))}
            </select>
          </label>
        </div>
      )}
      {diff.data && (
        <ul className="diff" data-testid="template-diff">
          {(((diff.data as { summary?: string[] }).summary) ?? [t("history.noChanges")]).map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
