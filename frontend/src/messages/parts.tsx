// Small pieces shared by the console's list and detail screens.
import { useState } from "react";
import type { MessageKey } from "../i18n";
import { useI18n } from "../i18n";
import { hl7Segments, parsedSegments } from "./search";

export function MessageStatus({ status }: { status: string }) {
  const { t } = useI18n();
  const key = `msgstatus.${status}`;
  const known = ["received", "processed", "error", "rejected", "failed", "queued", "sending"]
    .concat(["delivered", "stopped", "withdrawn"])
    .includes(status);
  const variant = status === "processed" || status === "delivered" ? "succeeded" : status;
  return (
    <span className={`badge badge--${known ? variant : "unknown"}`} data-status={status}>
      {known ? t(key as MessageKey) : status}
    </span>
  );
}

/** Raw on the left (one segment a line), parsed on the right (segment → field → value). */
export function RawAndParsed({ raw, parsed }: { raw: string | null; parsed: unknown }) {
  const { t } = useI18n();
  if (raw === null) return <p className="muted">{t("msg.withheld")}</p>;
  const segments = parsedSegments(parsed);
  return (
    <div className="msg-side-by-side">
      <section aria-label={t("msg.raw")}>
        <h3>{t("msg.raw")}</h3>
        <pre className="msg-raw" data-testid="msg-raw">
          {hl7Segments(raw).map((line, i) => (
            <div key={i} className="msg-segment-line">
              {line}
            </div>
          ))}
        </pre>
      </section>
      <section aria-label={t("msg.parsed")}>
        <h3>{t("msg.parsed")}</h3>
        {segments === null ? (
          <p className="muted">{t("msg.unparsed")}</p>
        ) : (
          <table className="msg-parsed" data-testid="msg-parsed">
            <thead>
              <tr>
                <th scope="col">{t("msg.segment")}</th>
                <th scope="col">{t("msg.field")}</th>
                <th scope="col">{t("msg.value")}</th>
              </tr>
            </thead>
            {segments.map((segment, i) => (
              <tbody key={i}>
                {segment.fields.map(([name, value], j) => (
                  <tr key={name}>
                    {j === 0 ? (
                      <th scope="rowgroup" rowSpan={segment.fields.length}>
                        {segment.segment}
                      </th>
                    ) : null}
                    <td className="msg-field">{name}</td>
                    <td className="msg-value">{value}</td>
                  </tr>
                ))}
              </tbody>
            ))}
          </table>
        )}
      </section>
    </div>
  );
}

/** An action button that asks first; the caller shows the result or the API's error. */
export function ConfirmedAction(props: {
  label: string;
  question: string;
  busy: boolean;
  onConfirm: () => void;
}) {
  const { t } = useI18n();
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" onClick={() => setAsking(true)} disabled={props.busy}>
        {props.label}
      </button>
    );
  }
  return (
    <div role="alertdialog" aria-label={props.label} className="msg-confirm">
      <p>{props.question}</p>
      <button
        type="button"
        className="danger-button"
        onClick={() => {
          setAsking(false);
          props.onConfirm();
        }}
      >
        {t("msg.confirmYes")}
      </button>{" "}
      <button type="button" onClick={() => setAsking(false)}>
        {t("msg.confirmNo")}
      </button>
    </div>
  );
}
