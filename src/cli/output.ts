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
  const on = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' ? true : !!stream.isTTY && env.NO_COLOR === undefined && env.TERM !== 'dumb';
  return pc.createColors(on);
}

export function summaryStyle(c: Colors): SummaryStyle {
  const sev: Record<Severity, (s: string) => string> = { error: (s) => c.bold(c.red(s)), warning: c.yellow, info: c.cyan };
  return { severity: (s, t) => sev[s](t), bold: c.bold, dim: c.dim };
}

export interface Progress {
  update(p: { phase: string; done: number; total: number }): void;
  stop(): void;
}

const NO_PROGRESS: Progress = { update: () => undefined, stop: () => undefined };

/** A bar on stderr (phase, done/total, ETA) when stderr is a terminal; otherwise silent. */
export function progress(io: Io, flags: Flags, unit: string): Progress {
  if (flags.quiet || !io.stderr.isTTY) return NO_PROGRESS;
  const bar = new cliProgress.SingleBar({
    stream: io.stderr as NodeJS.WritableStream,
    format: `{phase} [{bar}] {value}/{total} ${unit} | ETA {eta_formatted}`,
    barsize: 24,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 20,
    fps: 8,
  }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    update(p) {
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

/** Informational line on stderr (so stdout can carry JSON), unless --quiet. */
export function info(io: Io, flags: Flags, line: string): void {
  if (!flags.quiet) io.stderr.write(line + '\n');
}
