// Every problem of the saved draft, and the template-first check: the report elements no node
// fills yet, each a button that shows the render node that needs it.
import { useI18n } from "../../i18n";
import type { GraphProblem } from "../../lib/problems";
import { useDecorations } from "./decorations";

function Item({ problem, onPick }: { problem: GraphProblem; onPick: (id: string) => void }) {
  const where = problem.node_id ?? problem.edge_id;
  return (
    <li data-testid="problem" data-code={problem.code}>
      {problem.node_id ? (
        <button type="button" className="link-button" onClick={() => onPick(problem.node_id!)}>
          <code>{where}</code>
        </button>
      ) : where ? (
        <code>{where}</code>
      ) : null}{" "}
      {problem.message}
    </li>
  );
}

export function ProblemsPanel({ onPick }: { onPick: (nodeId: string) => void }) {
  const { t } = useI18n();
  const problems = useDecorations((d) => d.problems);
  const warnings = useDecorations((d) => d.warnings);
  const all = [
    ...problems.graph,
    ...[...problems.byNode.values()].flat(),
    ...[...problems.byEdge.values()].flat().filter((p) => !p.node_id),
  ].filter((p) => !p.element_id);
  return (
    <div className="problems-panel" data-testid="problems-panel">
      <h2>{t("studio.unfilled.heading")}</h2>
      {problems.unfilled.length === 0 ? (
        <p className="muted" data-testid="unfilled-none">
          {t("studio.unfilled.none")}
        </p>
      ) : (
        <ul data-testid="unfilled">
          {problems.unfilled.map((p, i) => (
            <li key={i}>
              <button
                type="button"
                className="link-button"
                data-testid="unfilled-element"
                data-element-id={p.element_id ?? ""}
                onClick={() => p.node_id && onPick(p.node_id)}
              >
                {p.message}
              </button>
            </li>
          ))}
        </ul>
      )}
      {warnings.unfilled.length ? (
        <>
          <h3>{t("studio.unfilled.conditional")}</h3>
          <ul>
            {warnings.unfilled.map((p, i) => (
              <li key={i}>
                <button type="button" className="link-button" onClick={() => p.node_id && onPick(p.node_id)}>
                  {p.message}
                </button>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <h2>{t("studio.problems.heading")}</h2>
      {all.length === 0 ? (
        <p className="muted" data-testid="problems-none">
          {t("studio.problems.none")}
        </p>
      ) : (
        <ul className="error-text">
          {all.map((p, i) => (
            <Item key={i} problem={p} onPick={onPick} />
          ))}
        </ul>
      )}
    </div>
  );
}
