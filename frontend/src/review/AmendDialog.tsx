// Amending, correcting or adding to a signed version: the kind, the reason printed in the
// banner, the fields changed in the cockpit, and the signature.
import { useState } from "react";
import { ApiError } from "../api/client";
import { useI18n } from "../i18n";
import { useAmend } from "./api";
import type { AmendRequest, ReviewDetail, Signed } from "./api";
import { SignDialog } from "./SignDialog";

const KINDS = ["amended", "corrected", "addendum"] as const;

export function AmendDialog(props: {
  detail: ReviewDetail;
  changes: Record<string, unknown>;
  lang: string;
  onDone: (amended: Signed) => void;
  onCancel: () => void;
}) {
  const { t } = useI18n();
  const amend = useAmend();
  const [kind, setKind] = useState<AmendRequest["kind"]>("amended");
  const [reason, setReason] = useState("");
  const labels = Object.keys(props.changes).map((id) => {
    const field = props.detail.elements.find((f) => f.id === id);
    return field ? (field.labels[props.lang] ?? field.labels.en ?? id) : id;
  });
  return (
    <SignDialog
      title={t("amend.title", { version: props.detail.version })}
      working={amend.isPending}
      error={amend.error ? amend.error.message : null}
      problems={amend.error instanceof ApiError ? amend.error.problems : []}
      submitLabel={t("amend.submit")}
      onSubmit={(password) =>
        amend.mutate(
          { id: props.detail.report_id, kind, reason, changes: props.changes, password },
          { onSuccess: props.onDone },
        )
      }
      onCancel={props.onCancel}
    >
      <label htmlFor="amend-kind">{t("amend.kind")}</label>
      <select
        id="amend-kind"
        data-testid="amend-kind"
        value={kind}
        onChange={(e) => setKind(e.target.value as AmendRequest["kind"])}
      >
        {KINDS.map((k) => (
          <option key={k} value={k}>
            {t(`amend.kind.${k}`)}
          </option>
        ))}
      </select>
      <label htmlFor="amend-reason">{t("amend.reason")}</label>
      <textarea
        id="amend-reason"
        data-testid="amend-reason"
        required
        value={reason}
        onChange={(e) => setReason(e.target.value)}
      />
      <p className="muted">
        {labels.length ? t("amend.changes", { fields: labels.join(", ") }) : t("amend.noChanges")}
      </p>
    </SignDialog>
  );
}
