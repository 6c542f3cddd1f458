import { useI18n } from "../i18n";
import type { MessageKey } from "../i18n";
import type { NotReadyState } from "./loadState";

export interface NotReadyProps {
  state: NotReadyState;
  /** Prefix of the test ids, e.g. "runs" gives "runs-loading" and "runs-error". */
  testIdPrefix: string;
  loading: MessageKey;
  errorTitle: MessageKey;
  onRetry: () => void;
}

/** What a runs page shows before its data is ready: loading, on the way to sign in, or the
 * error with a retry button. */
export function NotReady({ state, testIdPrefix, loading, errorTitle, onRetry }: NotReadyProps) {
  const { t } = useI18n();
  switch (state.kind) {
    case "loading":
      return (
        <p className="state state--loading" role="status" data-testid={`${testIdPrefix}-loading`}>
          {t(loading)}
        </p>
      );
    case "redirecting":
      return (
        <p className="state" role="status">
          {t("runs.redirecting")}
        </p>
      );
    case "error":
      return (
        <div className="state state--error" role="alert" data-testid={`${testIdPrefix}-error`}>
          <p>
            <strong>{t(errorTitle)}</strong>
          </p>
          <p className="error-text">{state.message}</p>
          <button type="button" onClick={onRetry}>
            {t("runs.retry")}
          </button>
        </div>
      );
  }
}

/** The pulsing "refreshing on its own" tag of a page that polls. */
export function LiveTag({ label, testId }: { label: string; testId: string }) {
  return (
    <span className="muted polling" data-testid={testId}>
      <span className="pulse" aria-hidden="true" />
      {label}
    </span>
  );
}
