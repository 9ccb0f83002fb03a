/**
 * The live traffic of every bottle: follows each bottle's audit logs (egress, credentials, git)
 * as they grow, keeps the newest entries in memory, and hands new ones to listeners (the SSE
 * streams). Bottles that appear later (a new start) are picked up on the next poll.
 */
import type { HostEnv } from "../core/host/paths.js";
import { bottlePaths, listStateIdentities } from "../core/state/bottle-state.js";
import type { AuditLogKind } from "../operator/logs.js";
import { AUDIT_LOGS, AuditTail, auditFile } from "../operator/logs.js";
import type { TrafficEntry } from "./traffic-entry.js";
import { toTrafficEntry } from "./traffic-entry.js";

export type TrafficListener = (entries: readonly TrafficEntry[]) => void;

export interface TrafficFeedOptions {
  /** How often the logs are looked at. */
  pollMs?: number;
  /** Entries kept in memory (older ones are still in the files: `bottle logs`). */
  keep?: number;
}

export class TrafficFeed {
  private readonly tails = new Map<
    string,
    { bottle: string; log: AuditLogKind; tail: AuditTail }
  >();
  private readonly listeners = new Set<TrafficListener>();
  private entries: TrafficEntry[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly pollMs: number;
  private readonly keep: number;

  constructor(
    private readonly host: HostEnv,
    options: TrafficFeedOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 250;
    this.keep = options.keep ?? 20_000;
  }

  /** Reads what the logs hold now, then follows them. */
  start(): void {
    this.poll();
    this.timer = setInterval(() => {
      this.poll();
    }, this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.listeners.clear();
  }

  /** Entries after `afterSeq` (all kept ones for 0), oldest first. */
  since(afterSeq: number): TrafficEntry[] {
    const first = this.entries.findIndex((e) => e.seq > afterSeq);
    return first === -1 ? [] : this.entries.slice(first);
  }

  /** Calls `listener` with every batch of new entries; returns the unsubscribe function. */
  subscribe(listener: TrafficListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One look at every log; new entries in time order within the batch. */
  poll(): void {
    for (const bottle of listStateIdentities(this.host)) {
      for (const log of AUDIT_LOGS) {
        const key = `${bottle}/${log}`;
        if (!this.tails.has(key))
          this.tails.set(key, {
            bottle,
            log,
            tail: new AuditTail(auditFile(bottlePaths(this.host, bottle), log)),
          });
      }
    }
    const fresh: TrafficEntry[] = [];
    for (const { bottle, log, tail } of this.tails.values()) {
      for (const line of tail.read()) {
        const entry = toTrafficEntry(line, bottle, log, 0);
        if (entry !== undefined) fresh.push(entry);
      }
    }
    if (fresh.length === 0) return;
    // In the order the requests arrived (an entry is written when its request ends).
    fresh.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
    for (const entry of fresh) entry.seq = ++this.seq;
    this.entries = this.entries.concat(fresh);
    if (this.entries.length > this.keep) this.entries = this.entries.slice(-this.keep);
    for (const listener of this.listeners) {
      try {
        listener(fresh);
      } catch {
        // A listener whose client went away is removed by its own close handler.
      }
    }
  }
}
