// `rnnscope analyze --profile`: wall time per phase, printed on stderr when the command ends.
//
//   load (model and data files) ─► gradients (batches) ─► jacobian (step-Jacobian probes and the per-layer
//   statistics) ─► connectivity ─► samples (per-sample views, diagnosis) ─► writing (JSON, dump, report)
//
// Phases come from the analysis's progress events (each segment is charged to the phase announced at its
// start); "before start-up" is the time from process start to the command, mostly module loading.

import type { Io } from './output.js';

export class PhaseClock {
  private readonly totals = new Map<string, number>();
  private current: string | null = null;
  private since = performance.now();
  private readonly start = this.since;

  /** Closes the running phase and starts `phase` (nothing when it is already running). */
  mark(phase: string): void {
    if (phase === this.current) return;
    const now = performance.now();
    if (this.current !== null) this.totals.set(this.current, (this.totals.get(this.current) ?? 0) + now - this.since);
    this.current = phase;
    this.since = now;
  }

  /** Seconds per phase, in the order first seen, with the command's total and the time before it. */
  report(): { phases: [string, number][]; total: number; beforeStart: number } {
    this.mark('');
    this.totals.delete('');
    return {
      phases: [...this.totals].map(([k, ms]) => [k, ms / 1e3]),
      total: (performance.now() - this.start) / 1e3,
      beforeStart: this.start / 1e3,
    };
  }

  print(io: Io): void {
    const r = this.report();
    const cells = r.phases.map(([k, s]) => `${k} ${s.toFixed(2)} s`);
    io.stderr.write(
      `profile: ${cells.join(', ')}; command ${r.total.toFixed(2)} s, before start-up ${r.beforeStart.toFixed(2)} s\n`,
    );
  }
}
