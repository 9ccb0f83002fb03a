/**
 * The worker thread of BackgroundScanner (background-scanner.ts): a DlpInspector of its own,
 * answering scans in the order they come. Options come first and again whenever they change.
 */
import { parentPort } from "node:worker_threads";
import type { ContentFinding } from "../egress/content-inspector.js";
import type { DlpOptions } from "./dlp-inspector.js";
import { DlpInspector } from "./dlp-inspector.js";

export type ScanRequest =
  | { kind: "options"; options: DlpOptions }
  | { kind: "scan"; id: number; text: string; where: string };

export interface ScanAnswer {
  id: number;
  findings: ContentFinding[];
}

const port = parentPort;
if (port === null) throw new Error("scan-worker.js runs as a worker thread only");
let inspector = new DlpInspector({ ownSecrets: [] });
port.on("message", (request: ScanRequest) => {
  if (request.kind === "options") {
    inspector = new DlpInspector(request.options);
    return;
  }
  const answer: ScanAnswer = {
    id: request.id,
    findings: inspector.scanText(request.text, request.where),
  };
  port.postMessage(answer);
});
