import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import { I18nProvider } from "../i18n";
import type { Lang } from "../i18n";
import type { DatasetElement } from "./dataset";
import { VisibleIfBuilder } from "./VisibleIfBuilder";

const EARLIER: DatasetElement[] = [
  {
    id: "histologic_type",
    type: "single_select",
    label: { zh: "组织学类型", en: "Histological type" },
    answers: [
      { code: "invasive_nst", label: { zh: "非特殊型浸润性癌", en: "Invasive NST" } },
      { code: "lobular", label: { zh: "浸润性小叶癌", en: "Lobular" } },
    ],
  },
  { id: "tumour_size_mm", type: "number", label: { zh: "肿瘤大小", en: "Tumour size" } },
];

function Harness({ initial, lang = "en" }: { initial: string; lang?: Lang }) {
  const [expression, setExpression] = useState(initial);
  return (
    <I18nProvider initial={lang}>
      <VisibleIfBuilder expression={expression} earlier={EARLIER} onChange={setExpression} />
      <output data-testid="written">{expression}</output>
    </I18nProvider>
  );
}

describe("visible_if builder", () => {
  it("writes the expression of the conditions a person builds", async () => {
    const user = userEvent.setup();
    render(<Harness initial="" />);
    expect(screen.getByText("Always shown")).toBeTruthy();

    await user.click(screen.getByRole("button", { name: "Add condition" }));
    await user.selectOptions(screen.getByLabelText("Element 1"), "histologic_type");
    await user.selectOptions(screen.getByLabelText("Value 1"), "lobular");
    expect(screen.getByTestId("written").textContent).toBe("histologic_type == 'lobular'");

    await user.click(screen.getByRole("button", { name: "Add condition" }));
    await user.selectOptions(screen.getByLabelText("Element 2"), "tumour_size_mm");
    await user.selectOptions(screen.getByLabelText("Operator 2"), "ge");
    await user.clear(screen.getByLabelText("Value 2"));
    await user.type(screen.getByLabelText("Value 2"), "20");
    await user.selectOptions(screen.getByLabelText("Combine with"), "or");
    expect(screen.getByTestId("written").textContent).toBe(
      "histologic_type == 'lobular' or tumour_size_mm >= 20",
    );
  });

  it("reads a simple expression back into the builder, in Chinese too", () => {
    render(<Harness initial="histologic_type in ['invasive_nst', 'lobular']" lang="zh" />);
    expect(screen.getByLabelText<HTMLSelectElement>("运算 1").value).toBe("in");
    const chosen = Array.from(screen.getByLabelText<HTMLSelectElement>("值 1").selectedOptions);
    expect(chosen.map((o) => o.value)).toEqual(["invasive_nst", "lobular"]);
  });

  it("leaves an expression it cannot show to the expert field", async () => {
    const user = userEvent.setup();
    render(<Harness initial="(tumour_size_mm > 20)" />);
    expect(screen.getByText(/cannot show this expression/)).toBeTruthy();
    const field = screen.getByRole("textbox", { name: "Expression (experts)" });
    await user.clear(field);
    await user.type(field, "tumour_size_mm > 5");
    expect(screen.getByTestId("written").textContent).toBe("tumour_size_mm > 5");
  });
});
