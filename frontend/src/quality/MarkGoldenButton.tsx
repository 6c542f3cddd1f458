// "Mark as golden case" for a signed report version (shown in the review cockpit): the case
// becomes a golden case of the workflow that drafted it.
import { useMutation } from "@tanstack/react-query";
import { Link } from "react-router";
import { dataOf, useApi } from "../api/client";
import { useI18n } from "../i18n";

export function MarkGoldenButton({ reportId }: { reportId: number }) {
  const { t } = useI18n();
  const api = useApi();
  const mark = useMutation({
    mutationFn: async () =>
      dataOf(await api.POST("/api/v1/reports/{id}/golden", { params: { path: { id: reportId } }, body: {} })),
  });
  if (mark.data) {
    return (
      <Link to={`/studio/workflows/${mark.data.workflow}/quality`} data-testid="golden-marked">
        {t("quality.golden.marked", { workflow: mark.data.workflow })}
      </Link>
    );
  }
  return (
    <>
      <button type="button" onClick={() => mark.mutate()} disabled={mark.isPending} data-testid="mark-golden">
        {t("quality.golden.add")}
      </button>
      {mark.error ? (
        <span className="error-text" role="alert">
          {mark.error.message}
        </span>
      ) : null}
    </>
  );
}
