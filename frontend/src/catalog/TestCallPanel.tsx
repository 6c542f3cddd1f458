// Call a model endpoint once with a sample request and see its outputs or the error.
import { useState } from "react";
import { useI18n } from "../i18n";
import { Problems } from "./Problems";
import type { CatalogEntry } from "./types";
import { useTestCall } from "./useCatalog";

/** A starting request per protocol, in the shape a model-call node's config has. */
export function sampleRequest(protocol: string): unknown {
  switch (protocol) {
    case "open_inference_v2":
      return {
        inputs: [{ name: "input", datatype: "FP64", shape: [1, 3], value: "case.values" }],
      };
    case "openai_chat":
      return { prompt: "Describe this case: {{ case.note }}", max_tokens: 200 };
    default:
      return { path: "/predict", body: { values: "case.values" }, outputs: { result: "$" } };
  }
}

function parse(text: string): { value?: unknown; error?: string } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

export function TestCallPanel({ entry }: { entry: CatalogEntry }) {
  const { t } = useI18n();
  const call = useTestCall(entry.slug);
  const [request, setRequest] = useState(() => JSON.stringify(sampleRequest(entry.protocol), null, 2));
  const [sample, setSample] = useState(() => JSON.stringify({ values: [1, 2, 3] }, null, 2));
  const [jsonError, setJsonError] = useState("");

  if (entry.kind !== "model") {
    return (
      <section className="panel test-call">
        <h3>{t("catalog.test.heading")}</h3>
        <p className="hint">{t("catalog.test.destination")}</p>
      </section>
    );
  }

  function run() {
    const parsedRequest = parse(request);
    const parsedCase = parse(sample);
    if (parsedRequest.error !== undefined || parsedCase.error !== undefined) {
      const [field, message] =
        parsedRequest.error !== undefined
          ? [t("catalog.test.request"), parsedRequest.error]
          : [t("catalog.test.case"), parsedCase.error ?? ""];
      setJsonError(t("catalog.test.badJson", { field, message }));
      return;
    }
    setJsonError("");
    call.mutate({ request: parsedRequest.value, case: parsedCase.value });
  }

  const result = call.data;
  return (
    <section className="panel test-call" aria-label={t("catalog.test.heading")}>
      <h3>{t("catalog.test.heading")}</h3>
      <p className="hint">{t("catalog.test.help")}</p>
      <label className="field">
        <span>{t("catalog.test.request")}</span>
        <textarea
          name="request"
          rows={8}
          spellCheck={false}
          value={request}
          onChange={(e) => setRequest(e.target.value)}
        />
      </label>
      <label className="field">
        <span>{t("catalog.test.case")}</span>
        <textarea
          name="case"
          rows={6}
          spellCheck={false}
          value={sample}
          onChange={(e) => setSample(e.target.value)}
        />
      </label>
      <button type="button" className="primary" onClick={run} disabled={call.isPending}>
        {call.isPending ? t("catalog.test.running") : t("catalog.test.run")}
      </button>
      {jsonError && (
        <p className="problems" role="alert">
          {jsonError}
        </p>
      )}
      <Problems title={t("catalog.form.problems")} error={call.error} />
      {result && (
        <div
          className={result.ok ? "test-result test-result--ok" : "test-result test-result--error"}
          data-testid="test-call-result"
          role="status"
        >
          <p>
            {result.ok
              ? t("catalog.test.ok", {
                  ms: result.duration_ms,
                  model: result.model_name,
                  version: result.model_version,
                })
              : t("catalog.test.failed", { ms: result.duration_ms })}
          </p>
          {result.ok ? (
            <pre>{JSON.stringify(result.outputs, null, 2)}</pre>
          ) : (
            <pre className="error">{result.error}</pre>
          )}
        </div>
      )}
    </section>
  );
}
