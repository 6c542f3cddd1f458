import { useRef } from "react";
import { NavLink } from "react-router";
import type { Me } from "../api/models";
import { LANGS, isLang, useI18n } from "../i18n";
import { readCookie } from "../lib/http";
import { navFor } from "./routes";

const LOGOUT_URL = "/accounts/logout/";

export function Header({ me }: { me: Me | undefined }) {
  const { t, lang, setLang } = useI18n();
  const csrfInput = useRef<HTMLInputElement>(null);

  return (
    <header className="app-header">
      <div className="brand">
        <span className="brand-name">{t("app.title")}</span>
        <span className="brand-tagline">{t("app.tagline")}</span>
      </div>
      <nav className="app-nav" aria-label={t("nav.label")}>
        {navFor(me?.role).map((entry) => (
          <NavLink key={entry.to} to={entry.to} data-testid={`nav-${entry.to.slice(1).replace(/\//g, "-")}`}>
            {t(entry.label)}
          </NavLink>
        ))}
      </nav>
      <div className="header-tools">
        <label className="lang">
          <span className="visually-hidden">{t("lang.label")}</span>
          <select
            data-testid="lang-switch"
            value={lang}
            onChange={(event) => {
              if (isLang(event.target.value)) setLang(event.target.value);
            }}
          >
            {LANGS.map((code) => (
              <option key={code} value={code} lang={code === "zh" ? "zh-CN" : "en"}>
                {t(code === "zh" ? "lang.zh" : "lang.en")}
              </option>
            ))}
          </select>
        </label>
        {me ? (
          <span className="user">
            <span className="visually-hidden">{t("user.signedInAs")} </span>
            <span data-testid="current-user" title={me.username}>
              {me.display_name || me.username}
            </span>
            {me.department?.name ? (
              <span className="muted"> · {me.department.name}</span>
            ) : null}
          </span>
        ) : null}
        <form
          method="post"
          action={LOGOUT_URL}
          className="logout"
          onSubmit={() => {
            // Django's LogoutView only accepts POST with the CSRF token.
            if (csrfInput.current) {
              csrfInput.current.value = readCookie(document.cookie, "csrftoken") ?? "";
            }
          }}
        >
          <input ref={csrfInput} type="hidden" name="csrfmiddlewaretoken" defaultValue="" />
          <button type="submit" className="link-button" data-testid="sign-out">
            {t("user.signOut")}
          </button>
        </form>
      </div>
    </header>
  );
}
