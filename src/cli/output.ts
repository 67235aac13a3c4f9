// Terminal behaviour: where text goes, colours only on a TTY (and never with
// NO_COLOR), a progress bar only on an interactive stderr, nothing with --quiet.

import pc from 'picocolors';
import cliProgress from 'cli-progress';
import type { Severity } from '../analysis/schema.js';
import type { SummaryStyle } from '../report/summary.js';

export interface Stream {
  write(s: string): unknown;
  isTTY?: boolean;
}

export interface Io {
  stdout: Stream;
  stderr: Stream;
  env: Record<string, string | undefined>;
}

export interface Flags {
  quiet: boolean;
  verbose: boolean;
}

type Colors = ReturnType<typeof pc.createColors>;

export function colorsFor(stream: Stream, env: Io['env']): Colors {
  const on =
    env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0'
      ? true
      : !!stream.isTTY && env.NO_COLOR === undefined && env.TERM !== 'dumb';
  return pc.createColors(on);
}

export function summaryStyle(c: Colors): SummaryStyle {
  const sev: Record<Severity, (s: string) => string> = {
    error: (s) => c.bold(c.red(s)),
    warning: c.yellow,
    info: c.cyan,
  };
  return { severity: (s, t) => sev[s](t), bold: c.bold, dim: c.dim };
}

// C0/C1 control characters (ESC starts terminal escape sequences), DEL, and the Unicode
// line separators and bidirectional overrides that can disguise text, as visible escapes.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Text from files (model and layer names, paths, messages) made safe to print on a terminal: newlines and tabs stay.
 * */
export function terminalSafe(s: string): string {
  return s.replace(UNSAFE, (ch) => {
    const c = ch.charCodeAt(0);
    return c < 0x100 ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
  });
}

/** A copy of `x` with every string made terminal-safe (arrays of numbers are shared, not copied). */
export function terminalSafeDeep<T>(x: T): T {
  if (typeof x === 'string') return terminalSafe(x) as T;
  if (Array.isArray(x)) {
    if (x.every((v) => typeof v === 'number' || v === null)) return x;
    return x.map((v) => terminalSafeDeep(v)) as T;
  }
  if (typeof x === 'object' && x !== null) {
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [terminalSafe(k), terminalSafeDeep(v)])) as T;
  }
  return x;
}

export interface Progress {
  update(p: { phase: string; done: number; total: number }): void;
  stop(): void;
}

const NO_PROGRESS: Progress = { update: () => undefined, stop: () => undefined };

/** How a phase is shown: its label and the unit of done/total, or no count (a phase of one piece). */
export type PhaseStyle = (phase: string) => { label: string; unit: string | null };

/** Seconds as 7s, 2m05s, 1h02m. */
export function fmtDuration(s: number): string {
  const t = Math.max(0, Math.round(s));
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}

/** Remaining time from the rate since the phase started; null until there is a rate to go by. */
export function etaSeconds(done0: number, t0: number, done: number, total: number, now: number): number | null {
  const elapsed = (now - t0) / 1000;
  if (done <= done0 || elapsed < 0.5 || total <= done0) return null;
  return ((total - done) * elapsed) / (done - done0);
}

const BAR = 24;

/** A bar on stderr (phase, done/total in the phase's unit, ETA) when stderr is a terminal; otherwise silent. */
export function progress(io: Io, flags: Flags, style: PhaseStyle): Progress {
  if (flags.quiet || !io.stderr.isTTY) return NO_PROGRESS;
  let phase = '',
    t0 = 0,
    done0 = 0;
  const bar = new cliProgress.SingleBar({
    stream: io.stderr as NodeJS.WritableStream,
    format: (_o: unknown, params: { value: number; total: number }, payload: { phase: string }) => {
      const { label, unit } = style(payload.phase);
      const total = Math.max(1, params.total);
      const filled = Math.round((BAR * Math.min(params.value, total)) / total);
      const bars = '\u2588'.repeat(filled) + '\u2591'.repeat(BAR - filled);
      if (unit === null) return `${terminalSafe(label)} [${bars}]`;
      const eta = etaSeconds(done0, t0, params.value, params.total, Date.now());
      return `${terminalSafe(label)} [${bars}] ${params.value}/${params.total} ${unit} | ETA ${eta === null ? '\u2026' : fmtDuration(eta)}`;
    },
    hideCursor: true,
    clearOnComplete: true,
    fps: 8,
  });
  let started = false;
  return {
    update(p) {
      if (p.phase !== phase) {
        phase = p.phase;
        t0 = Date.now();
        done0 = p.done;
      }
      if (!started) {
        bar.start(p.total, p.done, { phase: p.phase });
        started = true;
      } else {
        bar.setTotal(p.total);
        bar.update(p.done, { phase: p.phase });
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** Analysis phases: gradients count samples; the Jacobian and connectivity passes are one piece each. */
export const ANALYSIS_PHASES: PhaseStyle = (phase) => {
  if (phase === 'gradients') return { label: 'Gradients', unit: 'samples' };
  if (phase === 'jacobian') return { label: 'Step Jacobians', unit: null };
  if (phase === 'connectivity') return { label: 'Connectivity map', unit: null };
  return { label: phase, unit: null };
};

export const CHART_PHASES: PhaseStyle = (phase) => ({ label: phase, unit: 'charts' });

/** The demo: training steps and analyses of three models, counted together. */
export const DEMO_PHASES: PhaseStyle = (phase) => ({ label: phase, unit: 'steps' });

/** Informational line on stderr (so stdout can carry JSON), unless --quiet. */
export function info(io: Io, flags: Flags, line: string): void {
  if (!flags.quiet) io.stderr.write(`${terminalSafe(line)}\n`);
}
