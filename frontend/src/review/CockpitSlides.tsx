// The case's slides beside the draft: the viewer's component (src/viewer/) with the AI's
// overlay, one slide at a time. Nothing shows when the case has no slide.
import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { dataOf, useApi } from "../api/client";
import type { components } from "../api/schema";
import { useI18n } from "../i18n";
import { overlayUrlLoader } from "../viewer/overlay";
import { SlideViewer } from "../viewer/SlideViewer";
import { viewerLabels } from "../viewer/strings";

type SlideSummary = components["schemas"]["SlideSummary"];

function Slide({ slide }: { slide: SlideSummary }) {
  const { lang } = useI18n();
  const loadOverlayCell = useMemo(() => overlayUrlLoader(slide.overlay_url), [slide.overlay_url]);
  const region =
    slide.region?.length === 4 ? (slide.region as [number, number, number, number]) : null;
  if (slide.error) {
    return (
      <p className="state state--error" role="alert">
        {slide.error}
      </p>
    );
  }
  return (
    <SlideViewer
      dziUrl={slide.dzi_url}
      loadOverlayCell={loadOverlayCell}
      analysedRegion={region}
      labels={viewerLabels(lang)}
    />
  );
}

export function CockpitSlides({ caseId }: { caseId: number }) {
  const { t } = useI18n();
  const api = useApi();
  const slides = useQuery({
    queryKey: ["case-slides", caseId],
    queryFn: async ({ signal }) =>
      dataOf(
        await api.GET("/api/v1/cases/{case}/slides", { params: { path: { case: caseId } }, signal }),
      ),
  });
  const [chosen, setChosen] = useState(0);
  const list = slides.data?.slides ?? [];
  const slide = list[chosen] ?? list[0];
  if (!slide) return null;
  return (
    <section className="cockpit-slides" aria-label={t("cockpit.slide")} data-testid="cockpit-slides">
      {list.length > 1 && (
        <div className="review-toolbar">
          {list.map((s, index) => (
            <button
              key={`${s.specimen}-${s.index}`}
              type="button"
              aria-current={index === chosen ? "true" : undefined}
              onClick={() => setChosen(index)}
            >
              {s.specimen_label} · {s.stain || s.name}
            </button>
          ))}
        </div>
      )}
      <Slide key={`${slide.specimen}-${slide.index}`} slide={slide} />
    </section>
  );
}
