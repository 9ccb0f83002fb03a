/**
 * When each phase of a start ended, in ms since the CLI process began (node's time origin, so
 * loading the program counts). Written to the bottle's state as `start-timings.json` once the
 * bottle is up; `bench:start` prints the breakdown from it. Holds no secret, only phase names.
 */
import fs from "node:fs";

export interface StartMark {
  /** What just ended, e.g. `planned`, `images`, `sidecar ready`. */
  phase: string;
  at_ms: number;
}

export class StartTimings {
  private readonly marks: StartMark[] = [];

  mark(phase: string): void {
    this.marks.push({ phase, at_ms: Math.round(performance.now() * 10) / 10 });
  }

  list(): readonly StartMark[] {
    return this.marks;
  }

  /** Writes the marks; a failure to write never fails the start. */
  write(file: string): void {
    try {
      fs.writeFileSync(file, `${JSON.stringify(this.marks, null, 2)}\n`);
    } catch {
      // Timings are for benchmarks only.
    }
  }
}
