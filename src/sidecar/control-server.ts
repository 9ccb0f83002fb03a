/**
 * The sidecar's control API, on a unix socket in the bottle's state folder: the host reaches it,
 * the agent does not (that folder is never mounted into the agent).
 *
 *   GET  /health   liveness and the gates served
 *   PUT  /secrets  the bottle's tokens and keys, held in memory only (never written, never logged)
 *   GET  /policy   the egress rules in force
 *   POST /policy/edit  one change (core/policy/policy-edit.ts) applied to the rules in force when
 *                      it arrives, saved to policy.json, effective for the next request; answers
 *                      the new rules. An edit that cannot apply: 400 with its BottleError code.
 *   POST /policy/save  write the rules in force to policy.json again (the host asks at stop)
 *   PUT  /git/branches  replace the git gate's push branches of the named entries (an approved
 *                       push-branch request), effective for the next push
 *
 * While the sidecar runs it is policy.json's only writer: the host never puts a rule set it read
 * earlier, so a `once` rule spent in between cannot come back.
 *
 * A handler that throws answers 500 and changes nothing it had not already applied.
 */
import http from "node:http";
import { GATE_CONNECTIONS } from "../core/contract/sidecar-limits.js";
import type { z } from "zod";
import type { EgressRules } from "../core/policy/policy-change.js";
import type { PolicyEdit } from "../core/policy/policy-edit.js";
import { isBottleError } from "../core/errors.js";
import type { HealthReport, SidecarSecrets } from "../core/contract/contract.js";
import type { GitBranches } from "../core/contract/contract.js";
import {
  contractIssues,
  gitBranchesSchema,
  policyEditSchema,
  sidecarSecretsSchema,
} from "../core/contract/contract.js";

import type { ListenTarget } from "./shared/gate-listen.js";
import { GateServer } from "./shared/gate-server.js";

export type { HealthReport } from "../core/contract/contract.js";

export interface ControlHandlers {
  /** The report without the uptime (added here); `once_consumed` defaults to 0. */
  health(): Omit<HealthReport, "uptime_ms" | "once_consumed"> & { once_consumed?: number };
  setSecrets(secrets: SidecarSecrets): void;
  getPolicy(): EgressRules;
  /**
   * Applies `edit` to the rules in force and saves them; returns the new rules. Throws a
   * BottleError for an edit that cannot apply, any other error when saving failed (then nothing
   * changed).
   */
  editPolicy(edit: PolicyEdit): EgressRules;
  /** Writes the rules in force to policy.json. */
  savePolicy(): void;
  /** Replaces the push branches of the named git entries; throws (nothing changed) on an unknown one. */
  setPushBranches?(branches: GitBranches["branches"]): void;
}

const MAX_BODY = 1024 * 1024;

/** A body that cannot be read as JSON: 400, nothing changed. */
class BadRequest extends Error {}

function readBody(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new BadRequest("body too large"));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown);
      } catch {
        reject(new BadRequest("body is not JSON; nothing changed"));
      }
    });
    req.on("error", reject);
  });
}

function parseBody<T>(
  schema: z.ZodType<T>,
  body: unknown,
): { ok: true; value: T } | { ok: false; error: string } {
  const result = schema.safeParse(body);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, error: contractIssues(result.error) };
}

export class ControlServer {
  private readonly server: GateServer;
  private readonly startedAt = Date.now();

  constructor(private readonly handlers: ControlHandlers) {
    const server = http.createServer((req, res) => {
      void this.route(req, res);
    });
    this.server = new GateServer(server, "the control API", {
      maxConnections: GATE_CONNECTIONS.control,
    });
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    try {
      const route = `${req.method ?? ""} ${req.url ?? ""}`;
      if (route === "GET /health") {
        send(200, {
          once_consumed: 0,
          ...this.handlers.health(),
          uptime_ms: Date.now() - this.startedAt,
        });
      } else if (route === "GET /policy") {
        send(200, this.handlers.getPolicy());
      } else if (route === "POST /policy/edit") {
        const edit = parseBody(policyEditSchema, await readBody(req));
        if (!edit.ok) {
          send(400, { error: `policy edit refused, nothing changed: ${edit.error}` });
          return;
        }
        try {
          send(200, this.handlers.editPolicy(edit.value));
        } catch (error) {
          if (!isBottleError(error)) throw error;
          send(400, { error: error.message, code: error.code, hint: error.hint ?? null });
        }
      } else if (route === "POST /policy/save") {
        this.handlers.savePolicy();
        send(200, { ok: true });
      } else if (route === "PUT /git/branches") {
        const body = parseBody(gitBranchesSchema, await readBody(req));
        if (!body.ok) {
          send(400, { error: `push branches refused, nothing changed: ${body.error}` });
          return;
        }
        try {
          if (this.handlers.setPushBranches === undefined) throw new Error("no git gate here");
          this.handlers.setPushBranches(body.value.branches);
        } catch (error) {
          send(400, { error: `push branches refused, nothing changed: ${String(error)}` });
          return;
        }
        send(200, { ok: true });
      } else if (route === "PUT /secrets") {
        const secrets = parseBody(sidecarSecretsSchema, await readBody(req));
        if (!secrets.ok) {
          // The issues name fields, never values: a secret is not echoed back.
          send(400, { error: `secrets refused, nothing changed: ${secrets.error}` });
          return;
        }
        this.handlers.setSecrets(secrets.value);
        send(200, { ok: true });
      } else send(404, { error: `no route ${route}` });
    } catch (error) {
      if (error instanceof BadRequest) {
        send(400, { error: error.message });
        return;
      }
      send(500, { error: error instanceof Error ? error.message : "internal error" });
    }
  }

  /**
   * Listens on the control socket (mode 0600: the operator's only), never with a guard: the
   * host must reach it while the gates wait for their secrets. A stale socket is replaced; any
   * other file in the way is refused, never removed.
   */
  listen(target: ListenTarget): Promise<void> {
    return this.server.listen(target);
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}
