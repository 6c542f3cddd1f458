import { useI18n } from "../i18n";
import type { NotReadyState } from "./loadState";

export interface NotReadyProps {
  state: NotReadyState;
  /** Whose texts ("runs.loading", "detail.errorTitle"...) and test ids ("runs-error"...). */
  page: "runs" | "detail";
  onRetry: () => void;
}

/** What a runs page shows before its data is ready: loading, on the way to sign in, or the
 * error with a retry button. */
export function NotReady({ state, page, onRetry }: NotReadyProps) {
  const { t } = useI18n();
  switch (state.kind) {
    case "loading":
      return (
        <p className="state state--loading" role="status" data-testid={`${page}-loading`}>
          {t(`${page}.loading`)}
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
        <div className="state state--error" role="alert" data-testid={`${page}-error`}>
          <p>
            <strong>{t(`${page}.errorTitle`)}</strong>
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
