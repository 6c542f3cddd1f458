import type { Feature } from "../app/feature";
import { CatalogPage } from "./CatalogPage";

export const feature: Feature = {
  name: "catalog",
  routes: [{ path: "studio/catalog", element: <CatalogPage />, roles: ["admin"] }],
  nav: [{ to: "/studio/catalog", label: "nav.catalog", roles: ["admin"], order: 30 }],
};
