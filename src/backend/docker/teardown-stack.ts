/**
 * Undo actions pushed as each engine object comes up, run in reverse order. Unwinding goes on
 * past a failing step and reports every failure at the end, so one stuck object does not keep
 * the others alive.
 */
export class TeardownStack {
  private readonly steps: { name: string; undo: () => Promise<void> }[] = [];

  push(name: string, undo: () => Promise<void>): void {
    this.steps.push({ name, undo });
  }

  /** Runs every undo action, newest first. Returns the names of the steps that failed. */
  async unwind(): Promise<string[]> {
    const failed: string[] = [];
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step.undo();
      } catch {
        failed.push(step.name);
      }
    }
    return failed;
  }
}
