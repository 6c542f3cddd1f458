// The node-type palette (GET /api/v1/node-types): drag a type onto the canvas, or press its
// button to add it in the middle of the view.
import type { DragEvent } from "react";
import { useI18n } from "../../i18n";
import { typeKey } from "../../lib/graph";
import type { NodeTypeInfo } from "../../lib/graph";

export const DRAG_TYPE = "application/x-pathflow-node-type";

export function Palette({
  types,
  onAdd,
}: {
  types: ReadonlyMap<string, NodeTypeInfo>;
  onAdd: (key: string) => void;
}) {
  const { t } = useI18n();
  const start = (event: DragEvent, key: string) => {
    event.dataTransfer.setData(DRAG_TYPE, key);
    event.dataTransfer.setData("text/plain", key);
    event.dataTransfer.effectAllowed = "copy";
  };
  return (
    <aside className="palette" aria-label={t("studio.palette.label")} data-testid="palette">
      <h2>{t("studio.palette.label")}</h2>
      <ul>
        {[...types.values()].map((type) => {
          const key = typeKey(type.name, type.version);
          return (
            <li
              key={key}
              className="palette-item"
              draggable
              onDragStart={(e) => start(e, key)}
              data-testid="palette-item"
              data-type={type.name}
              title={type.description}
            >
              <span className="palette-title">{type.title}</span>
              <code className="muted">{type.name}</code>
              <button
                type="button"
                className="link-button"
                aria-label={t("studio.palette.add", { type: type.title })}
                onClick={() => onAdd(key)}
              >
                +
              </button>
            </li>
          );
        })}
      </ul>
      <p className="muted small">{t("studio.palette.hint")}</p>
    </aside>
  );
}
