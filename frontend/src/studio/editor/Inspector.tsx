// The selected node's form: title and id, its config from the type's JSON Schema (@rjsf/core),
// expression fields that offer case.* and nodes.<id>.<port>, and the same as JSON for experts.
// Its validator interprets schemas (schemaValidator.ts): the page's CSP forbids Ajv's eval.
import Form from "@rjsf/core";
import type { RegistryWidgetsType, WidgetProps } from "@rjsf/utils";
import { useEffect, useMemo, useState } from "react";
import { dataOf, useApi } from "../../api/client";
import { useI18n } from "../../i18n";
import { expressionSuggestions, isValidNodeId, typeKey } from "../../lib/graph";
import { useDecorations } from "./decorations";
import { schemaValidator } from "./schemaValidator";
import { useEditor } from "./store";
import type { FlowNode } from "./store";

interface InspectorContext {
  listId: string;
}

/** Text fields with the graph's expression vocabulary as suggestions (a native datalist). */
function ExpressionTextWidget(props: WidgetProps) {
  const { id, required, disabled, readonly, onChange, onBlur, onFocus, schema, registry } = props;
  const value: unknown = props.value;
  if (schema.type !== "string") {
    const { BaseInputTemplate } = registry.templates;
    return <BaseInputTemplate {...props} />;
  }
  const context = registry.formContext as InspectorContext;
  return (
    <input
      id={id}
      name={id}
      className="form-control expression-input"
      list={context.listId}
      value={typeof value === "string" ? value : ""}
      required={required}
      disabled={disabled || readonly}
      autoComplete="off"
      spellCheck={false}
      onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value)}
      onBlur={(e) => onBlur(id, e.target.value)}
      onFocus={(e) => onFocus(id, e.target.value)}
    />
  );
}

const WIDGETS: RegistryWidgetsType = { TextWidget: ExpressionTextWidget };
const UI_SCHEMA = { "ui:submitButtonOptions": { norender: true } };

function JsonEditor({
  label,
  value,
  onApply,
  testId,
}: {
  label: string;
  value: unknown;
  onApply: (parsed: Record<string, unknown>) => void;
  testId: string;
}) {
  const { t } = useI18n();
  const shown = JSON.stringify(value, null, 2);
  // Keyed by the value it shows (see below): an outside change starts it afresh.
  const [text, setText] = useState(shown);
  const [error, setError] = useState<string | null>(null);
  return (
    <details className="json-editor">
      <summary>{label}</summary>
      <textarea
        value={text}
        rows={8}
        spellCheck={false}
        data-testid={testId}
        onChange={(e) => setText(e.target.value)}
      />
      <button
        type="button"
        data-testid={`${testId}-apply`}
        onClick={() => {
          try {
            const parsed = JSON.parse(text) as unknown;
            if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
              throw new Error(t("studio.inspector.notObject"));
            }
            setError(null);
            onApply(parsed as Record<string, unknown>);
          } catch (err) {
            setError(err instanceof Error ? err.message : String(err));
          }
        }}
      >
        {t("studio.inspector.apply")}
      </button>
      {error ? <p className="error-text">{error}</p> : null}
    </details>
  );
}

/** Asks the backend for the ports of types whose ports follow their config (switch cases, a
 * sub-workflow's outputs) whenever the config changes. */
function usePortsFromConfig(node: FlowNode) {
  const api = useApi();
  const types = useDecorations((d) => d.types);
  const setPorts = useEditor((s) => s.setPorts);
  const info = types.get(typeKey(node.data.type, node.data.typeVersion));
  const config = node.data.config;
  useEffect(() => {
    if (!info?.ports_from_config) return undefined;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      void api
        .POST("/api/v1/node-types/{name}/{version}/ports", {
          params: { path: { name: info.name, version: info.version } },
          body: { config },
          signal: controller.signal,
        })
        .then((result) => {
          const ports = dataOf(result);
          setPorts(node.id, { inputs: ports.inputs, outputs: ports.outputs });
        })
        .catch(() => undefined);
    }, 300);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [api, info, config, node.id, setPorts]);
}

export function Inspector({ node, readOnly }: { node: FlowNode; readOnly: boolean }) {
  const { t } = useI18n();
  const types = useDecorations((d) => d.types);
  const problems = useDecorations((d) => d.problems.byNode.get(node.id));
  const nodes = useEditor((s) => s.nodes);
  const updateNode = useEditor((s) => s.updateNode);
  const renameNode = useEditor((s) => s.renameNode);
  const [idDraft, setIdDraft] = useState(node.id);
  const [idError, setIdError] = useState<string | null>(null);
  usePortsFromConfig(node);

  const info = types.get(typeKey(node.data.type, node.data.typeVersion));
  const listId = `expr-${node.id}`;
  // Suggestions change only when nodes are added, removed or renamed.
  const nodeIds = nodes.map((n) => n.id).join(" ");
  const suggestions = useMemo(
    () => expressionSuggestions(node.id, nodes, types),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- recomputed when the ids change
    [node.id, nodeIds, types],
  );

  const rename = () => {
    const next = idDraft.trim();
    if (next === node.id) return;
    if (!isValidNodeId(next)) setIdError(t("studio.inspector.badId"));
    else if (nodes.some((n) => n.id === next)) setIdError(t("studio.inspector.idTaken", { id: next }));
    else {
      setIdError(null);
      renameNode(node.id, next);
    }
  };

  return (
    <div className="inspector" data-testid="inspector" data-node-id={node.id}>
      <h2>{info?.title ?? node.data.type}</h2>
      {info?.description ? <p className="muted small">{info.description}</p> : null}
      {problems?.length ? (
        <ul className="error-text small" data-testid="inspector-problems">
          {problems.map((p, i) => (
            <li key={i}>{p.message}</li>
          ))}
        </ul>
      ) : null}
      <label>
        {t("studio.inspector.title")}
        <input
          value={node.data.title}
          disabled={readOnly}
          data-testid="inspector-title"
          onChange={(e) => updateNode(node.id, { title: e.target.value })}
        />
      </label>
      <label>
        {t("studio.inspector.id")}
        <input
          value={idDraft}
          disabled={readOnly}
          data-testid="inspector-id"
          onChange={(e) => setIdDraft(e.target.value)}
          onBlur={rename}
          onKeyDown={(e) => {
            if (e.key === "Enter") rename();
          }}
        />
      </label>
      {idError ? <p className="error-text small">{idError}</p> : null}
      <datalist id={listId}>
        {suggestions.map((s) => (
          <option key={s} value={s} />
        ))}
      </datalist>
      <h3>{t("studio.inspector.config")}</h3>
      <Form
        schema={(info?.config_schema ?? { type: "object" })}
        uiSchema={UI_SCHEMA}
        formData={node.data.config}
        validator={schemaValidator}
        widgets={WIDGETS}
        formContext={{ listId } satisfies InspectorContext}
        disabled={readOnly}
        noHtml5Validate
        showErrorList={false}
        onChange={(event, fieldId) => {
          // Without a field id the form is only filling in defaults as it opens: not an edit
          // (it would be an undo step of its own, and the stored graph keeps what was saved).
          if (fieldId === undefined) return;
          const next = (event.formData ?? {}) as Record<string, unknown>;
          if (JSON.stringify(next) !== JSON.stringify(node.data.config)) {
            updateNode(node.id, { config: next });
          }
        }}
      />
      <JsonEditor
        key={`config:${JSON.stringify(node.data.config)}`}
        label={t("studio.inspector.configJson")}
        value={node.data.config}
        testId="config-json"
        onApply={(config) => updateNode(node.id, { config })}
      />
      <JsonEditor
        key={`extra:${JSON.stringify(node.data.extra)}`}
        label={t("studio.inspector.settingsJson")}
        value={node.data.extra}
        testId="settings-json"
        onApply={(extra) => updateNode(node.id, { extra })}
      />
    </div>
  );
}
