import { useQuery } from "@tanstack/react-query";
import { dataOf, useApi } from "../api/client";
import type { Me } from "../api/models";

export const ME_KEY = ["me"] as const;

/** The signed-in user (role, department), or undefined while loading / when it failed (a
 * signed-out browser is already on its way to sign in). */
export function useMe(): Me | undefined {
  const api = useApi();
  const { data } = useQuery({
    queryKey: ME_KEY,
    queryFn: async ({ signal }) => dataOf(await api.GET("/api/v1/me", { signal })),
    staleTime: 5 * 60_000,
  });
  return data;
}
