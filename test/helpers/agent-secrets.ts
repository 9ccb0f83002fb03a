/** The check that a bottle's agent container holds none of the real secrets the sidecar keeps. */
import assert from "node:assert/strict";
import { docker, execAs, execAsRoot } from "./docker.js";

/**
 * Asserts that no `secret` is anywhere in the agent container of bottle `identity`: its processes'
 * environments (which must name `marker`, the variable that shows they were read), its files
 * (searched as root and, since root there has no capabilities, as the agent, for its private
 * folders), its image's history and its configured environment.
 */
export async function assertSecretsNowhereInAgent(
  identity: string,
  secrets: readonly string[],
  marker: string,
): Promise<void> {
  const agent = `bot-bottle-${identity}-agent`;
  const environ = await execAsRoot(agent, "cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'");
  assert.ok(environ.includes(marker), "the environments were read");
  const info = await docker.getContainer(agent).inspect();
  const history = JSON.stringify(await docker.getImage(info.Image).history());
  for (const secret of secrets) {
    assert.ok(!environ.includes(secret));
    const search = `grep -rlsF '${secret}' / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev; echo searched`;
    assert.equal((await execAsRoot(agent, search)).trim(), "searched");
    assert.equal((await execAs(agent, "1500", search)).trim(), "searched");
    assert.ok(!history.includes(secret));
    assert.ok(!JSON.stringify(info.Config.Env).includes(secret));
  }
}
