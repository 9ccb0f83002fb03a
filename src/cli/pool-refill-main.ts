/**
 * The detached refill of one agent's warm pool: `node pool-refill-main.js <agent>`, started by a
 * pooled start (pooled-start.ts) with the start's environment; its stdout and stderr go to
 * pool/refill.log in the state home. Brings the pool back to its size (operator/pool.ts) and
 * exits; a second one started meanwhile finds the refill lock held and exits at once.
 */
import { currentHostEnv } from "../core/host/paths.js";
import { operatorContext } from "../operator/operator-context.js";
import { refillPool } from "../operator/pool.js";
import { renderError } from "./program.js";

const agent = process.argv[2];
const stamp = (): string => new Date().toISOString();
if (agent === undefined) {
  process.stderr.write("usage: pool-refill-main <agent>\n");
  process.exitCode = 2;
} else {
  try {
    await refillPool(operatorContext(currentHostEnv()), agent, (line) => {
      process.stdout.write(`${stamp()} ${agent}: ${line}\n`);
    });
  } catch (error) {
    process.stdout.write(`${stamp()} ${agent}: refill failed: ${renderError(error)}\n`);
    process.exitCode = 1;
  }
}
