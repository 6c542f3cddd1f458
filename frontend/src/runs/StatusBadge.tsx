import { statusLabel, useI18n } from "../i18n";
import { statusBadgeClass } from "../lib/status";

export function StatusBadge({ status }: { status: string }) {
  const { lang } = useI18n();
  return (
    <span className={statusBadgeClass(status)} data-status={status}>
      {statusLabel(lang, status)}
    </span>
  );
}
