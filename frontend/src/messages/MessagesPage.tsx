import { useState } from "react";
import type { FormEvent, ReactNode } from "react";
import { Link, useSearchParams } from "react-router";
import { useI18n } from "../i18n";
import type { MessageKey } from "../i18n";
import { formatDateTime } from "../lib/format";
import type { Delivery, DeliveryQueue, InboundMessage } from "./api";
import { useInboundList, useOutboundList, useQueues } from "./api";
import { MessageStatus } from "./parts";
import {
  EMPTY_SEARCH,
  INBOUND_STATUSES,
  OUTBOUND_STATUSES,
  formatAge,
  inboundPath,
  outboundPath,
  pageCount,
  paramsFromSearch,
  searchFromParams,
} from "./search";
import type { Search, Tab } from "./search";
import "./messages.css";

/** The message console at /app/messages: ?tab=inbound|outbound and the search in the URL. */
export function MessagesPage() {
  const { t } = useI18n();
  const [params, setParams] = useSearchParams();
  const search = searchFromParams(params);
  const go = (next: Search) => setParams(paramsFromSearch(next));
  const tabs: [Tab, MessageKey][] = [
    ["inbound", "msg.tabInbound"],
    ["outbound", "msg.tabOutbound"],
  ];
  return (
    <section className="runs-page msg-page" aria-labelledby="msg-heading">
      <h1 id="msg-heading">{t("msg.heading")}</h1>
      <div role="tablist" className="msg-tabs">
        {tabs.map(([tab, label]) => (
          <button
            key={tab}
            type="button"
            role="tab"
            aria-selected={search.tab === tab}
            onClick={() => go({ ...EMPTY_SEARCH, tab })}
          >
            {t(label)}
          </button>
        ))}
      </div>
      <div role="tabpanel">
        {search.tab === "outbound" ? <QueueSummary /> : null}
        <SearchForm key={params.toString()} search={search} onSearch={go} />
        {search.tab === "inbound" ? (
          <InboundList search={search} onPage={go} />
        ) : (
          <OutboundList search={search} onPage={go} />
        )}
      </div>
    </section>
  );
}

function SearchForm({ search, onSearch }: { search: Search; onSearch: (s: Search) => void }) {
  const { t } = useI18n();
  const [draft, setDraft] = useState(search);
  const statuses = search.tab === "inbound" ? INBOUND_STATUSES : OUTBOUND_STATUSES;
  const destinations = withChosen(useQueues(search.tab === "outbound").data ?? [], search);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSearch({ ...draft, page: 1 });
  };
  const text = (field: "accession" | "mrn" | "controlId", label: MessageKey) => (
    <label>
      {t(label)}
      <input
        name={field}
        value={draft[field]}
        onChange={(e) => setDraft({ ...draft, [field]: e.target.value })}
      />
    </label>
  );
  return (
    <form className="msg-search" role="search" aria-label={t("msg.searchLabel")} onSubmit={submit}>
      {text("accession", "msg.accession")}
      {text("mrn", "msg.mrn")}
      {text("controlId", "msg.controlId")}
      <label>
        {t("msg.status")}
        <select
          name="status"
          value={draft.status}
          onChange={(e) => setDraft({ ...draft, status: e.target.value })}
        >
          <option value="">{t("msg.anyStatus")}</option>
          {statuses.map((s) => (
            <option key={s} value={s}>
              {t(`msgstatus.${s}`)}
            </option>
          ))}
        </select>
      </label>
      {search.tab === "outbound" ? (
        <label>
          {t("msg.destination")}
          <select
            name="destination"
            value={draft.destination}
            onChange={(e) => setDraft({ ...draft, destination: e.target.value })}
          >
            <option value="">{t("msg.anyDestination")}</option>
            {destinations.map((q) => (
              <option key={q.destination} value={q.destination}>
                {q.name}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      <label>
        {t("msg.from")}
        <input
          type="date"
          name="from"
          value={draft.from}
          onChange={(e) => setDraft({ ...draft, from: e.target.value })}
        />
      </label>
      <label>
        {t("msg.to")}
        <input
          type="date"
          name="to"
          value={draft.to}
          onChange={(e) => setDraft({ ...draft, to: e.target.value })}
        />
      </label>
      <button type="submit">{t("msg.search")}</button>
      <button type="button" onClick={() => onSearch({ ...EMPTY_SEARCH, tab: search.tab })}>
        {t("msg.clear")}
      </button>
    </form>
  );
}

/** The department's destinations to filter by, and the one in the URL even when it is no
 * longer configured (so the form shows what the list is filtered by). */
function withChosen(queues: DeliveryQueue[], search: Search): { destination: string; name: string }[] {
  const options = queues.map((q) => ({ destination: q.destination, name: q.name }));
  if (search.destination && !options.some((o) => o.destination === search.destination)) {
    options.push({ destination: search.destination, name: search.destination });
  }
  return options;
}

interface ListState {
  isPending: boolean;
  error: Error | null;
}

/** Loading / error / empty, or null when there are rows to show. */
function ListStatus({ state, rows }: { state: ListState; rows: number }) {
  const { t } = useI18n();
  if (state.error) {
    return (
      <p className="error-text" role="alert">
        {t("msg.errorTitle", { message: state.error.message })}
      </p>
    );
  }
  if (state.isPending) return <p className="state">{t("msg.loading")}</p>;
  if (rows === 0) return <p className="state state--empty">{t("msg.empty")}</p>;
  return null;
}

function Pager(props: { search: Search; count: number; onPage: (s: Search) => void }) {
  const { t } = useI18n();
  const pages = pageCount(props.count);
  const { page } = props.search;
  return (
    <nav className="msg-pager" aria-label={t("msg.page", { page, pages, count: props.count })}>
      <button
        type="button"
        disabled={page <= 1}
        onClick={() => props.onPage({ ...props.search, page: page - 1 })}
      >
        {t("msg.prev")}
      </button>
      <span className="muted">{t("msg.page", { page, pages, count: props.count })}</span>
      <button
        type="button"
        disabled={page >= pages}
        onClick={() => props.onPage({ ...props.search, page: page + 1 })}
      >
        {t("msg.next")}
      </button>
    </nav>
  );
}

interface Column<T> {
  label: MessageKey;
  cell: (row: T, locale: string) => ReactNode;
  className?: string;
}

interface Page<T> {
  results?: T[];
  count?: number;
}

/** One tab's list: its state, a table of `columns` with a link to each message, the pager. */
function MessageList<T extends { id: number }>(props: {
  query: { data?: Page<T>; isPending: boolean; error: Error | null };
  search: Search;
  onPage: (s: Search) => void;
  tab: Tab;
  caption: MessageKey;
  columns: Column<T>[];
  path: (id: number) => string;
}) {
  const { t, locale } = useI18n();
  const { query, search, tab } = props;
  const rows = query.data?.results ?? [];
  const count = query.data?.count ?? 0;
  const back = paramsFromSearch(search).toString();
  return (
    <>
      <ListStatus state={{ isPending: query.isPending, error: query.error }} rows={rows.length} />
      {rows.length > 0 ? (
        <div className="table-scroll">
          <table data-testid={`${tab}-table`}>
            <caption className="visually-hidden">{t(props.caption)}</caption>
            <thead>
              <tr>
                {props.columns.map((c) => (
                  <th key={c.label} scope="col">
                    {t(c.label)}
                  </th>
                ))}
                <th scope="col">
                  <span className="visually-hidden">{t("msg.open")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.id} data-testid={`${tab}-row`}>
                  {props.columns.map((c) => (
                    <td key={c.label} className={c.className}>
                      {c.cell(row, locale)}
                    </td>
                  ))}
                  <td>
                    <Link
                      to={`${props.path(row.id)}?${back}`}
                      aria-label={t("msg.openLabel", { id: row.id })}
                    >
                      {t("msg.open")}
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {count > 0 ? <Pager search={search} count={count} onPage={props.onPage} /> : null}
    </>
  );
}

const INBOUND_COLUMNS: Column<InboundMessage>[] = [
  { label: "msg.received", cell: (m, locale) => formatDateTime(m.received_at ?? null, locale) },
  { label: "msg.type", cell: (m) => m.message_type },
  { label: "msg.controlId", cell: (m) => m.control_id },
  { label: "msg.accession", cell: (m) => m.accession, className: "accession" },
  { label: "msg.mrn", cell: (m) => m.patient_mrn },
  { label: "msg.status", cell: (m) => <MessageStatus status={m.status} /> },
  { label: "msg.ack", cell: (m) => m.ack_code },
];

const OUTBOUND_COLUMNS: Column<Delivery>[] = [
  { label: "msg.queued", cell: (d, locale) => formatDateTime(d.queued_at, locale) },
  { label: "msg.destination", cell: (d) => d.destination },
  { label: "msg.event", cell: (d) => d.event },
  { label: "msg.controlId", cell: (d) => d.control_id },
  { label: "msg.accession", cell: (d) => d.accession, className: "accession" },
  { label: "msg.mrn", cell: (d) => d.mrn },
  { label: "msg.status", cell: (d) => <MessageStatus status={d.status} /> },
  { label: "msg.attempts", cell: (d) => d.attempts ?? 0, className: "num" },
];

function InboundList({ search, onPage }: { search: Search; onPage: (s: Search) => void }) {
  const query = useInboundList(search, true);
  return (
    <MessageList
      query={query}
      search={search}
      onPage={onPage}
      tab="inbound"
      caption="msg.inboundCaption"
      columns={INBOUND_COLUMNS}
      path={inboundPath}
    />
  );
}

function OutboundList({ search, onPage }: { search: Search; onPage: (s: Search) => void }) {
  const query = useOutboundList(search, true);
  return (
    <MessageList
      query={query}
      search={search}
      onPage={onPage}
      tab="outbound"
      caption="msg.outboundCaption"
      columns={OUTBOUND_COLUMNS}
      path={outboundPath}
    />
  );
}

/** Per destination: how many wait, since when, and the one open incident (not one per message). */
function QueueSummary() {
  const { t } = useI18n();
  const query = useQueues(true);
  if (query.error) {
    return (
      <p className="error-text" role="alert">
        {t("msg.errorTitle", { message: query.error.message })}
      </p>
    );
  }
  if (!query.data) return null;
  if (query.data.length === 0) return <p className="muted">{t("msg.noQueues")}</p>;
  return (
    <div className="table-scroll">
      <table className="msg-queues" data-testid="queue-summary">
        <caption>{t("msg.queues")}</caption>
        <thead>
          <tr>
            <th scope="col">{t("msg.destination")}</th>
            <th scope="col">{t("msg.queueDepth")}</th>
            <th scope="col">{t("msg.queueOldest")}</th>
            <th scope="col">{t("msg.queueIncident")}</th>
          </tr>
        </thead>
        <tbody>
          {query.data.map((q) => (
            <tr key={q.destination} className={q.alert ? "msg-queue--alert" : undefined}>
              <th scope="row">
                {q.name}{" "}
                {q.held ? <span className="tag">{t("msg.queueHeld")}</span> : null}
                {!q.enabled ? <span className="tag">{t("msg.queueDisabled")}</span> : null}
              </th>
              <td className="num">{q.depth}</td>
              <td>{formatAge(q.oldest_age_s)}</td>
              <td>{q.alert ? q.alert.summary : <span className="muted">{t("msg.noIncident")}</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
