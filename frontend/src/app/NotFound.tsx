import { Link, useLocation } from "react-router";
import { useI18n } from "../i18n";

/** A URL under /app/ that no screen answers (or one the user's role may not open). */
export function NotFound({ path, forbidden = false }: { path?: string; forbidden?: boolean }) {
  const { t } = useI18n();
  const location = useLocation();
  const shown = `/app${path ?? location.pathname}`;
  return (
    <section className="runs-page" aria-labelledby="not-found-heading" data-testid="not-found">
      <h1 id="not-found-heading">{t(forbidden ? "notFound.forbiddenHeading" : "notFound.heading")}</h1>
      <p>{t(forbidden ? "notFound.forbidden" : "notFound.body", { path: shown })}</p>
      <p>
        <Link to="/">{t("notFound.home")}</Link>
      </p>
    </section>
  );
}
