/**
 * This gate, for `bench:egress`, in its own process, set up as the sidecar sets it up: the policy
 * decision, the content checks (DLP, with an own secret to look for and the placeholders), the
 * audit log written to a file, extra upstream roots added to the system's. Usage:
 * `node gate.js '<json GateJob>'`; prints `listening PORT` (0 for a unix socket) when ready.
 */
import fs from "node:fs";
import path from "node:path";
import tls from "node:tls";
import { createBottleCa } from "../../src/core/tls/bottle-ca.js";
import { PLAN_RULE_PROVENANCE, type PlanEgressRule } from "../../src/core/plan/bottle-plan.js";
import { DlpInspector } from "../../src/sidecar/dlp/dlp-inspector.js";
import { AuditLog } from "../../src/sidecar/shared/audit-log.js";
import { decideEgress } from "../../src/sidecar/egress/egress-policy.js";
import { EgressProxy } from "../../src/sidecar/egress/egress-proxy.js";
import { InternalRanges } from "../../src/sidecar/egress/ip-address.js";

export interface GateJob {
  /** The one allowed host (an IP literal here) and port. */
  host: string;
  port: number;
  tls: "intercept" | "passthrough";
  /** Listen on TCP 127.0.0.1 (port 0) or on this unix socket. */
  socket: string | null;
  /** Where to write the bottle CA's certificate (for the client) and the audit log. */
  dir: string;
  /** PEM file of the upstream's CA, added to the system roots. */
  upstreamCaFile: string;
}

const OWN_SECRET = "bench-own-secret-not-real-0123456789abcdef";

async function main(job: GateJob): Promise<void> {
  const rule: PlanEgressRule = {
    host: job.host,
    ports: [job.port],
    methods: null,
    paths: null,
    tls: job.tls,
    internal: true,
    source: "manifest",
    ...PLAN_RULE_PROVENANCE,
  };
  const policy = { allow: [rule], deny: [] };
  const ca = await createBottleCa("bench-egress");
  fs.writeFileSync(path.join(job.dir, `bottle-ca-${job.tls}.pem`), ca.certPem);
  const audit = new AuditLog(path.join(job.dir, `egress-${job.tls}.jsonl`));
  const ranges = new InternalRanges();
  const dlp = new DlpInspector({
    ownSecrets: [OWN_SECRET],
    placeholders: ["bot-bottle-placeholder"],
  });
  const proxy = new EgressProxy({
    decide: (request) => decideEgress(policy, request, ranges),
    audit: (entry) => {
      audit.write(entry);
    },
    ca,
    upstreamCa: [...tls.rootCertificates, fs.readFileSync(job.upstreamCaFile, "utf8")],
    dlp: "block",
    inspector: dlp,
  });
  if (job.socket === null) {
    await proxy.listen({ host: "127.0.0.1", port: 0 });
    process.stdout.write(`listening ${proxy.address()}\n`);
  } else {
    await proxy.listen({ path: job.socket });
    process.stdout.write("listening 0\n");
  }
  process.once("SIGTERM", () => {
    void proxy.stop().then(() => audit.close());
  });
}

main(JSON.parse(process.argv[2] ?? "{}") as GateJob).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
