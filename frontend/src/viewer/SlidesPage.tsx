// The page at /app/cases/:id/slides: the whole-slide images of a case, one at a time in the
// viewer with the AI overlay (admins and pathologists).
import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { useParams, useSearchParams } from "react-router";
import { ApiError, dataOf, useApi } from "../api/client";
import type { components } from "../api/schema";
import { NotFound } from "../app/NotFound";
import { useI18n } from "../i18n";
import { overlayUrlLoader } from "./overlay";
import { SlideViewer } from "./SlideViewer";
import { viewerLabels } from "./strings";

type SlideSummary = components["schemas"]["SlideSummary"];

/** A positive whole number from a route or query parameter, else null. */
export function parseId(param: string | null | undefined): number | null {
  if (!param || !/^\d+$/.test(param)) return null;
  const id = Number(param);
  return Number.isSafeInteger(id) ? id : null;
}

export function slideKey(slide: SlideSummary): string {
  return `${slide.specimen}-${slide.index}`;
}

export function CaseSlidesRoute() {
  const id = parseId(useParams().id);
  if (id === null || id === 0) return <NotFound />;
  return <CaseSlidesPage key={id} caseId={id} />;
}

function useCaseSlides(caseId: number) {
  const api = useApi();
  return useQuery({
    queryKey: ["case-slides", caseId],
    queryFn: async ({ signal }) =>
      dataOf(
        await api.GET("/api/v1/cases/{case}/slides", {
          params: { path: { case: caseId } },
          signal,
        }),
      ),
  });
}

export function CaseSlidesPage({ caseId }: { caseId: number }) {
  const { t } = useI18n();
  const query = useCaseSlides(caseId);
  if (query.error instanceof ApiError && query.error.status === 404) return <NotFound />;
  return (
    <section className="slides-page" aria-labelledby="slides-heading">
      <h1 id="slides-heading">
        {query.data
          ? t("slides.heading", { accession: query.data.accession })
          : t("slides.headingNoCase")}
      </h1>
      <CaseSlidesPanel caseId={caseId} />
    </section>
  );
}

/** The slides of a case with the viewer, for any page that shows a case (the review cockpit
 * embeds it beside the report): a chooser when there are several, the chosen one in the
 * viewer (remembered in the URL's `?slide=`). */
export function CaseSlidesPanel({ caseId }: { caseId: number }) {
  const { t } = useI18n();
  const query = useCaseSlides(caseId);
  const [search, setSearch] = useSearchParams();
  const slides = query.data?.slides ?? [];
  const chosen = slides.find((s) => slideKey(s) === search.get("slide")) ?? slides[0];

  if (query.isPending) {
    return (
      <p className="state state--loading" role="status">
        {t("slides.loading")}
      </p>
    );
  }
  if (query.error) {
    return (
      <div className="state state--error" role="alert">
        <p>
          <strong>{t("slides.errorTitle")}</strong>
        </p>
        <p className="error-text">{query.error.message}</p>
        <button type="button" onClick={() => void query.refetch()}>
          {t("slides.retry")}
        </button>
      </div>
    );
  }
  if (slides.length === 0) return <p className="state">{t("slides.empty")}</p>;
  const choose = (slide: SlideSummary) => {
    const next = new URLSearchParams(search);
    next.set("slide", slideKey(slide));
    setSearch(next, { replace: true });
  };
  return (
    <>
      {slides.length > 1 && (
        <nav aria-label={t("slides.choose")} className="slides-choice">
          {slides.map((slide) => (
            <button
              key={slideKey(slide)}
              type="button"
              aria-current={slide === chosen ? "true" : undefined}
              onClick={() => choose(slide)}
            >
              {t("slides.specimen", { label: slide.specimen_label })} ·{" "}
              {slide.stain || slide.name}
            </button>
          ))}
        </nav>
      )}
      {chosen && <ChosenSlide key={slideKey(chosen)} slide={chosen} />}
    </>
  );
}

function ChosenSlide({ slide }: { slide: SlideSummary }) {
  const { t, lang } = useI18n();
  const loadOverlayCell = useMemo(() => overlayUrlLoader(slide.overlay_url), [slide.overlay_url]);
  const region =
    slide.region?.length === 4 ? (slide.region as [number, number, number, number]) : null;
  return (
    <article className="slide-card" data-testid="slide-card">
      <p className="muted">
        {t("slides.specimen", { label: slide.specimen_label })}
        {slide.stain ? ` · ${slide.stain}` : ""} · {slide.name}
        {slide.width && slide.height
          ? ` · ${t("slides.size", { width: slide.width, height: slide.height })}`
          : ""}
        {slide.microns_per_pixel ? ` · ${t("slides.mpp", { mpp: slide.microns_per_pixel })}` : ""}
      </p>
      {slide.error ? (
        <p className="state state--error" role="alert">
          {t("slides.unavailable", { reason: slide.error })}
        </p>
      ) : (
        <SlideViewer
          dziUrl={slide.dzi_url}
          loadOverlayCell={loadOverlayCell}
          analysedRegion={region}
          micronsPerPixel={slide.microns_per_pixel}
          labels={viewerLabels(lang)}
        />
      )}
    </article>
  );
}
