/**
 * `npm run bench:credproxy`: the delay the credential proxy adds to a streamed answer.
 *
 * A local upstream (the scripted Messages API stand-in) streams server-sent events, each stamped
 * with the time it was written. A client reads the stream directly and through the credential
 * proxy, alternately, RUNS times each; the delay of an event is its arrival time minus its stamp.
 * Prints the median and maximum delay of both, the delay the proxy adds (median of per-run
 * medians, and the worst event), and how many events arrived only after the stream's last event
 * was written (held back), which must be none.
 */
import http from "node:http";
import { CredentialProxy } from "../src/sidecar/credentials/credential-proxy.js";
import { startFakeMessagesApi } from "../test/support/fake-messages-api.js";
import { median } from "./median.js";

const EVENTS = Number(process.env["EVENTS"] ?? "200");
const GAP_MS = Number(process.env["GAP_MS"] ?? "5");
const RUNS = Number(process.env["RUNS"] ?? "5");
const TOKEN = "bench-token-not-a-secret-0123456789";

interface Run {
  delays: number[];
  heldBack: number;
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

function readStream(port: number, path: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const stamps: { sent: number; arrived: number }[] = [];
    let pending = "";
    http
      .get({ host: "127.0.0.1", port, path, headers: { "x-api-key": "placeholder" } }, (res) => {
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          const arrived = now();
          pending += chunk;
          const parts = pending.split("\n\n");
          pending = parts.pop() ?? "";
          for (const part of parts) {
            const data = /^data: (.*)$/m.exec(part)?.[1];
            if (data === undefined) continue;
            stamps.push({ sent: (JSON.parse(data) as { t: number }).t, arrived });
          }
        });
        res.on("end", () => {
          const lastSent = Math.max(...stamps.map((s) => s.sent));
          resolve({
            delays: stamps.map((s) => s.arrived - s.sent),
            heldBack: stamps.filter((s, i) => i < stamps.length - 1 && s.arrived > lastSent).length,
          });
        });
      })
      .on("error", reject);
  });
}

async function main(): Promise<void> {
  const api = await startFakeMessagesApi({ token: TOKEN, command: "true", final: "x" });
  const proxy = new CredentialProxy({
    routes: [
      {
        name: "api",
        path: "/api",
        upstream: `http://127.0.0.1:${api.port}`,
        role: null,
        inject: "x-api-key",
      },
    ],
    audit: () => undefined,
  });
  await proxy.listen({ host: "127.0.0.1", port: 0 });
  proxy.setTokens({ api: TOKEN });
  const query = `/stream?events=${EVENTS}&gap=${GAP_MS}`;

  const direct: Run[] = [];
  const proxied: Run[] = [];
  await readStream(proxy.address(), `/api${query}`); // warm-up
  for (let run = 0; run < RUNS; run += 1) {
    direct.push(await readStream(api.port, query));
    proxied.push(await readStream(proxy.address(), `/api${query}`));
  }
  await proxy.stop();
  api.server.closeAllConnections();
  api.server.close();

  const fmt = (ms: number): string => `${ms.toFixed(3)} ms`;
  const all = (runs: Run[]): number[] => runs.flatMap((r) => r.delays);
  const added = proxied.map((r, i) => median(r.delays) - median(direct[i]?.delays ?? []));
  const lines = [
    `credential proxy, ${RUNS} runs of ${EVENTS} server-sent events ${GAP_MS} ms apart (median of runs)`,
    `direct:      median delay ${fmt(median(direct.map((r) => median(r.delays))))}, max ${fmt(Math.max(...all(direct)))}`,
    `via proxy:   median delay ${fmt(median(proxied.map((r) => median(r.delays))))}, max ${fmt(Math.max(...all(proxied)))}`,
    `added by the proxy: median ${fmt(median(added))}, worst event ${fmt(Math.max(...all(proxied)) - Math.max(...all(direct)))} over the direct worst`,
    `events held back until the end: ${proxied.reduce((sum, r) => sum + r.heldBack, 0)}`,
    `target: median added < 1 ms and none held back: ${median(added) < 1 && proxied.every((r) => r.heldBack === 0) ? "met" : "NOT met"}`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:credproxy: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
});
