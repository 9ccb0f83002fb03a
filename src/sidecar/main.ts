/**
 * The sidecar process: reads its configuration, starts the bottle's gates, prints the ready line,
 * and stops them on SIGTERM. If it dies, the sockets die with it: the agent loses its ways out
 * (fail closed).
 */
import fs from "node:fs";
import path from "node:path";
import { Sidecar } from "./sidecar.js";
import { parseContract, sidecarConfigSchema } from "../core/contract/contract.js";
import { READY_LINE, SIDECAR_STATE_DIR } from "./sidecar-config.js";

async function main(): Promise<void> {
  const configPath = process.argv[2] ?? path.join(SIDECAR_STATE_DIR, "sidecar.json");
  const config = parseContract(
    sidecarConfigSchema,
    JSON.parse(fs.readFileSync(configPath, "utf8")) as unknown,
    configPath,
  );
  const sidecar = new Sidecar(config);
  await sidecar.start();
  process.stdout.write(`${READY_LINE}\n`);
  const shutdown = (): void => {
    void sidecar.stop();
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`bot-bottle sidecar failed to start: ${message}\n`);
  process.exitCode = 1;
});
