import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { components } from "../api/schema";
import { App } from "../app/App";
import { fail, ok } from "../test/fakeApi";
import { ME, fakeServer } from "../test/fixtures";

type CaseSlides = components["schemas"]["CaseSlides"];
type SlideSummary = components["schemas"]["SlideSummary"];

const ROUTE = "GET /api/v1/cases/5/slides";

const DEMO_SLIDE: SlideSummary = {
  specimen: 9,
  specimen_label: "A",
  index: 0,
  name: "demo/ihc-ki67.tiff",
  stain: "Ki-67 (DAB)",
  region: [0, 0, 512, 512],
  width: 4096,
  height: 4096,
  microns_per_pixel: 0.5,
  dzi_url: "/api/v1/specimens/9/slides/0.dzi",
  overlay_url: "/api/v1/specimens/9/slides/0/overlay",
  error: null,
};

function slides(...items: SlideSummary[]): CaseSlides {
  return { case: 5, accession: "S26-00001", slides: items };
}

beforeEach(() => {
  // jsdom has no matchMedia; OpenSeadragon asks it which drawer to use.
  vi.stubGlobal(
    "matchMedia",
    (query: string): Partial<MediaQueryList> => ({ matches: false, media: query }),
  );
});

// OpenSeadragon asks for the slide's descriptor in a zero-delay timer; let it fire while jsdom's
// window still exists, not after the environment is torn down (an unhandled error then).
afterEach(() => new Promise<void>((resolve) => setTimeout(resolve, 10)));

describe("Case slides page", () => {
  it("shows the case's slide with its facts and the viewer", async () => {
    const server = fakeServer().on(ROUTE, ok(slides(DEMO_SLIDE)));
    render(<App client={server.client} path="/app/cases/5/slides" initialLang="en" />);

    expect(await screen.findByRole("heading", { name: "Slides of case S26-00001" })).toBeTruthy();
    const card = screen.getByTestId("slide-card");
    expect(card.textContent).toContain(
      "Specimen A · Ki-67 (DAB) · demo/ihc-ki67.tiff · 4096 × 4096 px · 0.5 µm/px",
    );
    expect(within(card).getByRole("region", { name: "Slide viewer" })).toBeTruthy();
    expect(card.textContent).toContain("Region the workflow's model analysed");
  });

  it("switches between the slides of several specimens", async () => {
    const second = { ...DEMO_SLIDE, specimen: 10, specimen_label: "B", stain: "HER2" };
    const server = fakeServer().on(ROUTE, ok(slides(DEMO_SLIDE, second)));
    const user = userEvent.setup();
    render(<App client={server.client} path="/app/cases/5/slides" initialLang="en" />);

    const choice = await screen.findByRole("navigation", { name: "Slides" });
    await user.click(within(choice).getByRole("button", { name: "Specimen B · HER2" }));

    expect(screen.getByTestId("slide-card").textContent).toContain("Specimen B · HER2");
    const current = within(choice).getByRole("button", { current: true });
    expect(current.textContent).toBe("Specimen B · HER2");
  });

  it("says why a slide whose file is missing cannot be shown, in Chinese too", async () => {
    const missing = { ...DEMO_SLIDE, width: null, height: null, error: "slide 'x.svs' is gone" };
    const server = fakeServer().on(ROUTE, ok(slides(missing)));
    render(<App client={server.client} path="/app/cases/5/slides" initialLang="zh" />);

    expect((await screen.findByRole("alert")).textContent).toBe("不可用：slide 'x.svs' is gone");
    expect(screen.getByRole("heading", { name: "病例 S26-00001 的切片" })).toBeTruthy();
    expect(screen.queryByRole("region", { name: "切片查看器" })).toBeNull();
  });

  it("says when a case has no slide", async () => {
    const server = fakeServer().on(ROUTE, ok(slides()));
    render(<App client={server.client} path="/app/cases/5/slides" initialLang="en" />);

    expect(await screen.findByText("No whole-slide image is attached to this case.")).toBeTruthy();
  });

  it("answers another department's case as a page that does not exist", async () => {
    const server = fakeServer().on(ROUTE, fail(404, "not found"));
    render(<App client={server.client} path="/app/cases/5/slides" initialLang="en" />);

    expect(await screen.findByRole("heading", { name: "Page not found" })).toBeTruthy();
  });

  it("is not offered to a clinician", async () => {
    const server = fakeServer({ ...ME, role: "clinician" }).on(ROUTE, ok(slides(DEMO_SLIDE)));
    render(<App client={server.client} path="/app/cases/5/slides" initialLang="en" />);

    expect(await screen.findByRole("heading", { name: "Not available to your role" })).toBeTruthy();
    expect(server.calls(ROUTE)).toHaveLength(0);
  });
});
