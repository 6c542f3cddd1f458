import type { Feature } from "../app/feature";
import { TemplateDesignerRoute } from "./TemplateDesignerPage";
import { TemplatesPage } from "./TemplatesPage";

export const feature: Feature = {
  name: "designer",
  routes: [
    { path: "studio/templates", element: <TemplatesPage />, roles: ["admin"] },
    { path: "studio/templates/:slug", element: <TemplateDesignerRoute />, roles: ["admin"] },
  ],
  nav: [{ to: "/studio/templates", label: "nav.templates", roles: ["admin"], order: 20 }],
};
