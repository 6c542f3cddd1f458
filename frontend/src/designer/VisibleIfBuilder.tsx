// The visible_if builder: clauses on earlier elements joined by and/or, written as the
// expression the backend evaluates; an expression the builder cannot show stays editable text.
import { useState } from "react";
import { useI18n } from "../i18n";
import { opsFor, parseExpression, toExpression } from "./condition";
import type { Clause, Condition, Op, Value } from "./condition";
import type { DatasetElement } from "./dataset";

interface Props {
  expression: string;
  earlier: readonly DatasetElement[];
  onChange: (expression: string) => void;
}

function defaultValue(element: DatasetElement | undefined, op: Op): Value {
  if (!element || op === "is_true" || op === "is_false") return null;
  if (op === "in" || op === "not_in") return element.answers?.[0] ? [element.answers[0].code] : [];
  if (element.type === "number") return 0;
  return element.answers?.[0]?.code ?? "";
}

function newClause(earlier: readonly DatasetElement[]): Clause {
  const element = earlier[earlier.length - 1];
  const op = opsFor(element?.type ?? "text")[0] ?? "eq";
  return { element: element?.id ?? "", op, value: defaultValue(element, op) };
}

function ValueEditor({
  clause,
  element,
  index,
  onChange,
}: {
  clause: Clause;
  element: DatasetElement | undefined;
  index: number;
  onChange: (value: Value) => void;
}) {
  const { t, lang } = useI18n();
  const label = `${t("condition.value")} ${index + 1}`;
  if (clause.op === "is_true" || clause.op === "is_false") return null;
  const answers = element?.answers ?? [];
  if (answers.length > 0 && (clause.op === "in" || clause.op === "not_in")) {
    const chosen = Array.isArray(clause.value) ? clause.value : [];
    return (
      <select
        multiple
        aria-label={label}
        value={chosen}
        onChange={(e) => onChange(Array.from(e.target.selectedOptions, (o) => o.value))}
      >
        {answers.map((a) => (
          <option key={a.code} value={a.code}>
            {a.label[lang]}
          </option>
        ))}
      </select>
    );
  }
  if (answers.length > 0) {
    return (
      <select aria-label={label} value={String(clause.value ?? "")} onChange={(e) => onChange(e.target.value)}>
        {answers.map((a) => (
          <option key={a.code} value={a.code}>
            {a.label[lang]}
          </option>
        ))}
      </select>
    );
  }
  if (element?.type === "number") {
    return (
      <input
        type="number"
        aria-label={label}
        value={typeof clause.value === "number" ? clause.value : 0}
        onChange={(e) => onChange(Number(e.target.value))}
      />
    );
  }
  return (
    <input aria-label={label} value={String(clause.value ?? "")} onChange={(e) => onChange(e.target.value)} />
  );
}

export function VisibleIfBuilder({ expression, earlier, onChange }: Props) {
  const { t, lang } = useI18n();
  const parsed = parseExpression(expression);
  const [expert, setExpert] = useState(parsed === null);
  const condition: Condition = parsed ?? { join: "and", clauses: [] };
  const byId = new Map(earlier.map((e) => [e.id, e]));

  const write = (next: Condition) => onChange(toExpression(next));
  const setClause = (index: number, clause: Clause) =>
    write({ ...condition, clauses: condition.clauses.map((c, i) => (i === index ? clause : c)) });

  return (
    <fieldset className="visible-if">
      <legend>{t("condition.heading")}</legend>
      {!expert && parsed !== null && (
        <>
          {condition.clauses.length === 0 && <p className="hint">{t("condition.always")}</p>}
          {condition.clauses.length > 1 && (
            <label className="inline">
              {t("condition.join")}{" "}
              <select
                aria-label={t("condition.join")}
                value={condition.join}
                onChange={(e) => write({ ...condition, join: e.target.value as "and" | "or" })}
              >
                <option value="and">{t("condition.and")}</option>
                <option value="or">{t("condition.or")}</option>
              </select>
            </label>
          )}
          {condition.clauses.map((clause, index) => {
            const element = byId.get(clause.element);
            const ops = opsFor(element?.type ?? "text");
            return (
              <div className="clause" key={index} data-testid="condition-clause">
                <select
                  aria-label={`${t("condition.element")} ${index + 1}`}
                  value={clause.element}
                  onChange={(e) => {
                    const chosen = byId.get(e.target.value);
                    const op = opsFor(chosen?.type ?? "text")[0] ?? "eq";
                    setClause(index, { element: e.target.value, op, value: defaultValue(chosen, op) });
                  }}
                >
                  {!element && <option value={clause.element}>{clause.element}</option>}
                  {earlier.map((e) => (
                    <option key={e.id} value={e.id}>
                      {e.label[lang]} ({e.id})
                    </option>
                  ))}
                </select>
                <select
                  aria-label={`${t("condition.op")} ${index + 1}`}
                  value={clause.op}
                  onChange={(e) => {
                    const op = e.target.value as Op;
                    setClause(index, { ...clause, op, value: defaultValue(element, op) });
                  }}
                >
                  {(ops.includes(clause.op) ? ops : [clause.op, ...ops]).map((op) => (
                    <option key={op} value={op}>
                      {t(`op.${op}`)}
                    </option>
                  ))}
                </select>
                <ValueEditor
                  clause={clause}
                  element={element}
                  index={index}
                  onChange={(value) => setClause(index, { ...clause, value })}
                />
                <button
                  type="button"
                  aria-label={t("condition.remove", { n: index + 1 })}
                  onClick={() =>
                    write({ ...condition, clauses: condition.clauses.filter((_, i) => i !== index) })
                  }
                >
                  ×
                </button>
              </div>
            );
          })}
          {earlier.length === 0 ? (
            <p className="hint">{t("condition.noEarlier")}</p>
          ) : (
            <button
              type="button"
              onClick={() => write({ ...condition, clauses: [...condition.clauses, newClause(earlier)] })}
            >
              {t("condition.add")}
            </button>
          )}
        </>
      )}
      {(expert || parsed === null) && parsed === null && (
        <p className="hint">{t("condition.expertOnly")}</p>
      )}
      <label className="field expression">
        <span>{t("condition.expert")}</span>
        <input
          name="visible_if"
          value={expression}
          spellCheck={false}
          readOnly={!expert && parsed !== null}
          onChange={(e) => onChange(e.target.value)}
        />
      </label>
      {parsed !== null && (
        <button type="button" className="link" onClick={() => setExpert(!expert)}>
          {expert ? t("condition.useBuilder") : t("condition.expert")}
        </button>
      )}
    </fieldset>
  );
}
