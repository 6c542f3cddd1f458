// Names for the generated schema's types (src/api/schema.d.ts), as the screens use them.
import type { components } from "./schema";

type Schemas = components["schemas"];

export type Me = Schemas["Me"];
export type Role = Schemas["RoleEnum"];
export type RunStatus = Schemas["RunStatusEnum"];
/** A node's status: its latest attempt's, or "pending" when it has not run. */
export type NodeRunStatus = Schemas["NodeRunStatusEnum"] | "pending";
export type Run = Schemas["Run"];
export type RunList = Schemas["PaginatedRunList"];
export type NodeRun = Schemas["NodeRun"];
export type RunDetail = Schemas["RunDetail"];
export type NodeAttempt = Schemas["NodeAttempt"];
export type GraphNode = Schemas["GraphNodeRef"];
export type RunProgress = Schemas["RunProgress"];
export type ProgressNodeRun = Schemas["ProgressAttempt"];
