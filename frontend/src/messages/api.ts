// The console's data: lists, details, queues and the two actions, through TanStack Query.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { dataOf, useApi } from "../api/client";
import type { components } from "../api/schema";
import { inboundQuery, outboundQuery } from "./search";
import type { Search } from "./search";

export type InboundMessage = components["schemas"]["InboundMessage"];
export type InboundDetail = components["schemas"]["InboundMessageDetail"];
export type Delivery = components["schemas"]["Delivery"];
export type DeliveryDetail = components["schemas"]["DeliveryDetail"];
export type DeliveryQueue = components["schemas"]["DeliveryQueue"];

export function useInboundList(search: Search, enabled: boolean) {
  const api = useApi();
  const query = inboundQuery(search, new Date().getTimezoneOffset());
  return useQuery({
    queryKey: ["messages", "inbound", query],
    enabled,
    placeholderData: keepPreviousData,
    queryFn: async ({ signal }) =>
      dataOf(await api.GET("/api/v1/integration/inbound-messages/", { params: { query }, signal })),
  });
}

export function useOutboundList(search: Search, enabled: boolean) {
  const api = useApi();
  const query = outboundQuery(search);
  return useQuery({
    queryKey: ["messages", "outbound", query],
    enabled,
    placeholderData: keepPreviousData,
    queryFn: async ({ signal }) =>
      dataOf(await api.GET("/api/v1/deliveries/", { params: { query }, signal })),
  });
}

export function useQueues(enabled: boolean) {
  const api = useApi();
  return useQuery({
    queryKey: ["messages", "queues"],
    enabled,
    queryFn: async ({ signal }) => dataOf(await api.GET("/api/v1/delivery-queues", { signal })),
  });
}

export function useInboundDetail(id: number) {
  const api = useApi();
  return useQuery({
    queryKey: ["messages", "inbound-detail", id],
    queryFn: async ({ signal }) =>
      dataOf(
        await api.GET("/api/v1/integration/inbound-messages/{id}/", {
          params: { path: { id: String(id) } },
          signal,
        }),
      ),
  });
}

export function useOutboundDetail(id: number) {
  const api = useApi();
  return useQuery({
    queryKey: ["messages", "outbound-detail", id],
    queryFn: async ({ signal }) =>
      dataOf(await api.GET("/api/v1/deliveries/{id}/", { params: { path: { id: String(id) } }, signal })),
  });
}

/** Reprocess an inbound message; the lists and the original's links are refreshed after. */
export function useReprocess(id: number) {
  const api = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: async () =>
      dataOf(
        await api.POST("/api/v1/integration/inbound-messages/{id}/reprocess", {
          params: { path: { id } },
        }),
      ),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["messages"] }),
  });
}

/** Resend a delivery as a new one linked to it. */
export function useResend(id: number) {
  const api = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: async () =>
      dataOf(await api.POST("/api/v1/deliveries/{id}/resend", { params: { path: { id } } })),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["messages"] }),
  });
}
