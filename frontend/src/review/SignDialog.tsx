// The electronic signature: the signer's password again, with what signing means.
import { useState } from "react";
import type { FormEvent, ReactNode } from "react";
import { useI18n } from "../i18n";

export interface SignDialogProps {
  title: string;
  working: boolean;
  error: string | null;
  problems?: readonly string[];
  submitLabel?: string;
  onSubmit: (password: string) => void;
  onCancel: () => void;
  children?: ReactNode;
}

export function SignDialog(props: SignDialogProps) {
  const { t } = useI18n();
  const [password, setPassword] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (password && !props.working) props.onSubmit(password);
  };
  return (
    <div className="dialog-backdrop">
      <form
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="sign-title"
        data-testid="sign-dialog"
        onSubmit={submit}
        onKeyDown={(event) => {
          if (event.key === "Escape") props.onCancel();
        }}
      >
        <h2 id="sign-title">{props.title}</h2>
        {props.children}
        <p className="muted">{t("sign.meaning")}</p>
        <label htmlFor="sign-password">{t("sign.password")}</label>
        <input
          id="sign-password"
          type="password"
          autoComplete="current-password"
          autoFocus
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
        {props.error && (
          <div role="alert" className="error-text" data-testid="sign-error">
            {props.error}
            {props.problems && props.problems.length > 0 && (
              <ul>
                {props.problems.map((p) => (
                  <li key={p}>{p}</li>
                ))}
              </ul>
            )}
          </div>
        )}
        <div className="dialog-actions">
          <button type="submit" className="primary" disabled={!password || props.working}>
            {props.working ? t("sign.working") : (props.submitLabel ?? t("sign.submit"))}
          </button>
          <button type="button" onClick={props.onCancel}>
            {t("sign.cancel")}
          </button>
        </div>
      </form>
    </div>
  );
}
