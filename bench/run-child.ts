// npm run bench (run.ts): each measurement in a fresh child process that prints one JSON line;
// the CPU other processes used meanwhile, and (--wait-load) a repeat of disturbed measurements.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Profile } from './analyze-cli.js';
import { here, log, machineBusyS, RETRY_ABOVE, root, sleep, waitLoad } from './run-env.js';

// ---- children ------------------------------------------------------------------------------------

export interface ChildOut {
  ok: boolean;
  error?: string;
  skipped?: string;
  kernels?: string;
  times?: number[];
  median?: number;
  first?: number;
  warmupRuns?: number;
  maxRssMb?: number;
  cpuS?: number;
  loss?: number;
  gradNorm?: number;
  copiedMbPerRun?: number;
  phases?: { gradients: number; finish: number; connectivity: number };
  profile?: Profile | null;
  [k: string]: unknown;
}

/** Runs one child; returns its last stdout line parsed and the CPU other processes used meanwhile. */
export function runChildOnce(
  cmd: string,
  argv: string[],
  env: Record<string, string> = {},
): { out: ChildOut; othersCores: number | null } {
  const b0 = machineBusyS(),
    t0 = performance.now();
  const r = spawnSync(cmd, argv, {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 1 << 26,
    timeout: 30 * 60e3,
  });
  const wall = (performance.now() - t0) / 1e3,
    b1 = machineBusyS();
  const line = (r.stdout ?? '')
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .at(-1);
  let out: ChildOut;
  try {
    out = line
      ? (JSON.parse(line) as ChildOut)
      : { ok: false, error: (r.error?.message ?? r.stderr?.trim().split('\n').at(-1)) || `exit ${r.status}` };
  } catch {
    out = { ok: false, error: `unreadable output: ${line!.slice(0, 200)}` };
  }
  if (!out.ok && !out.error && !out.skipped) out.error = r.stderr?.trim().split('\n').at(-1) ?? 'failed';
  const cpu = out.cpuS ?? out['cpu_s'];
  const othersCores =
    b0 !== null && b1 !== null && typeof cpu === 'number' ? Math.max(0, (b1 - b0 - cpu) / wall) : null;
  return { out, othersCores };
}

/** CPU (in cores) the machine uses over `ms` while this process sleeps: other processes' load now. */
export function busyNow(ms = 5000): number | null {
  const b0 = machineBusyS();
  sleep(ms);
  const b1 = machineBusyS();
  return b0 === null || b1 === null ? null : (b1 - b0) / (ms / 1e3);
}

/**
 * runChildOnce; with --wait-load, a measurement during which other processes used more than
 * RETRY_ABOVE cores is repeated (up to twice) once the machine is quiet again (waiting at most
 * 3 min each time); the least disturbed attempt is kept.
 */
export function runChild(
  cmd: string,
  argv: string[],
  env: Record<string, string> = {},
): { out: ChildOut; othersCores: number | null } {
  let bestRun = runChildOnce(cmd, argv, env);
  for (let retry = 0; waitLoad !== null && retry < 2 && (bestRun.othersCores ?? 0) > RETRY_ABOVE; retry++) {
    const until = Date.now() + 180e3;
    let busy = busyNow();
    while (busy !== null && busy > RETRY_ABOVE && Date.now() < until) busy = busyNow();
    log(
      `    (others used ${bestRun.othersCores!.toFixed(2)} cores; measuring again, others now ${busy?.toFixed(2) ?? '?'})`,
    );
    const again = runChildOnce(cmd, argv, env);
    if (again.out.ok && (again.othersCores ?? 0) < (bestRun.othersCores ?? 0)) bestRun = again;
  }
  return bestRun;
}

export const node = (file: string, ...rest: (string | number)[]): [string, string[]] => [
  process.execPath,
  ['--import', 'tsx', join(here, file), ...rest.map(String)],
];
