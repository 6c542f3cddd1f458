// The clinician portal: find a case by accession or patient ID, see its report versions —
// each amended or corrected one marked with what changed and why, every earlier version
// still there to open. PDFs open inside the page with pdf.js (`?view=<report id>` is the URL
// of an open one) and stay downloadable.
import { useState } from "react";
import type { FormEvent } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { ApiError } from "../api/client";
import { useMe } from "../app/useMe";
import { NotFound } from "../app/NotFound";
import { useI18n } from "../i18n";
import type { MessageKey } from "../i18n";
import { useCaseReports, useSearch } from "./api";
import type { ReportVersion } from "./api";
import { PdfViewer } from "./PdfViewer";

function statusKey(status: string): MessageKey {
  const known = ["final", "amended", "corrected", "addendum", "draft", "preliminary"];
  return (known.includes(status) ? `portal.status.${status}` : "portal.status.draft") as MessageKey;
}

function shown(value: unknown, empty: string): string {
  if (value === null || value === undefined || value === "") return empty;
  if (Array.isArray(value)) return value.map((v) => shown(v, empty)).join(", ");
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

export function PortalSearchPage() {
  const { t, locale } = useI18n();
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const [text, setText] = useState(q);
  const search = useSearch(q);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setParams(text.trim() ? { q: text.trim() } : {});
  };
  return (
    <section className="portal" data-testid="portal">
      <h1>{t("portal.heading")}</h1>
      <form className="review-toolbar" onSubmit={submit} role="search">
        <label htmlFor="portal-q">{t("portal.search")}</label>
        <input
          id="portal-q"
          data-testid="portal-q"
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit" className="primary">
          {t("portal.searchButton")}
        </button>
      </form>
      {search.isFetching && (
        <p className="state state--loading" role="status">
          {t("portal.searching")}
        </p>
      )}
      {search.error && (
        <div role="alert" className="state state--error">
          <strong>{t("portal.errorTitle")}</strong> <span>{search.error.message}</span>
        </div>
      )}
      {search.data && search.data.length === 0 && <p className="state">{t("portal.none")}</p>}
      {search.data && search.data.length > 0 && (
        <table className="table" data-testid="portal-results">
          <thead>
            <tr>
              <th scope="col">{t("portal.case")}</th>
              <th scope="col">{t("portal.patient")}</th>
              <th scope="col">{t("portal.received")}</th>
              <th scope="col">{t("portal.versions")}</th>
            </tr>
          </thead>
          <tbody>
            {search.data.map((c) => (
              <tr key={c.case_id} data-testid="portal-case">
                <td>
                  <Link
                    to={`/portal/cases/${c.case_id}`}
                    aria-label={t("portal.open", { accession: c.accession })}
                  >
                    {c.accession}
                  </Link>
                </td>
                <td>
                  {c.patient_name} · {c.patient_mrn}
                </td>
                <td>{new Date(c.received_at).toLocaleString(locale)}</td>
                <td className="review-num">{c.reports}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function VersionCard({
  version,
  newer,
  viewing,
  onView,
}: {
  version: ReportVersion;
  newer: number | null;
  viewing: boolean;
  onView: (open: boolean) => void;
}) {
  const { t, locale } = useI18n();
  const me = useMe();
  const signedAt = version.signed_at ? new Date(version.signed_at).toLocaleString(locale) : "";
  return (
    <article
      className={`version-card version-card--${version.status}`}
      data-testid="report-version"
      data-version={version.version}
      data-status={version.status}
    >
      <header>
        <h2>
          {t("portal.version", { version: version.version })}{" "}
          <span className={`badge badge--${version.status}`}>{t(statusKey(version.status))}</span>
        </h2>
        {version.recalled && <p className="muted">{t("portal.recalled")}</p>}
        {newer === null && version.signed && !version.recalled && (
          <p className="badge badge--ok">{t("portal.current")}</p>
        )}
        {newer !== null && <p className="muted">{t("portal.replacedBy", { version: newer })}</p>}
      </header>
      {version.signed_by && (
        <p>{t("portal.signedBy", { name: version.signed_by, time: signedAt })}</p>
      )}
      {version.replaces_version !== null && version.replaces_version !== undefined && (
        <p>{t("portal.replaces", { version: version.replaces_version })}</p>
      )}
      {version.reason && <p data-testid="version-reason">{t("portal.reason", { reason: version.reason })}</p>}
      {version.changes.length > 0 && (
        <table className="table changes" data-testid="version-changes">
          <caption>{t("portal.changes")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("portal.element")}</th>
              <th scope="col">{t("portal.was")}</th>
              <th scope="col">{t("portal.now")}</th>
            </tr>
          </thead>
          <tbody>
            {version.changes.map((change) => {
              const label = (change.label ?? {}) as Record<string, string>;
              const element = String(change.element);
              return (
                <tr key={element}>
                  <th scope="row">{label[locale.startsWith("zh") ? "zh" : "en"] ?? element}</th>
                  <td>{shown(change.old, t("portal.empty"))}</td>
                  <td>{shown(change.new, t("portal.empty"))}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <p>
        <button
          type="button"
          onClick={() => onView(!viewing)}
          aria-expanded={viewing}
          aria-label={t("portal.viewLabel", { version: version.version })}
          data-testid="version-view"
        >
          {viewing ? t("portal.hide") : t("portal.view")}
        </button>
        {" · "}
        <a
          href={version.pdf_url}
          download
          aria-label={t("portal.downloadLabel", { version: version.version })}
          data-testid="version-pdf"
        >
          {t("portal.download")}
        </a>
        {me?.role === "pathologist" && newer === null && version.signed && !version.recalled && (
          <>
            {" · "}
            <Link to={`/review/${version.report_id}`}>{t("portal.amend")}</Link>
          </>
        )}
      </p>
      {viewing && (
        <PdfViewer
          key={version.pdf_url}
          url={version.pdf_url}
          version={version.version}
          onClose={() => onView(false)}
        />
      )}
    </article>
  );
}

function PortalCase({ id }: { id: number }) {
  const { t } = useI18n();
  const reports = useCaseReports(id);
  const [params, setParams] = useSearchParams();
  const viewing = Number(params.get("view"));
  if (reports.isPending) {
    return (
      <p className="state state--loading" role="status">
        {t("portal.loading")}
      </p>
    );
  }
  if (reports.error) {
    if (reports.error instanceof ApiError && reports.error.status === 404) return <NotFound />;
    return (
      <div role="alert" className="state state--error">
        {reports.error.message}
      </div>
    );
  }
  const { case: found, versions } = reports.data;
  // Newest first: the version that replaced each one is the signed one listed just above it.
  const newer = (index: number): number | null => {
    for (let i = index - 1; i >= 0; i--) {
      const v = versions[i]!;
      if (v.signed && !v.recalled && versions[index]!.signed) return v.version;
    }
    return null;
  };
  return (
    <section className="portal-case" data-testid="portal-case-reports">
      <p>
        <Link to="/portal">{t("portal.back")}</Link>
      </p>
      <h1>{t("portal.caseHeading", { accession: found.accession, patient: found.patient_name })}</h1>
      {versions.length === 0 && <p className="state">{t("portal.noReports")}</p>}
      {versions.map((version, index) => (
        <VersionCard
          key={version.report_id}
          version={version}
          newer={newer(index)}
          viewing={viewing === version.report_id}
          onView={(open) => setParams(open ? { view: String(version.report_id) } : {})}
        />
      ))}
    </section>
  );
}

export function PortalCaseRoute() {
  const { caseId } = useParams();
  const id = Number(caseId);
  if (!Number.isInteger(id) || id <= 0) return <NotFound />;
  return <PortalCase key={id} id={id} />;
}
