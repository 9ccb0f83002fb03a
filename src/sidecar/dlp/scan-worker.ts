/**
 * The worker thread of BackgroundScanner (background-scanner.ts): a DlpInspector of its own,
 * answering scans in the order they come. Options come first and again whenever they change.
 */
import { parentPort } from "node:worker_threads";
import type { ContentFinding } from "../shared/content-inspector.js";
import type { DlpOptions } from "./dlp-inspector.js";
import { DlpInspector } from "./dlp-inspector.js";

export type ScanRequest =
  | { kind: "options"; options: DlpOptions }
  | { kind: "scan"; id: number; text: string; where: string };

/** The findings of one scan, or why it could not be done. */
export type ScanAnswer = { id: number; findings: ContentFinding[] } | { id: number; error: string };

const port = parentPort;
if (port === null) throw new Error("scan-worker.js runs as a worker thread only");
let inspector = new DlpInspector({ ownSecrets: [] });
port.on("message", (request: ScanRequest) => {
  if (request.kind === "options") {
    inspector = new DlpInspector(request.options);
    return;
  }
  let answer: ScanAnswer;
  try {
    answer = { id: request.id, findings: inspector.scanText(request.text, request.where) };
  } catch (error) {
    answer = { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(answer);
});
