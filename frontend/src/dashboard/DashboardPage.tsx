import { useState } from "react";
import type { FormEvent } from "react";
import { useSearchParams } from "react-router";
import { useI18n } from "../i18n";
import { useCaseTypes, useFigure } from "./api";
import { defaultFilters, filtersFromParams, paramsFromFilters } from "./filters";
import type { Bucket, Filters } from "./filters";
import {
  AgreementSection,
  FailuresSection,
  QueueSection,
  ThroughputSection,
  TurnaroundSection,
} from "./sections";
import "./dashboard.css";

/** The dashboard at /app/dashboard: ?from=…&to=…&type=…&bucket=… in the URL. */
export function DashboardPage() {
  const { t } = useI18n();
  const [params, setParams] = useSearchParams();
  const filters = filtersFromParams(params, new Date());
  const go = (next: Filters) => setParams(paramsFromFilters(next));
  const timeZone = useFigure("throughput", filters).data?.filters.time_zone ?? "…";
  return (
    <section className="runs-page dash-page" aria-labelledby="dash-heading">
      <h1 id="dash-heading">{t("dash.heading")}</h1>
      <p className="dash-caption">{t("dash.caption", { tz: timeZone })}</p>
      <FilterForm key={params.toString()} filters={filters} onApply={go} />
      <TurnaroundSection filters={filters} />
      <ThroughputSection filters={filters} />
      <QueueSection filters={filters} />
      <AgreementSection filters={filters} />
      <FailuresSection filters={filters} />
    </section>
  );
}

function FilterForm({ filters, onApply }: { filters: Filters; onApply: (f: Filters) => void }) {
  const { t } = useI18n();
  const [draft, setDraft] = useState(filters);
  const caseTypes = useCaseTypes().data ?? [];
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply(draft);
  };
  return (
    <form className="dash-filters" role="search" aria-label={t("dash.filtersLabel")} onSubmit={submit}>
      <label>
        {t("dash.from")}
        <input
          type="date"
          name="from"
          required
          value={draft.from}
          max={draft.to}
          onChange={(e) => setDraft({ ...draft, from: e.target.value })}
        />
      </label>
      <label>
        {t("dash.to")}
        <input
          type="date"
          name="to"
          required
          value={draft.to}
          min={draft.from}
          onChange={(e) => setDraft({ ...draft, to: e.target.value })}
        />
      </label>
      <label>
        {t("dash.caseType")}
        <select
          name="type"
          value={draft.caseType}
          onChange={(e) => setDraft({ ...draft, caseType: e.target.value })}
        >
          <option value="">{t("dash.allCaseTypes")}</option>
          {[...new Set([...caseTypes, ...(draft.caseType ? [draft.caseType] : [])])].map((type) => (
            <option key={type} value={type}>
              {type}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t("dash.bucket")}
        <select
          name="bucket"
          value={draft.bucket}
          onChange={(e) => setDraft({ ...draft, bucket: e.target.value as Bucket })}
        >
          <option value="day">{t("dash.bucket.day")}</option>
          <option value="week">{t("dash.bucket.week")}</option>
        </select>
      </label>
      <button type="submit">{t("dash.apply")}</button>
      <button type="button" onClick={() => onApply(defaultFilters(new Date()))}>
        {t("dash.reset")}
      </button>
    </form>
  );
}
