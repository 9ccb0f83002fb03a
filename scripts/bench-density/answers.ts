/**
 * Does every bottle still answer? For `bench:density`, each bottle is asked three things:
 *
 * - its sidecar's health over the control socket (`ready`);
 * - from inside its agent, through the relay and the egress gate, a request the policy refuses
 *   (403 with the gate's `X-Bot-Bottle-Denied` header);
 * - from inside its agent, a request the policy allows, to a plain HTTP upstream container of the
 *   bench's own, attached to the bottle's network under the name the rule allows (its answer's
 *   body must come back).
 */
import { sidecarState } from "../../src/backend/docker/secret-keeper.js";
import type { Bottle } from "./fleet.js";
import { UPSTREAM_HOST, UPSTREAM_PORT, docker } from "./fleet.js";

const UPSTREAM_BODY = "density-upstream-ok";
const PROXY = "http://127.0.0.1:3128";

export interface Answer {
  identity: string;
  health: string;
  denied: string;
  allowed: string;
  ok: boolean;
}

/**
 * The upstream container (node's http server on the base image, on the engine's default bridge
 * until it is attached to a bottle's network); returns its name.
 */
export async function startUpstream(label: string): Promise<string> {
  const name = `bench-density-upstream-${String(process.pid)}`;
  const server = `require("http").createServer((q, s) => s.end(${JSON.stringify(UPSTREAM_BODY)})).listen(${String(UPSTREAM_PORT)})`;
  await docker(
    "run",
    "-d",
    "--name",
    name,
    "--label",
    label,
    "--entrypoint",
    "node",
    process.env["BOT_BOTTLE_BASE_IMAGE"] ?? "bot-bottle/base:bookworm",
    "-e",
    server,
  );
  return name;
}

export async function removeUpstream(name: string): Promise<void> {
  await docker("rm", "-f", name).catch(() => undefined);
}

/** Asks one bottle; never throws (a failure is an answer that is not ok). */
export async function ask(bottle: Bottle, upstream: string): Promise<Answer> {
  const health = (await sidecarState(bottle.controlSocket)) ?? "no answer";
  let out: { denied: string; allowed: string };
  try {
    await docker("network", "connect", "--alias", UPSTREAM_HOST, bottle.network, upstream);
    const script = [
      `curl -s -m 20 -o /dev/null -w '%{http_code} %header{x-bot-bottle-denied}' -x ${PROXY} http://denied.density.test/`,
      "echo",
      `curl -s -m 20 -x ${PROXY} http://${UPSTREAM_HOST}:${String(UPSTREAM_PORT)}/`,
    ].join("; ");
    const { stdout } = await docker("exec", bottle.agent.id, "sh", "-c", script);
    const [denied = "", allowed = ""] = stdout.split("\n");
    out = { denied: denied.trim(), allowed: allowed.trim() };
  } catch (error) {
    const why = error instanceof Error ? error.message.split("\n")[0] : String(error);
    out = { denied: "", allowed: `failed: ${why ?? ""}` };
  } finally {
    // Off the bottle's network again, or `bottle stop` could not remove the network.
    await docker("network", "disconnect", "-f", bottle.network, upstream).catch(() => undefined);
  }
  return {
    identity: bottle.identity,
    health,
    ...out,
    ok: health === "ready" && /^403 \S/.test(out.denied) && out.allowed === UPSTREAM_BODY,
  };
}
