/**
 * A scripted model API stand-in (test/support/fake-messages-api.ts for Claude Code,
 * fake-responses-api.ts for Codex) run as a container of the test's own on a bottle's network, as `api.fake.test` over HTTPS with a certificate from a test
 * CA. The CA's file is given to the bottle as BOT_BOTTLE_UPSTREAM_CA.
 */
import fs from "node:fs";
import path from "node:path";
import { pack } from "tar-stream";
import { packageRoot } from "../../src/core/host/package-root.js";
import { createBottleCa } from "../../src/core/tls/bottle-ca.js";
import { LeafCertificates } from "../../src/sidecar/egress/leaf-certificates.js";
import { BASE_IMAGE, demux, docker } from "./docker.js";
import type { ScriptedStep } from "../support/fake-messages-api.js";

export const FAKE_API_HOST = "api.fake.test";

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string | undefined>;
  body: {
    messages?: { role: string; content: unknown }[];
    input?: { type?: string; role?: string; output?: unknown; content?: unknown }[];
    tools?: { type?: string; name?: string; tools?: { name?: string }[] }[];
  } | null;
}

export interface FakeModelCa {
  caFile: string;
  leaf: { key: string; cert: string };
}

/** A test CA (its certificate written to `dir`) and a leaf for the stand-in's name. */
export async function fakeModelCa(dir: string): Promise<FakeModelCa> {
  const ca = await createBottleCa("fake-model-upstream");
  const leaf = await new LeafCertificates(ca).issuePem(FAKE_API_HOST);
  const caFile = path.join(dir, "upstream-ca.pem");
  fs.writeFileSync(caFile, ca.certPem);
  return { caFile, leaf };
}

export interface FakeModel {
  id: string;
  log(): Promise<string>;
  requests(): Promise<RecordedRequest[]>;
  remove(): Promise<void>;
}

/** What the stand-in answers (see test/support/fake-messages-api.ts). */
export interface FakeModelScript {
  token: string;
  command: string;
  final: string;
  steps?: ScriptedStep[];
}

export async function startFakeModel(
  network: string,
  tls: FakeModelCa,
  script: FakeModelScript,
  api: "messages" | "responses" = "messages",
): Promise<FakeModel> {
  const container = await docker.createContainer({
    Image: BASE_IMAGE,
    Cmd: ["node", `/srv/fake-${api}-api.js`],
    Env: [
      "FAKE_API_MAIN=1",
      `FAKE_API_TOKEN=${script.token}`,
      `FAKE_API_COMMAND=${script.command}`,
      `FAKE_API_FINAL=${script.final}`,
      ...(script.steps === undefined ? [] : [`FAKE_API_STEPS=${JSON.stringify(script.steps)}`]),
      `TLS_KEY=${tls.leaf.key}`,
      `TLS_CERT=${tls.leaf.cert}`,
    ],
    Labels: { "bot-bottle.test": "upstream" },
    HostConfig: { NetworkMode: network },
    NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [FAKE_API_HOST] } } },
  });
  const archive = pack();
  // The stand-in and the server scaffolding it imports, as ES modules.
  archive.entry({ name: "package.json" }, JSON.stringify({ type: "module" }));
  for (const file of [`fake-${api}-api.js`, "fake-api-server.js"]) {
    archive.entry(
      { name: file },
      fs.readFileSync(path.join(packageRoot(), "dist", "test", "support", file)),
    );
  }
  archive.finalize();
  await container.putArchive(archive as unknown as NodeJS.ReadableStream, { path: "/srv" });
  await container.start();
  const log = async (): Promise<string> =>
    demux(
      await container.logs({
        stdout: true,
        stderr: true,
        follow: false,
      }),
    );
  return {
    id: container.id,
    log,
    requests: async () =>
      (await log())
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as RecordedRequest),
    remove: async () => {
      await container.remove({ force: true });
    },
  };
}
