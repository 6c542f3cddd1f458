// One shadow run: progress while it runs, then agreement (cases and per element) and, for every
// case that differs, the signed and the version's values side by side.
import { useI18n } from "../i18n";
import type { Lang } from "../lib/uiStrings";
import type { Disagreement, ShadowCase, ShadowRunDetail } from "./useQuality";

export function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : `${Math.round(value * 1000) / 10}%`;
}

export function shownValue(value: unknown, empty: string): string {
  if (value === null || value === undefined || value === "") return empty;
  if (Array.isArray(value)) return value.map((v) => String(v)).join(", ");
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

function label(d: { label: Record<string, string>; element: string }, lang: Lang): string {
  return d.label[lang] || d.label.en || d.element;
}

export function DisagreementRows({ rows }: { rows: readonly Disagreement[] }) {
  const { t, lang } = useI18n();
  const empty = t("quality.result.empty");
  return (
    <>
      {rows.map((d, i) =>
        d.error ? (
          <tr key={`${d.accession}-error-${i}`} data-testid="difference" data-element="">
            <td>{d.accession}</td>
            <td colSpan={3} className="error-text">
              {t("quality.result.caseFailed", { error: d.error })}
            </td>
          </tr>
        ) : (
          <tr key={`${d.accession}-${d.element}`} data-testid="difference" data-element={d.element}>
            <td>{d.accession}</td>
            <th scope="row">
              {label(d, lang)} <code className="muted">{d.element}</code>
            </th>
            <td className="expected">{shownValue(d.expected, empty)}</td>
            <td className="got">
              {shownValue(d.got, empty)}
              {d.tolerance !== null ? (
                <span className="muted"> ({t("quality.result.tolerance", { n: d.tolerance })})</span>
              ) : null}
            </td>
          </tr>
        ),
      )}
    </>
  );
}

export function DifferenceTable({ rows }: { rows: readonly Disagreement[] }) {
  const { t } = useI18n();
  return (
    <table className="differences" data-testid="differences">
      <thead>
        <tr>
          <th>{t("quality.golden.accession")}</th>
          <th>{t("quality.tolerance.element")}</th>
          <th>{t("quality.result.signed")}</th>
          <th>{t("quality.result.got")}</th>
        </tr>
      </thead>
      <tbody>
        <DisagreementRows rows={rows} />
      </tbody>
    </table>
  );
}

function differing(cases: readonly ShadowCase[]): Disagreement[] {
  return cases.filter((c) => c.status === "differed" || c.status === "failed").flatMap((c) => c.differences);
}

export function ShadowRunResult({ run }: { run: ShadowRunDetail }) {
  const { t, lang } = useI18n();
  const done = run.total - run.pending;
  const rows = differing(run.cases);
  return (
    <section className="panel shadow-result" data-testid="shadow-result" data-status={run.status}>
      <h2>{t("quality.result.heading", { id: run.id, version: run.version })}</h2>
      {run.status !== "finished" ? (
        <p aria-live="polite" data-testid="shadow-progress">
          <progress max={run.total} value={done} /> {t("quality.result.progress", { done, total: run.total })}
        </p>
      ) : (
        <>
          <p className="agreement" data-testid="agreement">
            {t("quality.result.agreement", { agreed: run.agreed, total: run.total, percent: percent(run.agreement) })}
          </p>
          {run.failed ? <p className="error-text">{t("quality.result.failed", { n: run.failed })}</p> : null}
          <h3>{t("quality.result.elements")}</h3>
          <table className="element-agreement" data-testid="element-agreement">
            <thead>
              <tr>
                <th>{t("quality.tolerance.element")}</th>
                <th>{t("quality.result.compared")}</th>
                <th>{t("quality.result.agreed")}</th>
                <th>{t("quality.shadow.col.agreement")}</th>
              </tr>
            </thead>
            <tbody>
              {run.elements.map((e) => (
                <tr key={e.element} data-element={e.element} className={e.agreed < e.compared ? "differs" : ""}>
                  <th scope="row">{label(e, lang)}</th>
                  <td>{e.compared}</td>
                  <td>{e.agreed}</td>
                  <td>{percent(e.agreement)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>{t("quality.result.differing")}</h3>
          {rows.length ? <DifferenceTable rows={rows} /> : <p className="ok-text">{t("quality.result.noneDiffer")}</p>}
        </>
      )}
    </section>
  );
}
