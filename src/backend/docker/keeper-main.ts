/**
 * The detached secret keeper's process (see home-keeper.ts): `node keeper-main.js <keeper socket>`,
 * one bottle's registration (keeper-protocol.ts, with its secrets) as JSON on stdin, never argv,
 * env or a file. Becomes the state home's keeper when it takes the home's lock, else hands the
 * bottle to the keeper that holds it (retrying while that one starts or exits), for up to 10 s.
 * Prints a ready line with the keeper's pid on stdout once the bottle is kept; logs (never a
 * secret) on stderr.
 */
import { HomeKeeper } from "./home-keeper.js";
import { parseRegistration } from "./keeper-protocol.js";
import { registerWithKeeper } from "./keeper-register.js";
import { KEEPER_READY_LINE } from "./keeper-spawn.js";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const [socketPath] = process.argv.slice(2);
  if (socketPath === undefined) throw new Error("usage: keeper-main <keeper socket>");
  const registration = parseRegistration((await readStdin()).trim());
  if (registration === undefined) throw new Error("the registration on stdin is malformed");
  const deadline = Date.now() + 10_000;
  for (;;) {
    const keeper = new HomeKeeper(socketPath, (line) => process.stderr.write(`${line}\n`));
    if (await keeper.start()) {
      keeper.keep(registration);
      process.stdout.write(`${KEEPER_READY_LINE} ${String(process.pid)}\n`);
      return;
    }
    try {
      const pid = await registerWithKeeper(socketPath, registration);
      process.stdout.write(`${KEEPER_READY_LINE} ${String(pid)}\n`);
      return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(
          `no keeper of this home took the bottle within 10 s: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
    }
    await sleep(50);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${new Date().toISOString()} bot-bottle keeper failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
});
