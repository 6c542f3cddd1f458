// The dashboard's five figures: each a chart over the range and its tables with CSV downloads.
import { useMemo } from "react";
import type { ReactNode } from "react";
import type { EChartsCoreOption } from "echarts/core";
import { useI18n } from "../i18n";
import type { MessageKey } from "../i18n";
import { useFigure } from "./api";
import type { Agreement, Failures, Queue, Throughput, Turnaround } from "./api";
import { Chart } from "./Chart";
import { DataTable } from "./DataTable";
import type { Column } from "./DataTable";
import { csvUrl, daysBetween } from "./filters";
import type { Filters } from "./filters";
import {
  SEGMENTS,
  acceptanceSeries,
  boxplotSeries,
  formatMinutes,
  formatRate,
  seriesByCaseType,
  totalPerDay,
} from "./series";

type Props = { filters: Filters };

function Section(props: {
  id: string;
  heading: MessageKey;
  help: MessageKey;
  state: { isPending: boolean; error: Error | null; isFetching: boolean };
  children: ReactNode;
}) {
  const { t } = useI18n();
  let body = props.children;
  if (props.state.error) {
    body = (
      <p className="error-text" role="alert">
        {t("dash.error", { message: props.state.error.message })}
      </p>
    );
  } else if (props.state.isPending) {
    body = (
      <p className="state state--loading" role="status">
        {t("dash.loading")}
      </p>
    );
  }
  return (
    <section
      className="dash-section"
      aria-labelledby={`dash-${props.id}`}
      data-testid={`dash-${props.id}`}
      aria-busy={props.state.isFetching}
    >
      <h2 id={`dash-${props.id}`}>{t(props.heading)}</h2>
      <p className="dash-help">{t(props.help)}</p>
      {body}
    </section>
  );
}

function base(legend: string[]): EChartsCoreOption {
  return {
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { data: legend, top: 0 },
    grid: { left: 56, right: 24, top: 40, bottom: 40 },
  };
}

const num = <R,>(key: string, label: string, value: (r: R) => ReactNode): Column<R> => ({
  key,
  label,
  value,
  numeric: true,
});

export function TurnaroundSection({ filters }: Props) {
  const { t } = useI18n();
  const query = useFigure("turnaround", filters);
  const data: Turnaround | undefined = query.data;
  const option = useMemo(() => {
    const boxes = boxplotSeries(data?.by_case_type ?? []);
    return {
      ...base(boxes.map((b) => b.name)),
      tooltip: { trigger: "item" },
      xAxis: { type: "category", data: SEGMENTS.map((s) => t(`dash.segment.${s}` as const)) },
      yAxis: { type: "value", name: t("dash.axis.hours") },
      series: boxes.map((b) => ({ name: b.name, type: "boxplot", data: b.data.map((d) => d ?? "-") })),
    };
  }, [data, t]);
  type Segment = Turnaround["by_case_type"][number];
  type Day = Turnaround["by_day"][number];
  const segmentColumns: Column<Segment>[] = [
    { key: "type", label: t("dash.col.caseType"), value: (r) => r.case_type },
    { key: "segment", label: t("dash.segment"), value: (r) => t(`dash.segment.${r.segment}` as MessageKey) },
    num("n", t("dash.col.n"), (r) => r.n),
    num("median", t("dash.col.median"), (r) => formatMinutes(r.median)),
    num("p90", t("dash.col.p90"), (r) => formatMinutes(r.p90)),
    num("mean", t("dash.col.mean"), (r) => formatMinutes(r.mean)),
    num("max", t("dash.col.max"), (r) => formatMinutes(r.max)),
  ];
  const dayColumns: Column<Day>[] = [
    { key: "day", label: t("dash.col.day"), value: (r) => r.day },
    { key: "type", label: t("dash.col.caseType"), value: (r) => r.case_type },
    num("signed", t("dash.col.signed"), (r) => r.signed),
    num("rsm", t("dash.col.receivedToSignedMedian"), (r) => formatMinutes(r.received_to_signed_median)),
    num("rsp", t("dash.col.receivedToSignedP90"), (r) => formatMinutes(r.received_to_signed_p90)),
    num("dsm", t("dash.col.draftToSignedMedian"), (r) => formatMinutes(r.draft_to_signed_median)),
    num("rdm", t("dash.col.receivedToDeliveredMedian"), (r) => formatMinutes(r.received_to_delivered_median)),
  ];
  return (
    <Section id="turnaround" heading="dash.turnaround.heading" help="dash.turnaround.help" state={query}>
      <Chart option={option} label={t("dash.turnaround.chart")} testId="chart-turnaround" />
      <DataTable
        caption={t("dash.turnaround.byCaseType")}
        columns={segmentColumns}
        rows={(data?.by_case_type ?? []).filter((r) => r.n > 0)}
        csv={csvUrl("turnaround", "by_case_type", filters)}
        testId="table-turnaround-by_case_type"
      />
      <DataTable
        caption={t("dash.turnaround.byDay")}
        columns={dayColumns}
        rows={data?.by_day ?? []}
        csv={csvUrl("turnaround", "by_day", filters)}
        testId="table-turnaround-by_day"
      />
    </Section>
  );
}

export function ThroughputSection({ filters }: Props) {
  const { t } = useI18n();
  const query = useFigure("throughput", filters);
  const data: Throughput | undefined = query.data;
  const option = useMemo(() => {
    const rows = data?.by_day ?? [];
    const days = daysBetween(filters.from, filters.to);
    const signed = seriesByCaseType(rows, days, (r) => r.signed);
    const received = t("dash.throughput.receivedAll");
    return {
      ...base([...signed.map((s) => s.name), received]),
      xAxis: { type: "category", data: days },
      yAxis: { type: "value", name: t("dash.axis.cases"), minInterval: 1 },
      series: [
        ...signed.map((s) => ({ ...s, type: "bar", stack: "signed" })),
        { name: received, type: "line", data: totalPerDay(rows, days, (r) => r.received) },
      ],
    };
  }, [data, filters.from, filters.to, t]);
  type Row = Throughput["by_day"][number];
  const columns: Column<Row>[] = [
    { key: "day", label: t("dash.col.day"), value: (r) => r.day },
    { key: "type", label: t("dash.col.caseType"), value: (r) => r.case_type },
    num("received", t("dash.col.received"), (r) => r.received),
    num("draft", t("dash.col.draftReady"), (r) => r.draft_ready),
    num("signed", t("dash.col.signed"), (r) => r.signed),
    num("delivered", t("dash.col.delivered"), (r) => r.delivered),
  ];
  return (
    <Section id="throughput" heading="dash.throughput.heading" help="dash.throughput.help" state={query}>
      <Chart option={option} label={t("dash.throughput.chart")} testId="chart-throughput" />
      <DataTable
        caption={t("dash.throughput.table")}
        columns={columns}
        rows={data?.by_day ?? []}
        csv={csvUrl("throughput", "by_day", filters)}
        testId="table-throughput-by_day"
      />
    </Section>
  );
}

export function QueueSection({ filters }: Props) {
  const { t } = useI18n();
  const query = useFigure("queue", filters);
  const data: Queue | undefined = query.data;
  const option = useMemo(() => {
    const days = daysBetween(filters.from, filters.to);
    const series = seriesByCaseType(data?.by_day ?? [], days, (r) => r.waiting);
    return {
      ...base(series.map((s) => s.name)),
      xAxis: { type: "category", data: days },
      yAxis: { type: "value", name: t("dash.axis.cases"), minInterval: 1 },
      series: series.map((s) => ({ ...s, type: "line", step: "end" })),
    };
  }, [data, filters.from, filters.to, t]);
  type Row = Queue["by_day"][number];
  const columns: Column<Row>[] = [
    { key: "day", label: t("dash.col.day"), value: (r) => r.day },
    { key: "type", label: t("dash.col.caseType"), value: (r) => r.case_type },
    num("waiting", t("dash.col.waiting"), (r) => r.waiting),
  ];
  return (
    <Section id="queue" heading="dash.queue.heading" help="dash.queue.help" state={query}>
      <Chart option={option} label={t("dash.queue.chart")} testId="chart-queue" />
      <DataTable
        caption={t("dash.queue.table")}
        columns={columns}
        rows={data?.by_day ?? []}
        csv={csvUrl("queue", "by_day", filters)}
        testId="table-queue-by_day"
      />
    </Section>
  );
}

type Counts = { accepted: number; edited: number; cleared: number; total: number; acceptance_rate: number };

function countColumns<R extends Counts>(t: (key: MessageKey) => string): Column<R>[] {
  return [
    num("accepted", t("dash.col.accepted"), (r) => r.accepted),
    num("edited", t("dash.col.edited"), (r) => r.edited),
    num("cleared", t("dash.col.cleared"), (r) => r.cleared),
    num("total", t("dash.col.total"), (r) => r.total),
    num("rate", t("dash.col.rate"), (r) => formatRate(r.acceptance_rate)),
  ];
}

export function AgreementSection({ filters }: Props) {
  const { t } = useI18n();
  const query = useFigure("agreement", filters);
  const data: Agreement | undefined = query.data;
  const option = useMemo(() => {
    const { buckets, series } = acceptanceSeries(data?.over_time ?? []);
    return {
      ...base(series.map((s) => s.name)),
      xAxis: { type: "category", data: buckets },
      yAxis: { type: "value", name: t("dash.axis.percent"), min: 0, max: 100 },
      series: series.map((s) => ({ ...s, type: "line", connectNulls: false, symbolSize: 8 })),
    };
  }, [data, t]);
  type Model = Agreement["by_model"][number];
  type Over = Agreement["over_time"][number];
  type Workflow = Agreement["by_workflow"][number];
  const modelKeys: Column<Model>[] = [
    { key: "endpoint", label: t("dash.col.endpoint"), value: (r) => r.endpoint },
    { key: "model", label: t("dash.col.model"), value: (r) => r.model_name },
    { key: "version", label: t("dash.col.version"), value: (r) => r.model_version },
    { key: "element", label: t("dash.col.element"), value: (r) => r.element },
  ];
  const overColumns: Column<Over>[] = [
    { key: "bucket", label: t(filters.bucket === "week" ? "dash.bucket.week" : "dash.col.day"), value: (r) => r.bucket },
    ...(modelKeys as unknown as Column<Over>[]),
    ...countColumns<Over>(t),
  ];
  const workflowColumns: Column<Workflow>[] = [
    { key: "workflow", label: t("dash.col.workflow"), value: (r) => r.workflow },
    num("wv", t("dash.col.workflowVersion"), (r) => r.workflow_version),
    { key: "element", label: t("dash.col.element"), value: (r) => r.element },
    ...countColumns<Workflow>(t),
  ];
  const bucketWord = t(filters.bucket === "week" ? "dash.bucket.week" : "dash.bucket.day");
  return (
    <Section id="agreement" heading="dash.agreement.heading" help="dash.agreement.help" state={query}>
      <Chart option={option} label={t("dash.agreement.chart")} testId="chart-agreement" />
      <DataTable
        caption={t("dash.agreement.byModel")}
        columns={[...modelKeys, ...countColumns<Model>(t)]}
        rows={data?.by_model ?? []}
        csv={csvUrl("agreement", "by_model", filters)}
        testId="table-agreement-by_model"
      />
      <DataTable
        caption={t("dash.agreement.overTime", { bucket: bucketWord })}
        columns={overColumns}
        rows={data?.over_time ?? []}
        csv={csvUrl("agreement", "over_time", filters)}
        testId="table-agreement-over_time"
      />
      <DataTable
        caption={t("dash.agreement.byWorkflow")}
        columns={workflowColumns}
        rows={data?.by_workflow ?? []}
        csv={csvUrl("agreement", "by_workflow", filters)}
        testId="table-agreement-by_workflow"
      />
    </Section>
  );
}

export function FailuresSection({ filters }: Props) {
  const { t } = useI18n();
  const query = useFigure("failures", filters);
  const data: Failures | undefined = query.data;
  const option = useMemo(() => {
    const days = daysBetween(filters.from, filters.to);
    const runs = t("dash.failures.failedRuns");
    const deliveries = t("dash.failures.failedDeliveries");
    return {
      ...base([runs, deliveries]),
      xAxis: { type: "category", data: days },
      yAxis: { type: "value", name: t("dash.axis.cases"), minInterval: 1 },
      series: [
        { name: runs, type: "bar", data: totalPerDay(withCaseType(data?.runs), days, (r) => r.failed) },
        {
          name: deliveries,
          type: "bar",
          data: totalPerDay(withCaseType(data?.deliveries), days, (r) => r.failed + r.stopped),
        },
      ],
    };
  }, [data, filters.from, filters.to, t]);
  type Run = Failures["runs"][number];
  type Delivery = Failures["deliveries"][number];
  const runColumns: Column<Run>[] = [
    { key: "day", label: t("dash.col.day"), value: (r) => r.day },
    { key: "type", label: t("dash.col.caseType"), value: (r) => r.case_type },
    { key: "workflow", label: t("dash.col.workflow"), value: (r) => `${r.workflow} v${r.workflow_version}` },
    num("finished", t("dash.col.finished"), (r) => r.finished),
    num("failed", t("dash.col.failed"), (r) => r.failed),
  ];
  const deliveryColumns: Column<Delivery>[] = [
    { key: "day", label: t("dash.col.day"), value: (r) => r.day },
    { key: "destination", label: t("dash.col.destination"), value: (r) => r.destination },
    { key: "channel", label: t("dash.col.channel"), value: (r) => r.channel },
    num("queued", t("dash.col.queued"), (r) => r.queued),
    num("delivered", t("dash.col.delivered"), (r) => r.delivered),
    num("failed", t("dash.col.failed"), (r) => r.failed),
    num("stopped", t("dash.col.stopped"), (r) => r.stopped),
  ];
  return (
    <Section id="failures" heading="dash.failures.heading" help="dash.failures.help" state={query}>
      <Chart option={option} label={t("dash.failures.chart")} testId="chart-failures" />
      <DataTable
        caption={t("dash.failures.runs")}
        columns={runColumns}
        rows={data?.runs ?? []}
        csv={csvUrl("failures", "runs", filters)}
        testId="table-failures-runs"
      />
      <DataTable
        caption={t("dash.failures.deliveries")}
        columns={deliveryColumns}
        rows={data?.deliveries ?? []}
        csv={csvUrl("failures", "deliveries", filters)}
        testId="table-failures-deliveries"
      />
    </Section>
  );
}

/** Rows summed per day whatever their case type or destination. */
function withCaseType<R extends { day: string }>(rows: readonly R[] | undefined): (R & { case_type: string })[] {
  return (rows ?? []).map((r) => ({ ...r, case_type: "" }));
}
