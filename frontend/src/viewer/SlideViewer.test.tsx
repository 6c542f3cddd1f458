import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { SlideViewer } from "./SlideViewer";

beforeEach(() => {
  // jsdom has no matchMedia; OpenSeadragon asks it which drawer to use. The slide itself never
  // opens here (no server): these tests are about the controls around it.
  vi.stubGlobal(
    "matchMedia",
    (query: string): Partial<MediaQueryList> => ({ matches: false, media: query }),
  );
});

// OpenSeadragon asks for the slide's descriptor in a zero-delay timer; let it fire while jsdom's
// window still exists, not after the environment is torn down (an unhandled error then).
afterEach(() => new Promise<void>((resolve) => setTimeout(resolve, 10)));

function pressed(name: string): string | null {
  return screen.getByRole("button", { name }).getAttribute("aria-pressed");
}

describe("SlideViewer", () => {
  it("toggles the AI overlay with its button and with O, saying which state it is in", async () => {
    const user = userEvent.setup();
    render(<SlideViewer dziUrl="/api/v1/specimens/1/slides/0.dzi" overlayPoints={[]} />);
    const canvas = screen.getByTestId("slide-overlay");

    expect(pressed("Hide AI overlay")).toBe("true");
    expect(canvas.hidden).toBe(false);

    await user.click(screen.getByRole("button", { name: "Hide AI overlay" }));
    expect(pressed("Show AI overlay")).toBe("false");
    expect(canvas.hidden).toBe(true);

    await user.keyboard("o");
    expect(pressed("Hide AI overlay")).toBe("true");
    expect(canvas.hidden).toBe(false);

    await user.keyboard("{Control>}o{/Control}");
    expect(pressed("Hide AI overlay")).toBe("true");
  });

  it("keeps keys pressed in the viewer from reaching the host page's shortcuts", async () => {
    const user = userEvent.setup();
    const hostKeys: string[] = [];
    const listener = (event: KeyboardEvent) => hostKeys.push(event.key);
    window.addEventListener("keydown", listener);
    try {
      render(<SlideViewer dziUrl="/x.dzi" />);
      await user.click(screen.getByRole("button", { name: "Zoom in" }));
      await user.keyboard("as{Tab}");
    } finally {
      window.removeEventListener("keydown", listener);
    }

    expect(hostKeys).toEqual(["Tab"]);
  });

  it("says it is loading the slide until it opens", () => {
    render(<SlideViewer dziUrl="/x.dzi" />);

    expect(screen.getByText("Loading slide…")).toBeTruthy();
  });

  it("speaks Chinese when asked", () => {
    render(<SlideViewer dziUrl="/x.dzi" lang="zh" initialOverlay={false} />);

    expect(pressed("显示 AI 标注")).toBe("false");
    expect(screen.getByRole("region", { name: "切片查看器" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "放大" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "全片" })).toBeTruthy();
  });
});
