// npm run bench (run.ts): its command-line options, the workloads they select, and the machine
// (CPU model, clock, fp32 peak, load, busy CPU seconds, git source).

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WORKLOADS } from './workloads.js';

export const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..');

export const args = process.argv.slice(2);
export const flag = (name: string): boolean => args.includes(name);
export const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  const v = i >= 0 ? args[i + 1] : undefined;
  return v && !v.startsWith('--') ? v : undefined;
};
export const REPEATS = Number(opt('--repeats') ?? 5);
export const BUDGET_S = Number(opt('--budget') ?? 45);
/** A JS-kernel run estimated above this many seconds is not started (estimated from W's GFLOP/s). */
export const MAX_EST_RUN_S = 120;
/** TF.js peers are skipped when one run takes (or is estimated from W to take) longer than this. */
export const TFJS_MAX_RUN_S = 60;
export const outDir = opt('--out') ?? join(here, 'results');
export const waitLoad = flag('--wait-load') ? Number(opt('--wait-load') ?? 1.0) : null;
/** Other processes' CPU (cores) above which --wait-load measures again. */
export const RETRY_ABOVE = 0.3;

export const ids = flag('--quick') ? ['W', 'W-gru', 'W-rnn'] : WORKLOADS.map((w) => w.id);
export const only = opt('--only');
export const workloads = WORKLOADS.filter(
  (w) => ids.includes(w.id) && (!only || new RegExp(`^(?:${only})$`).test(w.id)),
);
/** The W family: the short workloads every kind of measurement runs on (analyze, the JS reference,
 * PyTorch over 256 samples). */
export const SMALL = ['W', 'W-gru', 'W-rnn'];
export const JS_CAP =
  'not run: the JavaScript reference runs at ~1.3 GFLOP/s (1–2 min per measurement here); its ratio to the wasm kernels is shown on W, W-gru and W-rnn (keeps npm run bench within 35 min)';

export const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

// ---- machine and load --------------------------------------------------------------------------

export function cpuModel(): string {
  try {
    return /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpus()[0]!.model;
  } catch {
    return cpus()[0]?.model ?? 'unknown CPU';
  }
}

/** Busy CPU seconds of the whole machine so far (/proc/stat, USER_HZ = 100), or null off Linux. */
export function machineBusyS(): number | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3]! + (f[4] ?? 0);
    return (f.reduce((a, b) => a + b, 0) - idle) / 100;
  } catch {
    return null;
  }
}

/** Commit of the measured code, "+ uncommitted changes" when the working tree differs (read-only git calls). */
export function gitSource(): string {
  const git = (...a: string[]): string | null => {
    const r = spawnSync('git', a, { cwd: root, encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : null;
  };
  const head = git('rev-parse', '--short', 'HEAD');
  if (!head) return 'a source tree outside git';
  const dirty = git('status', '--porcelain', '--untracked-files=no', '--', 'src', 'bench');
  return `commit ${head}${dirty ? ' + uncommitted changes in src/ or bench/' : ''}`;
}

export function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function waitForLoad(max: number): void {
  const until = Date.now() + 30 * 60e3;
  while (loadavg()[0]! >= max && Date.now() < until) {
    log(
      `load average ${loadavg()[0]!.toFixed(2)} ≥ ${max}: waiting 30 s (gives up ${new Date(until).toISOString().slice(11, 16)} UTC)`,
    );
    sleep(30e3);
  }
}

// ---- clock and peak

export const cores = cpus().length;
/** Clock in MHz: os.cpus() (0 in some VMs), else /proc/cpuinfo's "cpu MHz". */
export function clockMhz(): number {
  const fromOs = cpus()[0]?.speed ?? 0;
  if (fromOs > 0) return Math.round(fromOs);
  try {
    return Math.round(Number(/cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 0));
  } catch {
    return 0;
  }
}
export const mhz = clockMhz();
// AVX2: two 256-bit FMA pipes per core = 2 × 8 lanes × 2 flops = 32 fp32 flops per cycle.
export const peakGflops = cores * (mhz / 1000) * 32;
