/** The page's calls to its server: same-origin fetches (the session cookie goes along). */
import type { Action } from "../api-types.js";
import type { WireBottle, WirePolicy, WirePreview, WireRequest } from "../wire.js";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly hint: string | undefined,
  ) {
    super(message);
  }
}

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(path, { credentials: "same-origin", ...init });
  const body = (await res.json()) as unknown;
  if (!res.ok) {
    const error = body as { error?: string; hint?: string };
    throw new ApiError(error.error ?? `HTTP ${res.status}`, res.status, error.hint);
  }
  return body as T;
}

export const api = {
  bottles: () => call<WireBottle[]>("/api/bottles"),
  requests: () => call<WireRequest[]>("/api/requests"),
  policy: (bottle: string) => call<WirePolicy>(`/api/policy?bottle=${encodeURIComponent(bottle)}`),
  act: <T = { done: string }>(action: Action) =>
    call<T>("/api/actions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(action),
    }),
  preview: (action: Extract<Action, { action: "preview" }>) => api.act<WirePreview>(action),
};

/** A failed call's message with its hint, for the operator. */
export function messageOf(e: unknown): string {
  if (e instanceof ApiError) return e.hint === undefined ? e.message : `${e.message} ${e.hint}`;
  return e instanceof Error ? e.message : String(e);
}
