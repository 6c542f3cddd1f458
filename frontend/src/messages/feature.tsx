import type { Role } from "../api/models";
import type { Feature } from "../app/feature";
import { InboundDetailRoute, OutboundDetailRoute } from "./MessageDetail";
import { MessagesPage } from "./MessagesPage";

// The console's APIs (deliveries, queues, raw messages, reprocess, resend) are for the
// department's admins and integration engineers (orchestrator/accounts/policy.py).
const CONSOLE_ROLES: readonly Role[] = ["admin", "integration"];

export const feature: Feature = {
  name: "messages",
  routes: [
    { path: "messages", element: <MessagesPage />, roles: CONSOLE_ROLES },
    { path: "messages/inbound/:id", element: <InboundDetailRoute />, roles: CONSOLE_ROLES },
    { path: "messages/outbound/:id", element: <OutboundDetailRoute />, roles: CONSOLE_ROLES },
  ],
  nav: [{ to: "/messages", label: "nav.messages", roles: CONSOLE_ROLES, order: 70 }],
};
