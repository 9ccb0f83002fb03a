/**
 * The dashboard's API as plain data (PURE): what a request to /api/ carries once read, what a
 * handler answers, and the actions the page (or a script) may post. Actions are parsed here with
 * zod, so a malformed body is refused whole before anything is done.
 */
import { z } from "zod";

export interface ApiRequest {
  method: string;
  pathname: string;
  query: URLSearchParams;
  /** The parsed JSON body of a POST; undefined when there was none. */
  body: unknown;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

export function ok(body: unknown): ApiResponse {
  return { status: 200, body };
}

export function problem(status: number, message: string, hint?: string): ApiResponse {
  return { status, body: hint === undefined ? { error: message } : { error: message, hint } };
}

const identity = z.string().min(1).max(128).describe("the bottle's identity");

export const actionSchema = z.discriminatedUnion("action", [
  z.strictObject({ action: z.literal("stop"), bottle: identity }),
  z.strictObject({ action: z.literal("resume"), bottle: identity }),
]);

export type Action = z.infer<typeof actionSchema>;
