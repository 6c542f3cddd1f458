// Edit one element: type, labels and help in zh/en, required, number limits, coded answers and
// its visible_if condition.
import { useI18n } from "../i18n";
import { ELEMENT_TYPES, isSelect } from "./dataset";
import type { Answer, DatasetElement, ElementType, Labels } from "./dataset";
import { VisibleIfBuilder } from "./VisibleIfBuilder";

interface Props {
  element: DatasetElement;
  earlier: readonly DatasetElement[];
  onChange: (element: DatasetElement) => void;
}

function without<T extends object>(value: T, keys: readonly string[]): T {
  const copy = { ...value } as Record<string, unknown>;
  for (const key of keys) delete copy[key];
  return copy as T;
}

/** Change the type, dropping what the new type does not have (the server refuses it). */
export function withType(element: DatasetElement, type: ElementType): DatasetElement {
  let next: DatasetElement = { ...element, type };
  if (type !== "number") next = without(next, ["min", "max", "precision", "unit"]);
  if (!isSelect(type)) next = without(next, ["answers"]);
  else if (!next.answers?.length) {
    next.answers = [{ system: "pathflow", code: "option_1", label: { zh: "选项 1", en: "Option 1" } }];
  }
  return next;
}

function optionalNumber(text: string): number | undefined {
  return text.trim() === "" ? undefined : Number(text);
}

export function ElementEditor({ element, earlier, onChange }: Props) {
  const { t } = useI18n();
  const set = (patch: Partial<DatasetElement>) => {
    const next = { ...element, ...patch } as Record<string, unknown>;
    for (const [key, value] of Object.entries(patch)) if (value === undefined) delete next[key];
    onChange(next as DatasetElement);
  };
  const setLabel = (key: "label" | "help", lang: keyof Labels, text: string) => {
    const current = element[key] ?? { zh: "", en: "" };
    const next = { ...current, [lang]: text };
    set({ [key]: key === "help" && !next.zh && !next.en ? undefined : next });
  };
  const setAnswer = (index: number, answer: Answer) =>
    set({ answers: (element.answers ?? []).map((a, i) => (i === index ? answer : a)) });

  return (
    <section className="panel element-editor" aria-label={t("element.heading", { id: element.id })}>
      <h3>{t("element.heading", { id: element.id })}</h3>
      <div className="grid2">
        <label className="field">
          <span>{t("element.id")}</span>
          <input name="id" value={element.id} onChange={(e) => set({ id: e.target.value })} />
        </label>
        <label className="field">
          <span>{t("element.type")}</span>
          <select
            name="type"
            value={element.type}
            onChange={(e) => onChange(withType(element, e.target.value as ElementType))}
          >
            {ELEMENT_TYPES.map((type) => (
              <option key={type} value={type}>
                {t(`element.type.${type}`)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>{t("element.labelZh")}</span>
          <input name="label_zh" value={element.label.zh} onChange={(e) => setLabel("label", "zh", e.target.value)} />
        </label>
        <label className="field">
          <span>{t("element.labelEn")}</span>
          <input name="label_en" value={element.label.en} onChange={(e) => setLabel("label", "en", e.target.value)} />
        </label>
        <label className="field">
          <span>{t("element.helpZh")}</span>
          <input name="help_zh" value={element.help?.zh ?? ""} onChange={(e) => setLabel("help", "zh", e.target.value)} />
        </label>
        <label className="field">
          <span>{t("element.helpEn")}</span>
          <input name="help_en" value={element.help?.en ?? ""} onChange={(e) => setLabel("help", "en", e.target.value)} />
        </label>
      </div>
      <label className="inline">
        <input
          type="checkbox"
          name="required"
          checked={element.required ?? false}
          onChange={(e) => set({ required: e.target.checked })}
        />{" "}
        {t("element.required")}
      </label>
      {element.type === "number" && (
        <div className="grid4">
          <label className="field">
            <span>{t("element.unit")}</span>
            <input name="unit" value={element.unit ?? ""} onChange={(e) => set({ unit: e.target.value || undefined })} />
          </label>
          <label className="field">
            <span>{t("element.min")}</span>
            <input name="min" type="number" value={element.min ?? ""} onChange={(e) => set({ min: optionalNumber(e.target.value) })} />
          </label>
          <label className="field">
            <span>{t("element.max")}</span>
            <input name="max" type="number" value={element.max ?? ""} onChange={(e) => set({ max: optionalNumber(e.target.value) })} />
          </label>
          <label className="field">
            <span>{t("element.precision")}</span>
            <input
              name="precision"
              type="number"
              min={0}
              max={10}
              value={element.precision ?? 0}
              onChange={(e) => set({ precision: Number(e.target.value) })}
            />
          </label>
        </div>
      )}
      {isSelect(element.type) && (
        <fieldset className="answers">
          <legend>{t("element.answers")}</legend>
          {(element.answers ?? []).map((answer, index) => (
            <div className="answer" key={index}>
              <input
                aria-label={`${t("element.answerCode")} ${index + 1}`}
                value={answer.code}
                onChange={(e) => setAnswer(index, { ...answer, code: e.target.value })}
              />
              <input
                aria-label={`${t("element.labelZh")} ${index + 1}`}
                value={answer.label.zh}
                onChange={(e) => setAnswer(index, { ...answer, label: { ...answer.label, zh: e.target.value } })}
              />
              <input
                aria-label={`${t("element.labelEn")} ${index + 1}`}
                value={answer.label.en}
                onChange={(e) => setAnswer(index, { ...answer, label: { ...answer.label, en: e.target.value } })}
              />
              <button
                type="button"
                aria-label={t("element.removeAnswer", { code: answer.code })}
                onClick={() => set({ answers: (element.answers ?? []).filter((_, i) => i !== index) })}
              >
                ×
              </button>
            </div>
          ))}
          <button
            type="button"
            onClick={() => {
              const n = (element.answers?.length ?? 0) + 1;
              set({
                answers: [
                  ...(element.answers ?? []),
                  { system: "pathflow", code: `option_${n}`, label: { zh: `选项 ${n}`, en: `Option ${n}` } },
                ],
              });
            }}
          >
            {t("element.addAnswer")}
          </button>
        </fieldset>
      )}
      <div className="grid4">
        <label className="field">
          <span>{t("element.source")}</span>
          <select
            name="source"
            value={element.source ?? "pathologist"}
            onChange={(e) => {
              const source = e.target.value as NonNullable<DatasetElement["source"]>;
              set({
                source: source === "pathologist" ? undefined : source,
                ...(source === "pathologist" ? { measures: undefined } : {}),
              });
            }}
          >
            {(["pathologist", "model", "model_confirmed"] as const).map((s) => (
              <option key={s} value={s}>
                {t(`element.source.${s}`)}
              </option>
            ))}
          </select>
        </label>
        {element.source && element.source !== "pathologist" &&
          (["marker", "stain", "unit"] as const).map((key) => (
            <label className="field" key={key}>
              <span>{t(`element.measures.${key}`)}</span>
              <input
                name={`measures_${key}`}
                value={element.measures?.[key] ?? ""}
                onChange={(e) => {
                  const measures = { ...element.measures, [key]: e.target.value || undefined };
                  const kept = Object.fromEntries(Object.entries(measures).filter(([, v]) => v));
                  set({ measures: Object.keys(kept).length ? kept : undefined });
                }}
              />
            </label>
          ))}
      </div>
      <VisibleIfBuilder
        expression={element.visible_if ?? ""}
        earlier={earlier}
        onChange={(expression) => set({ visible_if: expression || undefined, ...(expression ? {} : { when_hidden: undefined }) })}
      />
      {element.visible_if && (
        <label className="field">
          <span>{t("element.whenHidden")}</span>
          <select
            name="when_hidden"
            value={element.when_hidden ?? "omit"}
            onChange={(e) => set({ when_hidden: e.target.value === "omit" ? undefined : "not_applicable" })}
          >
            <option value="omit">{t("element.whenHidden.omit")}</option>
            <option value="not_applicable">{t("element.whenHidden.not_applicable")}</option>
          </select>
        </label>
      )}
    </section>
  );
}
