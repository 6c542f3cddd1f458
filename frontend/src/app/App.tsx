import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useState } from "react";
import { BrowserRouter, MemoryRouter, useRoutes } from "react-router";
import { api as defaultClient, ApiProvider } from "../api/client";
import type { Api } from "../api/client";
import { I18nProvider } from "../i18n";
import type { Lang } from "../i18n";
import { Header } from "./Header";
import { buildRoutes } from "./routes";
import { SettingsProvider } from "./settings";
import { useMe } from "./useMe";

export const BASENAME = "/app";

export interface AppProps {
  client?: Api;
  initialLang?: Lang;
  pollMs?: number;
  /** Start at this URL in memory instead of the browser's (tests): "/app/runs/12". */
  path?: string;
  queryClient?: QueryClient;
}

/** Errors are shown as they come: a retry would hide a refused action or delay a sign-in. */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { retry: false, refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  });
}

const ROUTES = buildRoutes();

function Shell() {
  const me = useMe();
  const element = useRoutes(ROUTES);
  return (
    <>
      <Header me={me} />
      <main className="app-main">{element}</main>
    </>
  );
}

export function App({ client = defaultClient, initialLang, pollMs, path, queryClient }: AppProps) {
  const [queries] = useState(() => queryClient ?? createQueryClient());
  const shell = <Shell />;
  return (
    <ApiProvider value={client}>
      <QueryClientProvider client={queries}>
        <I18nProvider {...(initialLang ? { initial: initialLang } : {})}>
          <SettingsProvider value={{ pollMs }}>
            {path ? (
              <MemoryRouter basename={BASENAME} initialEntries={[path]}>
                {shell}
              </MemoryRouter>
            ) : (
              <BrowserRouter basename={BASENAME}>{shell}</BrowserRouter>
            )}
          </SettingsProvider>
        </I18nProvider>
      </QueryClientProvider>
    </ApiProvider>
  );
}
