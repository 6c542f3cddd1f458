// Golden cases of a workflow, the tolerances of its numeric elements, and the department's
// threshold for publishing.
import { useState } from "react";
import { useI18n } from "../i18n";
import { formatDateTime } from "../lib/format";
import {
  useGoldenCases,
  useMarkGolden,
  useSetThreshold,
  useSetTolerance,
  useThreshold,
  useTolerances,
  useUnmarkGolden,
} from "./useQuality";
import type { Tolerance } from "./useQuality";

export function GoldenCasesPanel({ slug, canMark }: { slug: string; canMark: boolean }) {
  const { t, locale } = useI18n();
  const golden = useGoldenCases(slug);
  const mark = useMarkGolden(slug);
  const unmark = useUnmarkGolden(slug);
  const [accession, setAccession] = useState("");
  const [note, setNote] = useState("");
  const rows = golden.data ?? [];
  return (
    <section className="panel" aria-labelledby="golden-heading" data-testid="golden-cases">
      <h2 id="golden-heading">{t("quality.golden.heading")}</h2>
      {golden.error ? <p className="error-text">{t("quality.loadError", { message: golden.error.message })}</p> : null}
      {golden.data && rows.length === 0 ? <p className="muted">{t("quality.golden.empty")}</p> : null}
      {rows.length ? (
        <table>
          <thead>
            <tr>
              <th>{t("quality.golden.accession")}</th>
              <th>{t("quality.golden.caseType")}</th>
              <th>{t("quality.golden.signed")}</th>
              <th>{t("quality.golden.markedBy")}</th>
              <th>{t("quality.golden.note")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((g) => (
              <tr key={g.case} data-testid="golden-case" data-accession={g.accession}>
                <td>{g.accession}</td>
                <td>{g.case_type}</td>
                <td>
                  {g.signed_version ? `v${g.signed_version}` : "—"}{" "}
                  <span className="muted">{formatDateTime(g.signed_at, locale)}</span>
                </td>
                <td>
                  {g.marked_by ?? "—"} <span className="muted">{formatDateTime(g.marked_at, locale)}</span>
                </td>
                <td>{g.note}</td>
                <td>
                  {canMark ? (
                    <button
                      type="button"
                      className="link-button"
                      aria-label={t("quality.golden.remove", { accession: g.accession })}
                      onClick={() => unmark.mutate(g.case)}
                    >
                      {t("quality.golden.removeShort")}
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {canMark ? (
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            mark.mutate({ accession: accession.trim(), note }, { onSuccess: () => setAccession("") });
          }}
        >
          <label>
            {t("quality.golden.accession")}
            <input value={accession} onChange={(e) => setAccession(e.target.value)} required data-testid="golden-accession" />
          </label>
          <label>
            {t("quality.golden.note")}
            <input value={note} onChange={(e) => setNote(e.target.value)} />
          </label>
          <button type="submit" disabled={mark.isPending || !accession.trim()} data-testid="golden-add">
            {t("quality.golden.add")}
          </button>
        </form>
      ) : null}
      {mark.error ? <p className="error-text" role="alert">{mark.error.message}</p> : null}
      {unmark.error ? <p className="error-text" role="alert">{unmark.error.message}</p> : null}
    </section>
  );
}

function ToleranceRow({ slug, row, canChange }: { slug: string; row: Tolerance; canChange: boolean }) {
  const { t, lang } = useI18n();
  const save = useSetTolerance(slug);
  const [value, setValue] = useState(row.tolerance === null ? "" : String(row.tolerance));
  return (
    <tr data-element={row.element}>
      <th scope="row">
        {row.label[lang] || row.element} <code className="muted">{row.element}</code>
      </th>
      <td>
        <input
          type="number"
          min={0}
          step="any"
          value={value}
          disabled={!canChange}
          aria-label={`${t("quality.tolerance.value")} ${row.element}`}
          onChange={(e) => setValue(e.target.value)}
        />{" "}
        {row.unit}
      </td>
      <td>
        {canChange ? (
          <button
            type="button"
            disabled={save.isPending}
            onClick={() => save.mutate({ element: row.element, tolerance: value === "" ? null : Number(value) })}
          >
            {t("quality.tolerance.save")}
          </button>
        ) : null}
        {save.isSuccess ? <span className="ok-text"> {t("quality.tolerance.saved")}</span> : null}
        {save.error ? <span className="error-text"> {save.error.message}</span> : null}
      </td>
    </tr>
  );
}

export function TolerancesPanel({ slug, canChange }: { slug: string; canChange: boolean }) {
  const { t } = useI18n();
  const tolerances = useTolerances(slug);
  const rows = tolerances.data ?? [];
  return (
    <section className="panel" aria-labelledby="tolerance-heading">
      <h2 id="tolerance-heading">{t("quality.tolerance.heading")}</h2>
      <p className="hint">{t("quality.tolerance.help")}</p>
      {tolerances.data && rows.length === 0 ? <p className="muted">{t("quality.tolerance.none")}</p> : null}
      {rows.length ? (
        <table>
          <tbody>
            {rows.map((row) => (
              <ToleranceRow key={row.element} slug={slug} row={row} canChange={canChange} />
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

export function ThresholdPanel({ canChange }: { canChange: boolean }) {
  const { t } = useI18n();
  const threshold = useThreshold();
  const save = useSetThreshold();
  const [value, setValue] = useState<string | null>(null);
  const shown = value ?? (threshold.data ? String(Math.round(threshold.data.golden_threshold * 100)) : "");
  return (
    <section className="panel" aria-labelledby="threshold-heading">
      <h2 id="threshold-heading">{t("quality.threshold.heading")}</h2>
      <p className="hint">{t("quality.threshold.help")}</p>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate(Number(shown) / 100, { onSuccess: () => setValue(null) });
        }}
      >
        <input
          type="number"
          min={0}
          max={100}
          value={shown}
          disabled={!canChange}
          aria-label={t("quality.threshold.heading")}
          onChange={(e) => setValue(e.target.value)}
        />
        %
        {canChange ? <button type="submit">{t("quality.threshold.save")}</button> : null}
      </form>
      {save.error ? <p className="error-text">{save.error.message}</p> : null}
    </section>
  );
}
