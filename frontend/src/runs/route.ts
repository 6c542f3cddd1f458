// The runs screens' URLs under /app/: "/runs" the list, "/runs/7" a run.

export const LIST_PATH = "/runs";

export function runPath(id: number): string {
  return `/runs/${id}`;
}

/** The run id of a "/runs/:id" URL, or null when it is not a positive whole number. */
export function parseRunId(param: string | undefined): number | null {
  if (!param || !/^\d+$/.test(param)) return null;
  const id = Number(param);
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}
