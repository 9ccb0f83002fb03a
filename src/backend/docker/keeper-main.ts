/**
 * The detached keeper of one bottle (see secret-keeper.ts): `node keeper-main.js <control socket>
 * <metadata file>`, the secrets as JSON on stdin (never argv, env or a file). Prints a ready line
 * on stdout once it holds them, logs hand-overs (never a secret) on stderr, and exits when the
 * bottle stops.
 */
import { KEEPER_READY_LINE, SecretKeeper } from "./secret-keeper.js";
import { isSidecarSecrets } from "../../core/contract/keeper-checks.js";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function main(): Promise<void> {
  const [controlSocket, metadataFile] = process.argv.slice(2);
  if (controlSocket === undefined || metadataFile === undefined)
    throw new Error("usage: keeper-main <control socket> <metadata file>");
  const secrets: unknown = JSON.parse(await readStdin());
  if (!isSidecarSecrets(secrets)) throw new Error("the secrets on stdin are malformed");
  const keeper = new SecretKeeper(
    { controlSocket, metadataFile },
    secrets,
    (line) => process.stderr.write(`${line}\n`),
    () => {
      process.exitCode = 0;
    },
  );
  keeper.start(false);
  process.stdout.write(`${KEEPER_READY_LINE}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bot-bottle keeper failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
});
