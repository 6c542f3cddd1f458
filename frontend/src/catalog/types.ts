// Names for the catalog's generated schema types.
import type { components } from "../api/schema";

type Schemas = components["schemas"];

export type CatalogEntry = Schemas["CatalogEntry"];
export type CatalogProtocol = Schemas["Protocol"];
export type TestCallResult = Schemas["TestCallResult"];
export type CatalogUse = Schemas["Use"];
