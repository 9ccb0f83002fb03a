/**
 * The lifecycle of real bottles: fail closed when the sidecar dies, stop leaves nothing, resume
 * keeps identity and workspace, cleanup after a start killed half-way, concurrent starts.
 * Invariants 4 (fail closed) and 7 (nothing orphaned).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { sidecarState } from "../../src/backend/docker/secret-keeper.js";
import { bottlePathsIn } from "../../src/core/state/bottle-state.js";
import { cliProcess } from "../helpers/cli.js";
import {
  bottleExec,
  docker,
  execAs,
  dockerSandbox,
  objectsOf,
  shellManifest,
  spawnCli,
  startDetached,
  startUpstream,
  waitFor,
} from "../helpers/docker.js";

const controlSocketOf = (box: ReturnType<typeof dockerSandbox>, identity: string) =>
  bottlePathsIn(path.join(box.env["BOT_BOTTLE_HOME"] ?? "", "state", identity)).controlSocket;

describe("bottle lifecycle", () => {
  it("fails closed when the sidecar dies, and shows the bottle unhealthy", async () => {
    const box = dockerSandbox(shellManifest());
    const identity = await startDetached(box);
    const upstream = await startUpstream(`bot-bottle-${identity}-net`, ["allowed.test"]);
    try {
      const before = await bottleExec(
        box,
        identity,
        "curl -sS -o /dev/null -w '%{http_code}' http://allowed.test/",
      );
      assert.equal(before.stdout, "200");
      await docker.getContainer(`bot-bottle-${identity}-sidecar`).kill();
      const after = await bottleExec(
        box,
        identity,
        "curl -sS -m 5 -o /dev/null -w '%{http_code}' http://allowed.test/",
      );
      assert.notEqual(after.code, 0);
      assert.notEqual(after.stdout, "200");
      const list = await cliProcess(["list", "--json"], box);
      const entry = (JSON.parse(list.stdout) as { identity: string; health: string }[]).find(
        (b) => b.identity === identity,
      );
      assert.equal(entry?.health, "unhealthy");
    } finally {
      await upstream.remove();
      await cliProcess(["stop", identity], box);
    }
  });

  it("stop removes every labelled object and keeps the state; resume brings back identity and workspace", async () => {
    const box = dockerSandbox(shellManifest());
    const identity = await startDetached(box);
    assert.equal(
      (await bottleExec(box, identity, "echo kept-across-stop > /workspace/note.txt")).code,
      0,
    );
    const stop = await cliProcess(["stop", identity], box);
    assert.equal(stop.code, 0, stop.stderr);
    assert.deepEqual(await objectsOf(identity), { containers: 0, networks: 0, volumes: 0 });
    const state = path.join(box.env["BOT_BOTTLE_HOME"] ?? "", "state", identity);
    const metadata = JSON.parse(
      fs.readFileSync(path.join(state, "metadata.json"), "utf8"),
    ) as Record<string, unknown>;
    assert.equal(metadata["status"], "stopped");
    for (const key of [
      "identity",
      "agent",
      "backend",
      "runtime",
      "cwd",
      "started_at",
      "images",
      "status",
    ])
      assert.ok(key in metadata, key);

    const resume = await cliProcess(["resume", identity, "--detach"], box);
    assert.equal(resume.code, 0, resume.stderr);
    try {
      const note = await bottleExec(box, identity, "cat /workspace/note.txt");
      assert.equal(note.stdout.trim(), "kept-across-stop");
    } finally {
      await cliProcess(["stop", identity], box);
    }
  });

  it("copies the current directory, .git included, with --cwd", async () => {
    const box = dockerSandbox(shellManifest());
    fs.mkdirSync(path.join(box.cwd, ".git"));
    fs.writeFileSync(path.join(box.cwd, ".git", "HEAD"), "ref: refs/heads/main\n");
    fs.writeFileSync(path.join(box.cwd, "hello.txt"), "from the host\n");
    const result = await cliProcess(["start", "sh", "--yes", "--detach", "--cwd"], box);
    assert.equal(result.code, 0, result.stderr);
    const identity = result.stdout.trim();
    try {
      // find, not stat: coreutils stat uses statx, which the 2022 runsc of Debian bookworm refuses.
      const seen = await bottleExec(
        box,
        identity,
        "cat hello.txt .git/HEAD; find hello.txt -printf '%u\\n'",
      );
      assert.equal(seen.stdout, "from the host\nref: refs/heads/main\nagent\n");
    } finally {
      await cliProcess(["stop", identity], box);
    }
  });

  it("cleanup removes what a start killed with SIGKILL half-way left behind", async () => {
    const box = dockerSandbox(shellManifest());
    const child = spawnCli(["start", "sh", "--yes", "--detach"], box);
    const exited = new Promise((resolve) => child.on("exit", resolve));
    const identity = await waitFor("the sidecar container of the new bottle", async () => {
      const containers = await docker.listContainers({
        all: true,
        filters: { label: ["bot-bottle.role=sidecar"] },
      });
      const mine = containers.find((c) =>
        fs.existsSync(
          path.join(
            box.env["BOT_BOTTLE_HOME"] ?? "",
            "state",
            c.Labels["bot-bottle.identity"] ?? "-",
          ),
        ),
      );
      return mine?.Labels["bot-bottle.identity"];
    });
    child.kill("SIGKILL");
    await exited;
    assert.ok(
      (await objectsOf(identity)).containers > 0,
      "the killed start left objects to clean up",
    );

    const cleanup = await cliProcess(["cleanup", "--yes"], box);
    assert.equal(cleanup.code, 0, cleanup.stderr);
    assert.match(cleanup.stderr, new RegExp(identity));
    assert.deepEqual(await objectsOf(identity), { containers: 0, networks: 0, volumes: 0 });
    assert.equal(
      fs.existsSync(path.join(box.env["BOT_BOTTLE_HOME"] ?? "", "state", identity)),
      false,
    );
    const again = await cliProcess(["cleanup", "--yes"], box);
    assert.match(again.stderr, /Nothing to clean up/);
  });

  // Killed while the sidecar boots (it runs, the agent beside it): see the test after this one.
  for (const point of ["sidecar-created", "agent-created"] as const) {
    it(`a start killed with SIGKILL at ${point} leaves nothing that works, and cleanup removes it`, async () => {
      const box = dockerSandbox(shellManifest());
      const home = box.env["BOT_BOTTLE_HOME"] ?? "";
      const child = spawnCli(["start", "sh", "--yes", "--detach"], box);
      const exited = new Promise((resolve) => child.on("exit", resolve));
      const identity = await waitFor(`the new bottle at ${point}`, async () => {
        const containers = await docker.listContainers({
          all: true,
          filters: { label: ["bot-bottle.identity"] },
        });
        const mine = containers.filter((c) =>
          fs.existsSync(path.join(home, "state", c.Labels["bot-bottle.identity"] ?? "-")),
        );
        const hit = mine.find((c) => `${c.Labels["bot-bottle.role"] ?? ""}-created` === point);
        return hit?.Labels["bot-bottle.identity"];
      });
      child.kill("SIGKILL");
      await exited;
      await new Promise((resolve) => setTimeout(resolve, 8000));
      // The agent (only its relay) may run: it starts beside the sidecar's boot. What must not
      // be is a sidecar holding the secrets: its gates answer only then. The sidecar hears of
      // them only from the start (killed) or its keeper (which ends with the start).
      const state = await sidecarState(controlSocketOf(box, identity));
      assert.notEqual(state, "ready", "the sidecar of the killed start holds its secrets");
      const cleanup = await cliProcess(["cleanup", "--yes"], box);
      assert.equal(cleanup.code, 0, cleanup.stderr);
      assert.deepEqual(await objectsOf(identity), { containers: 0, networks: 0, volumes: 0 });
    });
  }

  it("the agent starts while its sidecar boots; killed before the hand-over, it reaches nothing", async () => {
    const box = dockerSandbox(shellManifest());
    const home = box.env["BOT_BOTTLE_HOME"] ?? "";
    // The sidecar is frozen as soon as the engine starts it, so it can take no secret.
    const events = (await docker.getEvents({
      filters: { type: ["container"], event: ["start"], label: ["bot-bottle.role=sidecar"] },
    })) as NodeJS.ReadableStream & { destroy(): void };
    const frozen = new Promise<string>((resolve, reject) => {
      events.on("data", (chunk: Buffer) => {
        for (const line of chunk
          .toString()
          .split("\n")
          .filter((l) => l.trim() !== "")) {
          const event = JSON.parse(line) as {
            id: string;
            Actor: { Attributes: Record<string, string> };
          };
          const identity = event.Actor.Attributes["bot-bottle.identity"] ?? "-";
          if (!fs.existsSync(path.join(home, "state", identity))) continue;
          docker
            .getContainer(event.id)
            .pause()
            .then(() => {
              resolve(identity);
            }, reject);
        }
      });
    });
    const child = spawnCli(["start", "sh", "--yes", "--detach"], box);
    const exited = new Promise((resolve) => child.on("exit", resolve));
    let identity = "";
    try {
      identity = await frozen;
    } finally {
      events.destroy();
    }
    // The old order (agent started once the sidecar holds the secrets) never gets here.
    await waitFor(
      "the agent running beside a frozen sidecar",
      async () => {
        const running = await docker.listContainers({
          filters: { label: [`bot-bottle.identity=${identity}`, "bot-bottle.role=agent"] },
        });
        return running.length > 0 ? true : undefined;
      },
      120_000,
    );
    child.kill("SIGKILL");
    await exited;
    // The keeper of the dead start ends at its next look (every 500 ms) before the sidecar wakes.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const sidecar = `bot-bottle-${identity}-sidecar`;
    await docker.getContainer(sidecar).unpause();
    const upstream = await startUpstream(`bot-bottle-${identity}-net`, ["allowed.test"]);
    try {
      const control = bottlePathsIn(
        path.join(box.env["BOT_BOTTLE_HOME"] ?? "", "state", identity),
      ).controlSocket;
      assert.equal(
        await waitFor("the sidecar's health", () => sidecarState(control), 60_000),
        "degraded: waiting for secrets",
      );
      // The gate is reached (its own refusal, not a dead relay) and refuses: no upstream's 200.
      const code = await execAs(
        `bot-bottle-${identity}-agent`,
        "1500",
        "curl -sS -m 5 -o /dev/null -w '%{http_code}' http://allowed.test/; true",
      );
      assert.equal(code, "503");
      await new Promise((resolve) => setTimeout(resolve, 2000));
      assert.equal(await sidecarState(control), "degraded: waiting for secrets");
    } finally {
      await upstream.remove();
    }
    const cleanup = await cliProcess(["cleanup", "--yes"], box);
    assert.equal(cleanup.code, 0, cleanup.stderr);
    assert.deepEqual(await objectsOf(identity), { containers: 0, networks: 0, volumes: 0 });
  });

  it("list and cleanup of another state home leave a running bottle alone, even with --all-homes", async () => {
    const first = dockerSandbox(shellManifest());
    const second = dockerSandbox(shellManifest());
    const identity = await startDetached(first);
    try {
      const listed = async (box: typeof first): Promise<string[]> => {
        const list = await cliProcess(["list", "--json"], box);
        assert.equal(list.code, 0, list.stderr);
        return (JSON.parse(list.stdout) as { identity: string }[]).map((b) => b.identity);
      };
      assert.ok((await listed(first)).includes(identity), "its own home lists it");
      assert.ok(!(await listed(second)).includes(identity), "another home does not list it");
      const own = await cliProcess(["cleanup", "--yes"], second);
      assert.equal(own.code, 0, own.stderr);
      assert.doesNotMatch(own.stderr, new RegExp(identity));
      assert.match(own.stderr, /other state homes left alone/);
      const all = await cliProcess(["cleanup", "--yes", "--all-homes"], second);
      assert.equal(all.code, 0, all.stderr);
      assert.match(all.stderr, new RegExp(`${identity}: kept, it is alive in its own state home`));
      assert.deepEqual(await objectsOf(identity), { containers: 2, networks: 1, volumes: 1 });
      const still = await bottleExec(first, identity, "echo alive");
      assert.equal(still.stdout.trim(), "alive");
      // Its sidecar dead (no health to ask), its own home still says it runs: kept all the same.
      await docker.getContainer(`bot-bottle-${identity}-sidecar`).kill();
      const dead = await cliProcess(["cleanup", "--yes", "--all-homes"], second);
      assert.equal(dead.code, 0, dead.stderr);
      assert.match(dead.stderr, new RegExp(`${identity}: kept`));
      assert.equal((await objectsOf(identity)).containers, 2, "another home's bottle kept");
    } finally {
      await cliProcess(["stop", identity], first);
    }
  });

  it("gives two simultaneous starts of one agent distinct identities and names", async () => {
    const box = dockerSandbox(shellManifest());
    const [a, b] = await Promise.all([startDetached(box), startDetached(box)]);
    try {
      assert.notEqual(a, b);
      for (const id of [a, b])
        assert.deepEqual(await objectsOf(id), { containers: 2, networks: 1, volumes: 1 });
    } finally {
      await Promise.all([cliProcess(["stop", a], box), cliProcess(["stop", b], box)]);
    }
  });

  it("answers an unknown bottle with a clear error and exit code 2", async () => {
    const box = dockerSandbox(shellManifest());
    const result = await cliProcess(["exec", "sh-nosuch", "--", "true"], box);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /No bottle sh-nosuch/);
  });
});
