/**
 * The sidecar process: reads its configuration, serves the gates on unix sockets in the shared
 * socket folder and the control API in the state folder, then prints the ready line. Exits on
 * SIGTERM after closing every gate. If it dies, the sockets die with it: the agent loses its ways
 * out (fail closed).
 */
import fs from "node:fs";
import path from "node:path";
import { GATES } from "../core/plan/layout.js";
import { AuditLog } from "./egress/audit-log.js";
import { EgressProxy } from "./egress/egress-proxy.js";
import { decideEgress } from "./egress/egress-policy.js";
import { ControlServer } from "./control-server.js";
import type { SidecarConfig } from "./sidecar-config.js";
import { READY_LINE, SIDECAR_STATE_DIR } from "./sidecar-config.js";

async function main(): Promise<void> {
  const configPath = process.argv[2] ?? path.join(SIDECAR_STATE_DIR, "sidecar.json");
  const config = JSON.parse(fs.readFileSync(configPath, "utf8")) as SidecarConfig;
  const audit = new AuditLog(path.join(config.state_dir, "audit", "egress.jsonl"));
  const egress = new EgressProxy({
    decide: (request) => decideEgress(config.egress, request),
    audit: (entry) => {
      audit.write(entry);
    },
  });
  await egress.listen({ path: path.join(config.socket_dir, GATES.egress.socket) });
  const control = new ControlServer(() => ({
    ok: true,
    identity: config.identity,
    gates: ["egress"],
  }));
  await control.listen(path.join(config.state_dir, "control", "control.sock"));
  process.stdout.write(`${READY_LINE}\n`);

  const shutdown = (): void => {
    void Promise.allSettled([egress.stop(), control.stop(), audit.close()]).then(() => {
      process.exitCode = 0;
    });
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bot-bottle sidecar failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
});
