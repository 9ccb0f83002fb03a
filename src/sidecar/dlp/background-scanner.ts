/**
 * Content scans off the sidecar's event loop: a worker thread (scan-worker.ts) with a
 * DlpInspector of its own. The git gate scans megabytes per push; in the sidecar's one thread
 * that would pause the egress and credential proxies, and the reading of git's output, for as
 * long. Here the scan runs beside them, on another core.
 *
 * Scans are answered in the order asked. New options (own secrets handed over later) apply to
 * every scan asked after them. A worker that fails or exits fails every scan waiting and every
 * later one (the git gate then refuses the push: content nobody checked).
 */
import { Worker } from "node:worker_threads";
import type { ContentFinding } from "../egress/content-inspector.js";
import type { DlpOptions } from "./dlp-inspector.js";
import type { ScanAnswer, ScanRequest } from "./scan-worker.js";

export class ScannerStopped extends Error {
  override readonly name = "ScannerStopped";
}

interface Waiting {
  resolve: (findings: ContentFinding[]) => void;
  reject: (error: Error) => void;
}

export class BackgroundScanner {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;
  private stopped: Error | null = null;

  constructor(options: DlpOptions) {
    this.worker = new Worker(new URL("./scan-worker.js", import.meta.url));
    // Not a reason to keep the process alive; whoever made it stops it.
    this.worker.unref();
    this.worker.on("message", (answer: ScanAnswer) => {
      this.waiting.get(answer.id)?.resolve(answer.findings);
      this.waiting.delete(answer.id);
    });
    this.worker.on("error", (error) => {
      this.fail(new ScannerStopped(`the content scanner failed: ${error.message}`));
    });
    this.worker.on("exit", (code) => {
      this.fail(new ScannerStopped(`the content scanner stopped (exit ${code})`));
    });
    this.setOptions(options);
  }

  setOptions(options: DlpOptions): void {
    this.post({ kind: "options", options });
  }

  scan(text: string, where: string): Promise<ContentFinding[]> {
    if (this.stopped !== null) return Promise.reject(this.stopped);
    const id = this.nextId;
    this.nextId += 1;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.post({ kind: "scan", id, text, where });
    });
  }

  async close(): Promise<void> {
    this.fail(new ScannerStopped("the content scanner was closed"));
    await this.worker.terminate();
  }

  private post(request: ScanRequest): void {
    if (this.stopped === null) this.worker.postMessage(request);
  }

  private fail(error: Error): void {
    this.stopped ??= error;
    for (const waiting of this.waiting.values()) waiting.reject(error);
    this.waiting.clear();
  }
}
