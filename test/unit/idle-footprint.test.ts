/**
 * Issue 18, density: what an idle bottle's long-lived processes load and how their heap is set.
 * Each bottle runs a sidecar and a detached secret keeper for as long as it lives; `npm run
 * bench:density` measured what these cost (zod: about 8 MB in a process; the MCP SDK: about 6 MB
 * of the sidecar's heap; Node's default young generation: about 7 MB of an idle sidecar).
 * The module graphs are read by a resolve hook in a child process: the test fails if a change
 * makes the keeper load zod again, or the idle sidecar the MCP SDK.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import {
  BUFFERED_BYTES,
  SIDECAR_CONTAINER,
  SIDECAR_HEAP,
  sidecarNodeOptions,
} from "../../src/core/contract/sidecar-limits.js";
import { KEEPER_NODE_FLAGS } from "../../src/backend/docker/secret-keeper.js";

const MiB = 1024 * 1024;
const srcUrl = (file: string): string =>
  pathToFileURL(new URL(`../../src/${file}`, import.meta.url).pathname).href;

/** Every bare specifier (a package) resolved while the given modules are imported, in a child. */
function packagesLoadedBy(modules: string[]): string[] {
  const hooks = `export async function resolve(s, c, next) { if (!/^(node:|file:|data:|\\.|\\/)/.test(s)) process.stderr.write("PKG " + s + "\\n"); return next(s, c); }`;
  const register = `import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
  const child = spawnSync(
    process.execPath,
    [
      "--import",
      `data:text/javascript,${encodeURIComponent(register)}`,
      "--input-type=module",
      "-e",
      modules.map((m) => `await import(${JSON.stringify(m)});`).join(""),
    ],
    { encoding: "utf8" },
  );
  assert.equal(child.status, 0, child.stderr);
  return child.stderr
    .split("\n")
    .filter((l) => l.startsWith("PKG "))
    .map((l) => l.slice(4));
}

describe("an idle bottle's processes", () => {
  it("the hook sees a package when one is loaded (the checks below can fail)", () => {
    assert.ok(packagesLoadedBy([srcUrl("core/contract/contract.js")]).includes("zod"));
  });

  it("the secret keeper's process loads no zod", () => {
    // What keeper-main.js imports (it reads its stdin when imported, so not it).
    const loaded = packagesLoadedBy([
      srcUrl("backend/docker/home-keeper.js"),
      srcUrl("backend/docker/keeper-protocol.js"),
      srcUrl("backend/docker/keeper-register.js"),
      srcUrl("backend/docker/keeper-spawn.js"),
      srcUrl("backend/docker/secret-keeper.js"),
      srcUrl("core/contract/keeper-checks.js"),
    ]);
    assert.deepEqual(loaded, []);
  });

  it("the sidecar loads the MCP SDK only at the supervise gate's first message", () => {
    const loaded = packagesLoadedBy([srcUrl("sidecar/sidecar.js")]);
    assert.ok(loaded.includes("zod"), "the sidecar parses its config with zod");
    assert.deepEqual(
      loaded.filter((p) => p.startsWith("@modelcontextprotocol/")),
      [],
    );
  });

  it("the sidecar's heap flags are accepted by node in NODE_OPTIONS and set its heap", () => {
    const child = spawnSync(
      process.execPath,
      [
        "-e",
        `const v8 = require("v8"); const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === "new_space"); console.log(JSON.stringify({ limit: v8.getHeapStatistics().heap_size_limit, young: s.space_size }))`,
      ],
      { encoding: "utf8", env: { ...process.env, NODE_OPTIONS: sidecarNodeOptions() } },
    );
    assert.equal(child.status, 0, child.stderr);
    const heap = JSON.parse(child.stdout) as { limit: number; young: number };
    assert.ok(
      heap.young <= SIDECAR_HEAP.semiSpaceMiB * MiB,
      `young generation ${String(heap.young)}`,
    );
    assert.ok(
      heap.limit <= (SIDECAR_HEAP.oldSpaceMiB + 8 * SIDECAR_HEAP.semiSpaceMiB) * MiB,
      `heap limit ${String(heap.limit)}`,
    );
  });

  it("the sidecar's heap and the bodies it holds fit in its container with room for the rest", () => {
    // Node itself, the content checks' worker thread, git and ssh: at least 256 MiB left.
    const heap = (SIDECAR_HEAP.oldSpaceMiB + 3 * SIDECAR_HEAP.semiSpaceMiB) * MiB;
    assert.ok(heap + BUFFERED_BYTES + 256 * MiB <= SIDECAR_CONTAINER.memoryBytes);
  });

  it("the keeper's flags are accepted by node", () => {
    const child = spawnSync(process.execPath, [...KEEPER_NODE_FLAGS, "-e", "0"], {
      encoding: "utf8",
    });
    assert.equal(child.status, 0, child.stderr);
  });
});
