// After a sign-out: what was signed and, while the window is open, the Recall button.
import { useEffect, useState } from "react";
import { Link, useNavigate } from "react-router";
import { ApiError } from "../api/client";
import { useI18n } from "../i18n";
import { useRecall } from "./api";
import { useLastSigned } from "./lastSigned";

export function SignedBanner() {
  const { t, locale } = useI18n();
  const { last, recalled, pending, failed, markRecalled, forget } = useLastSigned();
  const recall = useRecall();
  const navigate = useNavigate();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!last) return undefined;
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, [last]);

  const until = last ? new Date(last.recallUntil) : null;
  const open = until !== null && until.getTime() > now;
  useEffect(() => {
    if (last && !open) forget();
  }, [last, open, forget]);

  if (failed) {
    return (
      <div role="alert" className="review-banner review-banner--error" data-testid="sign-failed">
        <span>{t("signed.failed", { accession: failed.accession, message: failed.message })}</span>
        {failed.problems.length > 0 && (
          <ul>
            {failed.problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        )}
        <Link to={`/review/${failed.reportId}`}>
          {t("signed.openAgain", { accession: failed.accession })}
        </Link>
      </div>
    );
  }
  if (pending) {
    return (
      <div className="review-banner review-banner--info" role="status" data-testid="sign-pending">
        {t("signed.pending", { accession: pending.accession })}
      </div>
    );
  }
  if (recalled) {
    return (
      <div className="review-banner review-banner--info" role="status" data-testid="recalled-banner">
        {t("signed.recalled", { accession: recalled })}
      </div>
    );
  }
  if (!last || !until || !open) return null;
  return (
    <div className="review-banner review-banner--ok" role="status" data-testid="signed-banner">
      <span>{t("signed.banner", { accession: last.accession, version: last.version })} </span>
      <span className="muted">
        {t("signed.recallUntil", { time: until.toLocaleTimeString(locale) })}
      </span>
      <button
        type="button"
        data-testid="recall"
        disabled={recall.isPending}
        onClick={() =>
          recall.mutate(last.reportId, {
            onSuccess: (draft) => {
              markRecalled(last.accession);
              void navigate(`/review/${draft.report_id}`);
            },
          })
        }
      >
        {t("signed.recall")}
      </button>
      {recall.error && (
        <span className="error-text" role="alert">
          {recall.error instanceof ApiError ? recall.error.message : String(recall.error)}
        </span>
      )}
    </div>
  );
}
