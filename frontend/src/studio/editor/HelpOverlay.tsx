import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n";
import { SHORTCUTS } from "./useShortcuts";

/** The keyboard shortcuts (opened with "?"). */
export function HelpOverlay({ onClose }: { onClose: () => void }) {
  const { t } = useI18n();
  return (
    <div className="overlay" role="dialog" aria-modal="true" aria-labelledby="help-heading" data-testid="help-overlay">
      <div className="overlay-box">
        <h2 id="help-heading">{t("studio.keys.heading")}</h2>
        <table>
          <tbody>
            {SHORTCUTS.map(([keys, what]) => (
              <tr key={keys}>
                <th scope="row">
                  <kbd>{keys}</kbd>
                </th>
                <td>{t(what as MessageKey)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <button type="button" onClick={onClose} autoFocus>
          {t("studio.close")}
        </button>
      </div>
    </div>
  );
}
