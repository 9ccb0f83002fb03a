/**
 * Content scans off the sidecar's event loop: a worker thread (scan-worker.ts) with a
 * DlpInspector of its own. The git gate scans megabytes per push; in the sidecar's one thread
 * that would pause the egress and credential proxies, and the reading of git's output, for as
 * long. Here the scan runs beside them, on another core.
 *
 * Scans are answered in the order asked. New options (own secrets handed over later) apply to
 * every scan asked after them. A scan that fails, or a worker that dies, fails the scans waiting
 * (the git gate then refuses the push: content nobody checked); the next scan starts a new
 * worker with the latest options.
 */
import { Worker } from "node:worker_threads";
import type { ContentFinding } from "../shared/content-inspector.js";
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
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;
  private closed = false;

  constructor(private options: DlpOptions) {}

  setOptions(options: DlpOptions): void {
    this.options = options;
    this.worker?.postMessage({ kind: "options", options } satisfies ScanRequest);
  }

  scan(text: string, where: string): Promise<ContentFinding[]> {
    if (this.closed) return Promise.reject(new ScannerStopped("the content scanner was closed"));
    const worker = this.worker ?? this.start();
    const id = this.nextId;
    this.nextId += 1;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ kind: "scan", id, text, where } satisfies ScanRequest);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.stopped(worker, new ScannerStopped("the content scanner was closed"));
    await worker?.terminate();
  }

  private start(): Worker {
    const worker = new Worker(new URL("./scan-worker.js", import.meta.url));
    // Not a reason to keep the process alive; whoever made it closes it.
    worker.unref();
    worker.on("message", (answer: ScanAnswer) => {
      const waiting = this.waiting.get(answer.id);
      this.waiting.delete(answer.id);
      if ("error" in answer) waiting?.reject(new Error(`the scan failed: ${answer.error}`));
      else waiting?.resolve(answer.findings);
    });
    worker.on("error", (error) => {
      this.stopped(worker, new ScannerStopped(`the content scanner failed: ${error.message}`));
    });
    worker.on("exit", (code) => {
      this.stopped(worker, new ScannerStopped(`the content scanner stopped (exit ${code})`));
    });
    worker.postMessage({ kind: "options", options: this.options } satisfies ScanRequest);
    this.worker = worker;
    return worker;
  }

  /** The scans `worker` had fail; the next scan starts another. */
  private stopped(worker: Worker | null, error: Error): void {
    if (worker === null || worker !== this.worker) return;
    this.worker = null;
    for (const waiting of this.waiting.values()) waiting.reject(error);
    this.waiting.clear();
  }
}
