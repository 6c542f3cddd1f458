import { api as defaultClient } from "./api/client";
import type { ApiClient } from "./api/client";
import { I18nProvider } from "./i18n";
import type { Lang } from "./i18n";
import { Header } from "./layout/Header";
import { useMe } from "./layout/useMe";
import { RunsPage } from "./runs/RunsPage";

export interface AppProps {
  client?: ApiClient;
  initialLang?: Lang;
  pollMs?: number;
}

function Shell({ client, pollMs }: { client: ApiClient; pollMs?: number | undefined }) {
  const me = useMe(client);
  return (
    <>
      <Header me={me} />
      <main className="app-main">
        <RunsPage client={client} departmentName={me?.department?.name} pollMs={pollMs} />
      </main>
    </>
  );
}

export function App({ client = defaultClient, initialLang, pollMs }: AppProps) {
  return (
    <I18nProvider {...(initialLang ? { initial: initialLang } : {})}>
      <Shell client={client} pollMs={pollMs} />
    </I18nProvider>
  );
}
