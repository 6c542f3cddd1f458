// The golden-case verdict of one version, for the studio's version history (an override shows
// who published over the golden cases and why).
import { Link } from "react-router";
import { useI18n } from "../i18n";
import { percent } from "./ShadowRunResult";
import { useGates } from "./useQuality";

export function GateNote({ slug, version }: { slug: string; version: number }) {
  const { t } = useI18n();
  const gate = useGates(slug).data?.find((g) => g.version === version);
  if (!gate) return null;
  const text = gate.passed
    ? t("quality.gate.passed", { version, percent: percent(gate.agreement) })
    : gate.overridden
      ? t("quality.gate.overridden", { version, user: gate.decided_by ?? "?", reason: gate.override_reason })
      : t("quality.gate.refused", { version, percent: percent(gate.agreement), threshold: percent(gate.threshold) });
  return (
    <p className="note" data-testid="version-gate" data-overridden={gate.overridden}>
      <Link to={`/studio/workflows/${slug}/quality/runs/${gate.shadow_run}`}>{text}</Link>
    </p>
  );
}
