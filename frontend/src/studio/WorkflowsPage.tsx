// /app/studio/workflows: the department's workflows, and a new one (name, slug, case type,
// report template) that opens in the editor.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { ApiError, dataOf, useApi } from "../api/client";
import { useMe } from "../app/useMe";
import { useI18n } from "../i18n";
import { studioKeys, useTemplates, useWorkflows } from "./api";
import "./studio.css";

function slugOf(name: string): string {
  return name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 50);
}

function CreateWorkflow() {
  const { t } = useI18n();
  const api = useApi();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const templates = useTemplates();
  const [name, setName] = useState("");
  const [slug, setSlug] = useState("");
  const [slugTouched, setSlugTouched] = useState(false);
  const [caseType, setCaseType] = useState("");
  const [template, setTemplate] = useState("");
  const create = useMutation({
    mutationFn: async () =>
      dataOf(
        await api.POST("/api/v1/workflows", {
          body: { name, slug, case_type: caseType, template, description: "" },
        }),
      ),
    onSuccess: async (created) => {
      await queryClient.invalidateQueries({ queryKey: studioKeys.workflows });
      void navigate(`/studio/workflows/${created.slug}`);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  const error = create.error instanceof ApiError ? create.error : null;
  return (
    <form className="studio-form" onSubmit={submit} data-testid="create-workflow">
      <h2>{t("studio.create.heading")}</h2>
      <label>
        {t("studio.create.name")}
        <input
          required
          value={name}
          data-testid="create-name"
          onChange={(e) => {
            setName(e.target.value);
            if (!slugTouched) setSlug(slugOf(e.target.value));
          }}
        />
      </label>
      <label>
        {t("studio.create.slug")}
        <input
          required
          pattern="[-a-zA-Z0-9_]+"
          value={slug}
          data-testid="create-slug"
          onChange={(e) => {
            setSlugTouched(true);
            setSlug(e.target.value);
          }}
        />
      </label>
      <label>
        {t("studio.create.caseType")}
        <input
          required
          pattern="[-a-zA-Z0-9_]+"
          value={caseType}
          placeholder="breast-resection"
          data-testid="create-case-type"
          onChange={(e) => setCaseType(e.target.value)}
        />
      </label>
      <label>
        {t("studio.create.template")}
        <select
          required
          value={template}
          data-testid="create-template"
          onChange={(e) => setTemplate(e.target.value)}
        >
          <option value="">{t("studio.create.pickTemplate")}</option>
          {(templates.data?.results ?? []).map((tpl) => (
            <option key={tpl.slug} value={tpl.slug}>
              {tpl.name} ({tpl.slug})
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={create.isPending}>
        {t("studio.create.submit")}
      </button>
      {error ? (
        <div className="error-text" role="alert" data-testid="create-error">
          {error.message}
          {error.problems.length ? (
            <ul>
              {error.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
    </form>
  );
}

export function WorkflowsPage() {
  const { t } = useI18n();
  const me = useMe();
  const workflows = useWorkflows();
  return (
    <section className="runs-page studio-page" aria-labelledby="workflows-heading">
      <div className="runs-toolbar">
        <h1 id="workflows-heading">{t("studio.workflows.heading")}</h1>
      </div>
      {workflows.isPending ? (
        <p className="state state--loading" role="status">
          {t("page.loading")}
        </p>
      ) : workflows.error ? (
        <p className="error-text" role="alert">
          {workflows.error.message}
        </p>
      ) : workflows.data.length === 0 ? (
        <p className="state state--empty">{t("studio.workflows.empty")}</p>
      ) : (
        <table className="runs" data-testid="workflows-table">
          <thead>
            <tr>
              <th scope="col">{t("studio.workflows.name")}</th>
              <th scope="col">{t("studio.create.caseType")}</th>
              <th scope="col">{t("studio.workflows.published")}</th>
              <th scope="col">{t("studio.workflows.draft")}</th>
            </tr>
          </thead>
          <tbody>
            {workflows.data.map((w) => (
              <tr key={w.slug} data-testid="workflow-row">
                <th scope="row">
                  <Link to={`/studio/workflows/${w.slug}`}>{w.name}</Link>{" "}
                  <code className="muted">{w.slug}</code>
                </th>
                <td>
                  <code>{w.case_type}</code>
                </td>
                <td>{w.published_version ? `v${w.published_version}` : "—"}</td>
                <td>{w.draft_version ? `v${w.draft_version}` : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {me?.role === "admin" ? <CreateWorkflow /> : null}
    </section>
  );
}
