// npm run bench (run.ts): the measurements so far (recorded, skipped, or taken over from an
// interrupted run with --resume), run-time estimates from them, and which peers this machine has.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Impl, Measurement } from './report.js';
import type { ChildOut } from './run-child.js';
import { flag, log, outDir, peakGflops } from './run-env.js';
import { gradFlops, WORKLOADS, type Workload } from './workloads.js';

export const measurements: Measurement[] = [];
export const notes: string[] = [];
export const peers: string[] = [];

export function record(
  w: Workload,
  impl: Impl,
  variant: string,
  flops: number,
  r: { out: ChildOut; othersCores: number | null },
  detail = '',
): Measurement {
  const o = r.out;
  const m: Measurement = {
    workload: w.id,
    impl,
    variant,
    detail: o.kernels ?? detail,
    median: o.ok ? (o.median ?? null) : null,
    times: o.times ?? [],
    first: o.first ?? null,
    warmupRuns: o.warmupRuns ?? null,
    maxRssMb: o.maxRssMb ?? null,
    flops,
    gflops: null,
    peakShare: null,
    othersCores: r.othersCores,
  };
  if (o.ok && m.median) {
    m.gflops = flops / m.median / 1e9;
    m.peakShare = m.gflops / peakGflops;
  }
  if (o.loss !== undefined) m.loss = o.loss;
  if (o.gradNorm !== undefined) m.gradNorm = o.gradNorm;
  if (o.copiedMbPerRun !== undefined) m.copiedMbPerRun = o.copiedMbPerRun;
  if (o.phases) m.phases = o.phases;
  if (o.profile) m.profile = o.profile;
  if (!o.ok) m.skipped = o.skipped ?? `failed: ${o.error}`;
  measurements.push(m);
  const mb = m.maxRssMb === null ? '' : `  ${m.maxRssMb.toFixed(0)} MB`;
  log(
    `  ${w.id.padEnd(10)} ${impl} ${variant.padEnd(16)} ` +
      `${m.skipped ?? `${m.median!.toFixed(3)} s  ${m.gflops!.toFixed(1)} GFLOP/s${mb}  (${m.times.length} runs, others ${r.othersCores?.toFixed(2) ?? '?'} cores)`}`,
  );
  savePartial();
  return m;
}

export function skip(w: Workload, impl: Impl, variant: string, reason: string): void {
  measurements.push({
    workload: w.id,
    impl,
    variant,
    detail: '',
    median: null,
    times: [],
    first: null,
    warmupRuns: null,
    maxRssMb: null,
    flops: gradFlops(w),
    gflops: null,
    peakShare: null,
    othersCores: null,
    skipped: reason,
  });
  log(`  ${w.id.padEnd(10)} ${impl} ${variant.padEnd(16)} skipped: ${reason}`);
  savePartial();
}

// Measurements so far, so that a crashed or interrupted run can continue (--resume).
export const partialPath = join(outDir, 'partial.json');
export function savePartial(): void {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(partialPath, JSON.stringify({ measurements, notes, peers }));
}
export const resumed: Measurement[] =
  flag('--resume') && existsSync(partialPath)
    ? (JSON.parse(readFileSync(partialPath, 'utf8')) as { measurements: Measurement[] }).measurements
    : [];
/** With --resume, takes a measurement over from the interrupted run; true when it did. */
export function reuse(wid: string, impl: Impl, variant: string): boolean {
  const m = resumed.find((x) => x.workload === wid && x.impl === impl && x.variant === variant);
  if (m) {
    measurements.push(m);
    log(`  ${wid.padEnd(10)} ${impl} ${variant.padEnd(16)} (from the interrupted run)`);
  }
  return !!m;
}

/** Seconds one run of `impl variant` on w would take, from its GFLOP/s on the W-family workload of the same cell. */
export function estimate(w: Workload, impl: Impl, variant: string, extraFlops = 0): number | null {
  const ref = measurements.find(
    (m) =>
      m.impl === impl &&
      m.variant === variant &&
      m.gflops &&
      ['W', 'W-gru', 'W-rnn'].includes(m.workload) &&
      WORKLOADS.find((x) => x.id === m.workload)!.kind === w.kind,
  );
  return ref ? (gradFlops(w) + extraFlops) / (ref.gflops! * 1e9) : null;
}

export function detectWasm(): Promise<string | null> {
  return import('../src/engine/kernels-wasm.js').then(
    (m) => (m.wasmSimdSupported() ? null : 'this runtime lacks WebAssembly SIMD'),
    (e: unknown) => `src/engine/kernels-wasm.ts did not load (${(e as Error).message.split('\n')[0]})`,
  );
}

export function detectTorch(): string | null {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  return r.status === 0
    ? null
    : `PyTorch not available (${(r.error?.message ?? r.stderr.trim().split('\n').at(-1)) || 'import torch failed'}); install Debian's python3-torch`;
}

export async function detectTfjs(): Promise<string | null> {
  try {
    await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-wasm');
    return null;
  } catch (e) {
    return `TF.js not available (${(e as Error).message.split('\n')[0]}); npm install -D @tensorflow/tfjs @tensorflow/tfjs-backend-wasm`;
  }
}
