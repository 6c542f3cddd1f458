import { useEffect, useState } from "react";
import type { ApiClient } from "../api/client";
import type { Me } from "../api/types";

/** The signed-in user, or null while loading / when it could not be read. */
export function useMe(client: ApiClient): Me | null {
  const [me, setMe] = useState<Me | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    client.getMe(controller.signal).then(
      (value) => {
        if (!controller.signal.aborted) setMe(value);
      },
      () => {
        // 401/403 already sends the browser to the login page; other errors
        // leave the header without a name (the runs list reports API trouble).
      },
    );
    return () => controller.abort();
  }, [client]);

  return me;
}
