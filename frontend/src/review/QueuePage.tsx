// The worklist: drafts waiting for sign-out in the department, sorted and filtered, with
// batch sign-out of the selected ones under one password.
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { ApiError } from "../api/client";
import { useMe } from "../app/useMe";
import { useI18n } from "../i18n";
import type { MessageKey } from "../i18n";
import { useQueue, useSignBatch } from "./api";
import type { BatchResult, QueueFilters, QueueItem, QueueOrdering } from "./api";
import { ageOf, percent } from "./format";
import { SignDialog } from "./SignDialog";
import { SignedBanner } from "./SignedBanner";

const ORDERINGS: [QueueOrdering, MessageKey][] = [
  ["priority", "review.sort.priority"],
  ["-age", "review.sort.oldest"],
  ["age", "review.sort.newest"],
  ["-triage", "review.sort.triageHigh"],
  ["triage", "review.sort.triageLow"],
  ["case_type", "review.sort.caseType"],
];

const PRIORITIES = ["stat", "urgent", "routine"] as const;

function priorityKey(priority: string): MessageKey {
  return (PRIORITIES as readonly string[]).includes(priority)
    ? (`priority.${priority}` as MessageKey)
    : "review.any";
}

function QueueRow(props: {
  item: QueueItem;
  selected: boolean;
  onToggle: () => void;
  onOpen: () => void;
}) {
  const { t } = useI18n();
  const { item } = props;
  const age = ageOf(item.age_seconds);
  return (
    <tr
      data-testid="queue-row"
      data-accession={item.accession}
      className={`queue-row priority-${item.priority}`}
      onDoubleClick={props.onOpen}
    >
      <td>
        <input
          type="checkbox"
          aria-label={t("review.selectCase", { accession: item.accession })}
          checked={props.selected}
          onChange={props.onToggle}
        />
      </td>
      <td>
        <span className={`badge badge--${item.priority}`}>{t(priorityKey(item.priority))}</span>
      </td>
      <td>
        <Link to={`/review/${item.report_id}`} aria-label={t("review.open", { accession: item.accession })}>
          {item.accession}
        </Link>
      </td>
      <td>{item.case_type}</td>
      <td>{item.template}</td>
      <td className="review-num">{percent(item.triage)}</td>
      <td className="review-num">{t(age.key, { n: age.n })}</td>
    </tr>
  );
}

function BatchOutcome({ results, items }: { results: BatchResult[]; items: QueueItem[] }) {
  const { t } = useI18n();
  const accession = (id: number) => items.find((i) => i.report_id === id)?.accession ?? String(id);
  const signed = results.filter((r) => r.signed).length;
  return (
    <div className="review-banner review-banner--ok" role="status" data-testid="batch-result">
      <p>{t("review.batchDone", { signed, count: results.length })}</p>
      <ul>
        {results
          .filter((r) => !r.signed)
          .map((r) => (
            <li key={r.report_id} className="error-text">
              {t("review.batchBlocked", {
                accession: accession(r.report_id),
                problems: r.problems.join("; "),
              })}
            </li>
          ))}
      </ul>
    </div>
  );
}

export function QueuePage() {
  const { t } = useI18n();
  const me = useMe();
  const navigate = useNavigate();
  const [filters, setFilters] = useState<QueueFilters>({
    ordering: "priority",
    caseType: "",
    priority: "",
    minTriage: "",
  });
  const queue = useQueue(filters);
  const batch = useSignBatch();
  const [selected, setSelected] = useState<ReadonlySet<number>>(new Set());
  const [signing, setSigning] = useState(false);
  const [lastBatch, setLastBatch] = useState<{ results: BatchResult[]; items: QueueItem[] }>();
  const items = queue.data ?? [];
  const chosen = items.filter((i) => selected.has(i.report_id));

  const toggle = (id: number) =>
    setSelected((old) => {
      const next = new Set(old);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const signBatch = (password: string) =>
    batch.mutate(
      { reports: chosen.map((i) => i.report_id), password },
      {
        onSuccess: (results) => {
          setLastBatch({ results, items: chosen });
          setSelected(new Set());
          setSigning(false);
        },
      },
    );

  const update = (change: Partial<QueueFilters>) => setFilters((old) => ({ ...old, ...change }));

  return (
    <section className="review-queue" data-testid="review-queue">
      <SignedBanner />
      <h1>{t("review.heading")}</h1>
      <p className="muted">
        {t("review.caption", { department: me?.department?.name ?? "" })}
      </p>
      <div className="review-toolbar">
        <label>
          {t("review.sortBy")}{" "}
          <select
            data-testid="queue-ordering"
            value={filters.ordering}
            onChange={(e) => update({ ordering: e.target.value as QueueOrdering })}
          >
            {ORDERINGS.map(([value, key]) => (
              <option key={value} value={value}>
                {t(key)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("review.filterPriority")}{" "}
          <select
            data-testid="queue-priority"
            value={filters.priority}
            onChange={(e) => update({ priority: e.target.value as QueueFilters["priority"] })}
          >
            <option value="">{t("review.any")}</option>
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {t(priorityKey(p))}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("review.filterCaseType")}{" "}
          <input
            data-testid="queue-case-type"
            value={filters.caseType}
            onChange={(e) => update({ caseType: e.target.value.trim() })}
          />
        </label>
        <label>
          {t("review.filterTriage")}{" "}
          <input
            data-testid="queue-min-triage"
            type="number"
            min={0}
            max={100}
            value={filters.minTriage}
            onChange={(e) => update({ minTriage: e.target.value })}
          />
        </label>
        <button
          type="button"
          className="primary"
          data-testid="sign-selected"
          disabled={chosen.length === 0}
          onClick={() => setSigning(true)}
        >
          {t("review.signSelected", { count: chosen.length })}
        </button>
      </div>
      {lastBatch && <BatchOutcome {...lastBatch} />}
      {queue.isPending && (
        <p className="state state--loading" role="status">
          {t("review.loading")}
        </p>
      )}
      {queue.error && (
        <div role="alert" className="state state--error">
          <strong>{t("review.errorTitle")}</strong> <span>{queue.error.message}</span>
        </div>
      )}
      {queue.data && items.length === 0 && <p className="state">{t("review.empty")}</p>}
      {items.length > 0 && (
        <table className="table" data-testid="queue-table">
          <thead>
            <tr>
              <th scope="col">
                <span className="visually-hidden">{t("review.col.select")}</span>
              </th>
              <th scope="col">{t("review.col.priority")}</th>
              <th scope="col">{t("review.col.accession")}</th>
              <th scope="col">{t("review.col.caseType")}</th>
              <th scope="col">{t("review.col.template")}</th>
              <th scope="col">{t("review.col.triage")}</th>
              <th scope="col">{t("review.col.age")}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <QueueRow
                key={item.report_id}
                item={item}
                selected={selected.has(item.report_id)}
                onToggle={() => toggle(item.report_id)}
                onOpen={() => void navigate(`/review/${item.report_id}`)}
              />
            ))}
          </tbody>
        </table>
      )}
      {signing && (
        <SignDialog
          title={t("sign.batchTitle", { count: chosen.length })}
          working={batch.isPending}
          error={batch.error ? batch.error.message : null}
          problems={batch.error instanceof ApiError ? batch.error.problems : []}
          onSubmit={signBatch}
          onCancel={() => {
            setSigning(false);
            batch.reset();
          }}
        />
      )}
    </section>
  );
}
