// `npm run bench`: the benchmark of issue 15 (performance). rnnscope's gradients (JS reference and
// SIMD WebAssembly kernels, with and without all taps, on one thread and split across the gradient
// pool's threads, the analysis in-process, and `rnnscope analyze` end to end from the built package)
// side by side with PyTorch (fused, per-step unrolled with taps, and the same over 256 samples) and
// TensorFlow.js (wasm and cpu backends), each measurement in a fresh child process, written to
// bench/results/latest.{md,json}; the targets table also goes into README.md between its
// bench-targets markers.
//
//   run.ts ─► per workload × implementation: child process ─► one JSON line
//     child-rnnscope.ts, analyze-cli.ts (rnnscope)   torch_bench.py (PyTorch)   peers-tfjs.ts (TF.js)
//   ─► Measurement[] ─► targets ─► report.ts ─► latest.md, latest.json, README.md
//
//   npm run bench -- [--quick] [--only REGEX] [--repeats N] [--budget S] [--no-js] [--no-torch]
//     [--no-tfjs] [--no-browser] [--no-watch] [--no-cli] [--wait-load [MAX_LOAD]] [--resume] [--render]
//     [--estimate] [--out DIR]
//
// --no-cli: skip `rnnscope analyze` end to end (it builds the package into a temporary directory first).
// --estimate: print the expected duration and stop.
// --render: only rewrite latest.md from latest.json.
// --resume: take over the measurements of an interrupted run (results/partial.json).
// --no-watch: skip `rnnscope watch` on 3 checkpoints of W (bench/watch.ts speed).
// --quick: W, W-gru and W-rnn only. --only: workloads whose id matches REGEX (anchored).
// --repeats: timed runs per measurement (default 5; fewer when they exceed --budget seconds,
// default 45). --wait-load: before starting, wait (up to 30 min) until the 1-minute load
// average is below MAX_LOAD (default 1.0), and repeat a measurement that other processes
// disturbed (see runChild).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readmeBlock, toMarkdown, type BenchReport, type Impl, type Measurement, type Target } from './report.js';
import { measureInChromium } from './browser.js';
import { WARM_S } from './timing.js';
import { buildPackage, type Profile } from './analyze-cli.js';
import { forwardFlops, gradFlops, WORKLOADS, type Workload } from './workloads.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(name);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  const v = i >= 0 ? args[i + 1] : undefined;
  return v && !v.startsWith('--') ? v : undefined;
};
const REPEATS = Number(opt('--repeats') ?? 5);
const BUDGET_S = Number(opt('--budget') ?? 45);
/** A JS-kernel run estimated above this many seconds is not started (estimated from W's GFLOP/s). */
const MAX_EST_RUN_S = 120;
/** TF.js peers are skipped when one run takes (or is estimated from W to take) longer than this. */
const TFJS_MAX_RUN_S = 60;
const outDir = opt('--out') ?? join(here, 'results');
const waitLoad = flag('--wait-load') ? Number(opt('--wait-load') ?? 1.0) : null;
/** Other processes' CPU (cores) above which --wait-load measures again. */
const RETRY_ABOVE = 0.3;

const ids = flag('--quick') ? ['W', 'W-gru', 'W-rnn'] : WORKLOADS.map((w) => w.id);
const only = opt('--only');
const workloads = WORKLOADS.filter((w) => ids.includes(w.id) && (!only || new RegExp(`^(?:${only})$`).test(w.id)));
/** The W family: the short workloads every kind of measurement runs on (analyze, the JS reference,
 * PyTorch over 256 samples). */
const SMALL = ['W', 'W-gru', 'W-rnn'];
const JS_CAP =
  'not run: the JavaScript reference runs at ~1.3 GFLOP/s (1–2 min per measurement here); its ratio to the wasm kernels is shown on W, W-gru and W-rnn (keeps npm run bench within 35 min)';
/** The built package `rnnscope analyze` runs from (analyze-cli.ts), or null. */
let pkgDir: string | null = null;

const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

// ---- machine and load --------------------------------------------------------------------------

function cpuModel(): string {
  try {
    return /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpus()[0]!.model;
  } catch {
    return cpus()[0]?.model ?? 'unknown CPU';
  }
}

/** Busy CPU seconds of the whole machine so far (/proc/stat, USER_HZ = 100), or null off Linux. */
function machineBusyS(): number | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3]! + (f[4] ?? 0);
    return (f.reduce((a, b) => a + b, 0) - idle) / 100;
  } catch {
    return null;
  }
}

/** Commit of the measured code, "+ uncommitted changes" when the working tree differs (read-only git calls). */
function gitSource(): string {
  const git = (...a: string[]): string | null => {
    const r = spawnSync('git', a, { cwd: root, encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : null;
  };
  const head = git('rev-parse', '--short', 'HEAD');
  if (!head) return 'a source tree outside git';
  const dirty = git('status', '--porcelain', '--untracked-files=no', '--', 'src', 'bench');
  return `commit ${head}${dirty ? ' + uncommitted changes in src/ or bench/' : ''}`;
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function waitForLoad(max: number): void {
  const until = Date.now() + 30 * 60e3;
  while (loadavg()[0]! >= max && Date.now() < until) {
    log(
      `load average ${loadavg()[0]!.toFixed(2)} ≥ ${max}: waiting 30 s (gives up ${new Date(until).toISOString().slice(11, 16)} UTC)`,
    );
    sleep(30e3);
  }
}

// ---- children ------------------------------------------------------------------------------------

interface ChildOut {
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
function runChildOnce(
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
function busyNow(ms = 5000): number | null {
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
function runChild(
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

const node = (file: string, ...rest: (string | number)[]): [string, string[]] => [
  process.execPath,
  ['--import', 'tsx', join(here, file), ...rest.map(String)],
];

// ---- measurements --------------------------------------------------------------------------------

const cores = cpus().length;
/** Clock in MHz: os.cpus() (0 in some VMs), else /proc/cpuinfo's "cpu MHz". */
function clockMhz(): number {
  const fromOs = cpus()[0]?.speed ?? 0;
  if (fromOs > 0) return Math.round(fromOs);
  try {
    return Math.round(Number(/cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 0));
  } catch {
    return 0;
  }
}
const mhz = clockMhz();
// AVX2: two 256-bit FMA pipes per core = 2 × 8 lanes × 2 flops = 32 fp32 flops per cycle.
const peakGflops = cores * (mhz / 1000) * 32;

const measurements: Measurement[] = [];
const notes: string[] = [];
const peers: string[] = [];

function record(
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

function skip(w: Workload, impl: Impl, variant: string, reason: string): void {
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
const partialPath = join(outDir, 'partial.json');
function savePartial(): void {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(partialPath, JSON.stringify({ measurements, notes, peers }));
}
const resumed: Measurement[] =
  flag('--resume') && existsSync(partialPath)
    ? (JSON.parse(readFileSync(partialPath, 'utf8')) as { measurements: Measurement[] }).measurements
    : [];
/** With --resume, takes a measurement over from the interrupted run; true when it did. */
function reuse(wid: string, impl: Impl, variant: string): boolean {
  const m = resumed.find((x) => x.workload === wid && x.impl === impl && x.variant === variant);
  if (m) {
    measurements.push(m);
    log(`  ${wid.padEnd(10)} ${impl} ${variant.padEnd(16)} (from the interrupted run)`);
  }
  return !!m;
}

/** Seconds one run of `impl variant` on w would take, from its GFLOP/s on the W-family workload of the same cell. */
function estimate(w: Workload, impl: Impl, variant: string, extraFlops = 0): number | null {
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

function detectWasm(): Promise<string | null> {
  return import('../src/engine/kernels-wasm.js').then(
    (m) => (m.wasmSimdSupported() ? null : 'this runtime lacks WebAssembly SIMD'),
    (e: unknown) => `src/engine/kernels-wasm.ts did not load (${(e as Error).message.split('\n')[0]})`,
  );
}

function detectTorch(): string | null {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  return r.status === 0
    ? null
    : `PyTorch not available (${(r.error?.message ?? r.stderr.trim().split('\n').at(-1)) || 'import torch failed'}); install Debian's python3-torch`;
}

async function detectTfjs(): Promise<string | null> {
  try {
    await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-wasm');
    return null;
  } catch (e) {
    return `TF.js not available (${(e as Error).message.split('\n')[0]}); npm install -D @tensorflow/tfjs @tensorflow/tfjs-backend-wasm`;
  }
}

async function main(): Promise<void> {
  if (flag('--render')) {
    // Re-render latest.md from latest.json (after a change to report.ts), without measuring.
    const r = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as BenchReport;
    writeFileSync(join(outDir, 'latest.md'), toMarkdown(r));
    log(`wrote ${join(outDir, 'latest.md')} from latest.json`);
    return;
  }
  if (waitLoad !== null) waitForLoad(waitLoad);
  const loadStart = loadavg();
  const started = new Date();
  log(
    `rnnscope bench: ${workloads.map((w) => w.id).join(', ')}; load average ${loadStart.map((x) => x.toFixed(2)).join(' ')}; fp32 peak ${peakGflops.toFixed(0)} GFLOP/s`,
  );

  const noWasm = await detectWasm();
  const kernelsList = [...(noWasm ? [] : ['wasm']), ...(flag('--no-js') ? [] : ['js'])];
  if (noWasm) notes.push(`rnnscope WebAssembly kernels not measured: ${noWasm}.`);
  const noTorch = flag('--no-torch') ? 'PyTorch skipped (--no-torch)' : detectTorch();
  const noTfjs = flag('--no-tfjs') ? 'TF.js skipped (--no-tfjs)' : await detectTfjs();
  if (noTorch) notes.push(`${noTorch}.`);
  if (noTfjs) notes.push(`${noTfjs}.`);
  const cli = !flag('--no-cli') && !noWasm && workloads.some((w) => SMALL.includes(w.id));
  log(
    `expected duration: about ${Math.round(expectedSeconds(kernelsList, !noTorch, !noTfjs, cli) / 60)} min (from the previous run's times where it has them; more on a busy machine)`,
  );
  if (flag('--estimate')) return;
  if (cli) {
    log(
      'building the package (tsc -p tsconfig.build.json into a temporary directory) for `rnnscope analyze` end to end',
    );
    try {
      pkgDir = buildPackage();
    } catch (e) {
      notes.push(`\`rnnscope analyze\` end to end not measured: ${(e as Error).message.split('\n')[0]}.`);
    }
  }

  for (const w of workloads) {
    log(`${w.id}: ${w.layers}× ${w.kind}, ${w.inputs} inputs, ${w.units} units, ${w.steps} steps, batch ${w.batch}`);
    const F = gradFlops(w);
    const long = w.steps > 1000;
    // ---- rnnscope
    const short = !long && w.id !== 'W-long-ref';
    const family = SMALL.includes(w.id);
    for (const k of kernelsList) {
      if (k === 'js' && !family) {
        // Capped: at ~1.3 GFLOP/s the JS reference costs 1–2 min per measurement here.
        for (const mode of short ? ['grad', 'taps'] : ['grad'])
          if (!reuse(w.id, 'rnnscope', `js ${mode}`)) skip(w, 'rnnscope', `js ${mode}`, JS_CAP);
        continue;
      }
      const modes = short ? ['grad', 'taps'] : ['grad'];
      // -mt: the batch split across the gradient pool's threads (this one and a worker per other core).
      if (k === 'wasm' && short) modes.push('grad-mt', 'taps-mt');
      // analyze: this thread (the browser's path); analyze-par: the library's Node analysis (batch ranges on the pool).
      if (family && k === 'wasm') modes.push('analyze', 'analyze-par');
      for (const mode of modes) {
        const variant = `${k} ${mode}`;
        if (reuse(w.id, 'rnnscope', variant)) continue;
        // analyze = 8 batches of 32 with taps, plus the statistics: its flops are 8 gradients.
        const flops = mode.startsWith('analyze') ? (256 / w.batch) * F : F;
        // Checkpointing recomputes the forward pass once: estimate with 4/3 of the counted flops.
        const est =
          k === 'js' && !mode.startsWith('analyze')
            ? estimate(w, 'rnnscope', 'js grad', long ? forwardFlops(w) : 0)
            : null;
        if (est !== null && est > MAX_EST_RUN_S) {
          skip(
            w,
            'rnnscope',
            variant,
            `estimated ${(est / 60).toFixed(0)} min per run at the JS kernels' speed on W; not run`,
          );
          continue;
        }
        record(w, 'rnnscope', variant, flops, runChild(...node('child-rnnscope.ts', w.id, k, mode, REPEATS, BUDGET_S)));
      }
    }
    // ---- `rnnscope analyze` end to end (process start to JSON written), from the built package
    if (family && !noWasm && pkgDir && !reuse(w.id, 'rnnscope', 'wasm analyze-cli'))
      record(
        w,
        'rnnscope',
        'wasm analyze-cli',
        (256 / w.batch) * F,
        runChild(...node('analyze-cli.ts', w.id, REPEATS, pkgDir)),
      );
    if (long)
      notes.push(
        `${w.id}: rnnscope measured without taps: all taps of ${w.steps} steps are (B, T, width) arrays of ${((w.batch * w.steps * (17 * w.units + 2 * w.inputs) * 4) / 2 ** 30).toFixed(1)} GiB, by design above the 1 GiB target.`,
      );
    // ---- PyTorch
    if (!noTorch) {
      const variants = long || w.id === 'W-long-ref' ? ['fused'] : ['fused', 'unrolled'];
      // The gradient with every per-step tap over 256 samples in batches of 32: what analyze computes.
      if (family) variants.push('unrolled256');
      for (const v of variants) {
        if (reuse(w.id, 'torch', v)) continue;
        const r = runChild(
          '/usr/bin/python3',
          [
            join(here, 'torch_bench.py'),
            w.kind === 'SimpleRNN' ? 'RNN' : w.kind,
            w.inputs,
            w.units,
            w.steps,
            w.batch,
            w.layers,
            REPEATS,
            v,
          ].map(String),
          { BENCH_BUDGET_S: String(BUDGET_S) },
        );
        const o = r.out;
        if (o.ok === undefined) {
          o.ok = typeof o[v] === 'number';
          o.times = o[`${v}_times`] as number[] | undefined;
          o.median = o[v] as number | undefined;
          o.maxRssMb = o['maxrss_mb'] as number | undefined;
          o.first = o[`${v}_first`] as number | undefined;
          o.warmupRuns = o[`${v}_warmup_runs`] as number | undefined;
          o.kernels = `torch ${String(o['torch'])}, ${String(o['threads'])} threads, ${String(o['blas'] ?? 'BLAS not OpenBLAS (check update-alternatives --display libblas.so.3-x86_64-linux-gnu)')}`;
          if (!o.ok) o.error ??= 'no result';
        }
        record(w, 'torch', v, v === 'unrolled256' ? (256 / w.batch) * F : F, r);
        if (o.ok && !peers.some((p) => p.startsWith('PyTorch'))) peers.push(`PyTorch: ${o.kernels}`);
      }
      if (long)
        notes.push(
          `${w.id}: PyTorch's per-step unrolled version is not run beyond 1000 steps (torch_bench.py); its fused nn.LSTM stores every step's activations (no checkpointing), hence its peak RSS.`,
        );
    }
    // ---- TF.js
    if (!noTfjs && w.id !== 'W-long-ref') {
      for (const backend of ['wasm', 'cpu']) {
        if (reuse(w.id, 'tfjs', backend)) continue;
        const est = estimate(w, 'tfjs', backend);
        if (long || (est !== null && est > TFJS_MAX_RUN_S)) {
          skip(
            w,
            'tfjs',
            backend,
            long
              ? `not run: ${w.steps} steps of tf.layers ${w.kind} (estimated ${est === null ? '≫ 60 s' : `${(est / 60).toFixed(0)} min`} per run, > ${TFJS_MAX_RUN_S} s)`
              : `estimated ${est!.toFixed(0)} s per run (> ${TFJS_MAX_RUN_S} s); not run`,
          );
          continue;
        }
        const m = record(
          w,
          'tfjs',
          backend,
          F,
          runChild(...node('peers-tfjs.ts', w.id, backend, REPEATS, BUDGET_S, TFJS_MAX_RUN_S)),
        );
        if (!m.skipped && !peers.some((p) => p.includes(m.detail))) peers.push(`TF.js: ${m.detail}`);
      }
    }
  }

  const inBrowser = workloads.filter((w) => w.id === 'W');
  if (inBrowser.length && !noWasm && !flag('--no-browser')) {
    log('W in Chromium (wasm kernels)');
    const modes = ['grad', 'taps'] as const;
    const r = await measureInChromium(
      modes.map((mode) => ({ id: 'W', mode })),
      REPEATS,
      BUDGET_S,
    ).catch((e: unknown) => `failed: ${(e as Error).message.split('\n')[0]}`);
    if (typeof r === 'string') notes.push(`rnnscope in Chromium not measured: ${r}.`);
    else {
      r.forEach((x, i) =>
        record(inBrowser[0]!, 'rnnscope', `wasm ${modes[i]} · Chromium`, gradFlops(inBrowser[0]!), {
          out: {
            ok: true,
            kernels: `${x.result.kernels}, ${x.browser}${x.result.crossOriginIsolated ? '' : ', NOT cross-origin isolated'}`,
            times: x.result.times,
            median: x.result.median,
            first: x.result.first,
            warmupRuns: x.result.warmupRuns,
            gradNorm: x.result.gradNorm,
          },
          othersCores: null,
        }),
      );
    }
  }

  // ---- rnnscope watch: one checkpoint of W against analyze (issue: training timeline)
  if (workloads.some((w) => w.id === 'W') && !flag('--no-watch')) {
    log('rnnscope watch: 3 checkpoints of W, 256 samples each');
    const r = runChild(...node('watch.ts', 'speed', 3));
    if (r.out.ok) watchSpeed = r.out as unknown as WatchSpeed;
    else notes.push(`rnnscope watch not measured: ${r.out.error ?? r.out.skipped ?? 'no result'}.`);
  }

  const targets = evaluateTargets();
  checkAgreement();
  const loadEnd = loadavg();
  const report: BenchReport = {
    schema: 'rnnscope-bench/1',
    date: started.toISOString(),
    command: `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`,
    source: gitSource(),
    machine: {
      cpu: cpuModel(),
      cores,
      mhz,
      peakGflops,
      peakNote: `${cores} cores × ${(mhz / 1000).toFixed(3)} GHz (the clock /proc/cpuinfo reports; boost clocks would raise it) × 32 fp32 flops/cycle (AVX2: two 256-bit FMA pipes). The CPU also has AVX-512; if its FMA pipes are 512 bits wide the true peak is twice this, and every "% peak" halves.`,
      node: process.versions.node,
      loadStart,
      loadEnd,
    },
    peers,
    flopModel:
      'matrix products only, 2 flops per multiply–add: forward = Σ over layers 2·T·B·(I+U)·G·U (G = 4 LSTM, 3 GRU, 1 SimpleRNN), backward = 2 × forward, one gradient = 3 × forward; elementwise gate math, the Dense head and checkpoint recomputation are not counted. analyze = 8 gradients (256 samples, batch 32).',
    method: `each measurement in a fresh child process (peak RSS = that process's maxRSS, including Node/Python and the library itself); in-process timing of one gradient (forward + backward, all parameters) after ${WARM_S} s of warm-up runs (at least one; V8 needs several runs to optimise the WebAssembly and JavaScript); median of up to ${REPEATS} runs, fewer when they would exceed ${BUDGET_S} s (the runs column). float32 throughout. rnnscope and TF.js use one thread; PyTorch uses ${cores} intra-op threads with one OpenBLAS thread each (torch_bench.py: its fastest setting here; the default, where OpenBLAS starts ${cores} threads inside each torch thread, oversubscribes the cores and is 2–4× slower).`,
    measurements,
    targets,
    notes,
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify(report, null, 1)}\n`);
  writeFileSync(join(outDir, 'latest.md'), toMarkdown(report));
  rmSync(partialPath, { force: true });
  if (pkgDir) rmSync(pkgDir, { recursive: true, force: true });
  updateReadme(report);
  log(
    `\nwrote ${join(outDir, 'latest.md')} and latest.json; load average at end ${loadEnd.map((x) => x.toFixed(2)).join(' ')}`,
  );
  for (const t of targets) log(`  ${t.pass === null ? 'n/a ' : t.pass ? 'pass' : 'FAIL'}  ${t.text}: ${t.measured}`);
}

// ---- duration and README ---------------------------------------------------------------------------

/** Seconds the selected measurements should take: the previous run's times (latest.json) where it has them,
 * else a guess. */
function expectedSeconds(kernelsList: string[], torch: boolean, tfjs: boolean, cli: boolean): number {
  let prev: Measurement[] = [];
  try {
    prev = (JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as BenchReport).measurements;
  } catch {
    // no previous run: guesses only
  }
  const cost = (w: Workload, impl: Impl, variant: string, guess: number): number => {
    const m = prev.find((x) => x.workload === w.id && x.impl === impl && x.variant === variant && x.median);
    if (!m) return guess;
    const runs = Math.max(1, Math.min(REPEATS, Math.floor(BUDGET_S / m.median!)));
    return WARM_S + Math.max(m.first ?? 0, m.median!) + runs * m.median! + 2;
  };
  let t = cli ? 60 : 0;
  for (const w of workloads) {
    const long = w.steps > 1000,
      short = !long && w.id !== 'W-long-ref',
      family = SMALL.includes(w.id);
    const big = long ? 130 : w.id === 'W-large' ? 16 : 10;
    for (const k of kernelsList) {
      if (k === 'js' && !family) continue;
      const modes = short ? ['grad', 'taps'] : ['grad'];
      if (k === 'wasm' && short) modes.push('grad-mt', 'taps-mt');
      if (k === 'wasm' && family) modes.push('analyze', 'analyze-par');
      for (const mode of modes)
        t += cost(w, 'rnnscope', `${k} ${mode}`, mode.startsWith('analyze') ? 40 : k === 'js' ? 25 : big);
    }
    if (cli && family) t += cost(w, 'rnnscope', 'wasm analyze-cli', 35);
    if (torch)
      for (const v of short ? ['fused', 'unrolled', ...(family ? ['unrolled256'] : [])] : ['fused'])
        t += cost(w, 'torch', v, long ? 110 : v === 'unrolled256' ? 20 : 9);
    if (tfjs && !long && w.id !== 'W-long-ref')
      for (const b of ['wasm', 'cpu']) t += cost(w, 'tfjs', b, w.id === 'W-large' ? (b === 'wasm' ? 94 : 0) : 40);
  }
  if (workloads.some((w) => w.id === 'W')) t += (flag('--no-browser') ? 0 : 40) + (flag('--no-watch') ? 0 : 60);
  return t;
}

/** Writes the results and targets tables into README.md between its bench-targets markers (when both are there). */
function updateReadme(report: BenchReport): void {
  if (outDir !== join(here, 'results') || only || flag('--quick')) return; // only a full run speaks for the README
  const file = join(root, 'README.md');
  const text = readFileSync(file, 'utf8');
  const open = '<!-- bench-targets: written by npm run bench -->',
    close = '<!-- /bench-targets -->';
  const a = text.indexOf(open),
    b = text.indexOf(close);
  if (a < 0 || b < a) return;
  writeFileSync(file, `${text.slice(0, a + open.length)}\n${readmeBlock(report)}\n${text.slice(b)}`);
  // Tables in Biome's Markdown format, as `npm run lint` checks README.md.
  const biome = join(root, 'node_modules', '@biomejs', 'biome', 'bin', 'biome');
  const f = spawnSync(process.execPath, [biome, 'format', '--write', file], { cwd: root, encoding: 'utf8' });
  log(
    `wrote the results and targets tables into README.md${f.status === 0 ? '' : ' (biome format failed: run npm run format)'}`,
  );
}

// ---- targets ---------------------------------------------------------------------------------------

/** bench/watch.ts speed: per checkpoint, [load s, analysis s] as the watch printed them, and the same
 * checkpoint through analyze's calls right after. */
interface WatchSpeed {
  watch: number[][];
  analyze: number[][];
}
let watchSpeed: WatchSpeed | null = null;

const get = (wid: string, impl: Impl, variant: string): Measurement | undefined =>
  measurements.find((m) => m.workload === wid && m.impl === impl && m.variant === variant && m.median !== null);

/** rnnscope's fastest measurement of a workload among the modes (any kernels, Node only). */
function best(wid: string, modes: string[]): Measurement | undefined {
  return measurements
    .filter(
      (m) =>
        m.workload === wid &&
        m.impl === 'rnnscope' &&
        !m.variant.includes('Chromium') &&
        modes.includes(m.variant.split(' ')[1]!) &&
        m.median !== null,
    )
    .sort((a, b) => a.median! - b.median!)[0];
}

const s = (x: number): string => (x >= 10 ? x.toFixed(1) : x.toPrecision(3));

function evaluateTargets(): Target[] {
  const T: Target[] = [];
  const add = (
    id: string,
    text: string,
    limit: string,
    value: number | null,
    measured: string,
    ok: (v: number) => boolean,
  ): void => {
    T.push({
      id,
      text,
      limit,
      value,
      measured: value === null ? `not measured (${measured})` : measured,
      pass: value === null ? null : ok(value),
    });
  };
  const lbl = (m: Measurement): string =>
    `${m.variant.endsWith('-mt') ? 'split over the threads' : 'one thread'} ${s(m.median!)} s`;
  const both = (wid: string, mode: string): string => {
    const one = get(wid, 'rnnscope', `wasm ${mode}`),
      mt = get(wid, 'rnnscope', `wasm ${mode}-mt`);
    return [one && `one thread ${s(one.median!)} s`, mt && `split over the threads ${s(mt.median!)} s`]
      .filter(Boolean)
      .join(', ');
  };
  for (const wid of SMALL) {
    const kind = WORKLOADS.find((x) => x.id === wid)!.kind;
    const nn = `nn.${kind === 'SimpleRNN' ? 'RNN' : kind}`;
    const g = best(wid, ['grad', 'grad-mt']),
      t = best(wid, ['taps', 'taps-mt']);
    const tf = get(wid, 'torch', 'fused'),
      tu = get(wid, 'torch', 'unrolled'),
      t256 = get(wid, 'torch', 'unrolled256'),
      jw = get(wid, 'tfjs', 'wasm');
    add(
      `${wid}-grad-vs-fused`,
      `${wid} gradient ≤ PyTorch fused ${nn}`,
      '≤ 1×',
      g && tf ? g.median! / tf.median! : null,
      g && tf
        ? `rnnscope (${both(wid, 'grad')}) ÷ PyTorch fused ${s(tf.median!)} s = ${s(g.median! / tf.median!)}× (${lbl(g)})`
        : 'a side is missing',
      (v) => v <= 1,
    );
    add(
      `${wid}-taps-vs-unrolled`,
      `${wid} with all taps ≤ PyTorch per-step unrolled with taps`,
      '≤ 1×',
      t && tu ? t.median! / tu.median! : null,
      t && tu
        ? `rnnscope (${both(wid, 'taps')}) ÷ PyTorch unrolled ${s(tu.median!)} s = ${s(t.median! / tu.median!)}× (${lbl(t)})`
        : 'a side is missing',
      (v) => v <= 1,
    );
    add(
      `${wid}-taps-vs-tfjs`,
      `${wid} with all taps ≥ 15× faster than TF.js wasm`,
      '≥ 15×',
      t && jw ? jw.median! / t.median! : null,
      t && jw
        ? `TF.js wasm ${s(jw.median!)} s ÷ rnnscope ${lbl(t)} = ${s(jw.median! / t.median!)}×`
        : 'a side is missing',
      (v) => v >= 15,
    );
    const cli = get(wid, 'rnnscope', 'wasm analyze-cli');
    const prof = cli?.profile
      ? ` (--profile: ${cli.profile.phases.map(([k, x]) => `${k} ${s(x)}`).join(', ')}; before start-up ${s(cli.profile.beforeStart)} s)`
      : '';
    add(
      `${wid}-analyze-cli`,
      `\`rnnscope analyze\` on 256 samples of ${wid}, process start to JSON written, ≤ 2 × PyTorch's gradient with taps over the same 256 samples`,
      '≤ 2×',
      cli && t256 ? cli.median! / t256.median! : null,
      cli && t256
        ? `rnnscope analyze ${s(cli.median!)} s${prof} ÷ PyTorch unrolled + taps, 8 batches of 32, ${s(t256.median!)} s = ${s(cli.median! / t256.median!)}×`
        : cli
          ? `PyTorch side missing; rnnscope analyze ${s(cli.median!)} s${prof}`
          : 'not run (--no-cli, or the build failed: see the notes)',
      (v) => v <= 2,
    );
  }
  const lg = best('W-large', ['grad', 'grad-mt']),
    ltf = get('W-large', 'torch', 'fused');
  add(
    'W-large-peak',
    'W-large ≥ 30% of the fp32 peak',
    '≥ 30%',
    lg?.peakShare ?? null,
    lg
      ? `rnnscope ${lbl(lg)}: ${s(lg.gflops!)} GFLOP/s = ${(100 * lg.peakShare!).toFixed(1)}% of ${peakGflops.toFixed(0)}${ltf ? ` (PyTorch fused: ${(100 * ltf.peakShare!).toFixed(1)}%)` : ''}`
      : 'W-large not run',
    (v) => v >= 0.3,
  );
  const wl = best('W-long', ['grad']);
  add(
    'W-long-memory',
    'W-long peak memory < 1 GiB',
    '< 1024 MB',
    wl?.maxRssMb ?? null,
    wl ? `rnnscope ${wl.variant}: peak RSS ${wl.maxRssMb!.toFixed(0)} MB` : 'W-long not run',
    (v) => v < 1024,
  );
  const wlr = wl ? get('W-long-ref', 'rnnscope', wl.variant) : undefined;
  const perStep = (m: Measurement): number => m.median! / WORKLOADS.find((x) => x.id === m.workload)!.steps;
  add(
    'W-long-per-step',
    "W-long time per step ≤ 1.5 × a short sequence's",
    '≤ 1.5×',
    wl && wlr ? perStep(wl) / perStep(wlr) : null,
    wl && wlr
      ? `${(1e3 * perStep(wl)).toFixed(2)} ms/step (10,000 steps) ÷ ${(1e3 * perStep(wlr)).toFixed(2)} ` +
          `ms/step (200 steps) = ${s(perStep(wl) / perStep(wlr))}×`
      : 'W-long or W-long-ref not run',
    (v) => v <= 1.5,
  );
  const an = get('W', 'rnnscope', 'wasm analyze-par');
  // Per checkpoint, watch (load + analysis) ÷ analyze (load + analysis) of the same file right after; median.
  const ws = watchSpeed;
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ratios = ws ? ws.watch.map((w, i) => (w[0]! + w[1]!) / (ws.analyze[i]![0]! + ws.analyze[i]![1]!)) : [];
  const mean = (xs: number[][], i: number): number => xs.reduce((a, x) => a + x[i]!, 0) / xs.length;
  add(
    'watch-checkpoint',
    '`rnnscope watch`: one checkpoint of W (256 samples) in the time of `analyze` plus loading',
    '≤ 1.1×',
    ratios.length ? med(ratios) : null,
    ws && ratios.length
      ? `watch: load ${s(mean(ws.watch, 0))} s + analysis ${s(mean(ws.watch, 1))} s per checkpoint; ` +
          `analyze of the same files: load ${s(mean(ws.analyze, 0))} s + analysis ${s(mean(ws.analyze, 1))} s; ` +
          `median ratio ${s(med(ratios))}× over ${ratios.length} checkpoints` +
          (an ? ` (analyze-par above: ${s(an.median!)} s)` : '')
      : 'not run (W not selected, or --no-watch)',
    (v) => v <= 1.1,
  );
  const pairs = (['grad', 'taps'] as const)
    .map((mode) => [get('W', 'rnnscope', `wasm ${mode} · Chromium`), get('W', 'rnnscope', `wasm ${mode}`)] as const)
    .filter(([c, n]) => c && n);
  const worst = pairs.length ? Math.max(...pairs.map(([c, n]) => c!.median! / n!.median!)) : null;
  add(
    'browser',
    'The same kernels in Chromium within 1.2× of Node (W, one thread each)',
    '≤ 1.2×',
    worst,
    pairs.length
      ? pairs
          .map(
            ([c, n]) =>
              `${c!.variant.split(' ')[1]}: Chromium ${s(c!.median!)} s ÷ Node ${s(n!.median!)} s = ${s(c!.median! / n!.median!)}×`,
          )
          .join('; ')
      : 'W was not run in Chromium; see the notes',
    (v) => v <= 1.2,
  );
  return T;
}

/** rnnscope's kernel variants (and Chromium) must give the same gradient norm within float32 rounding. */
function checkAgreement(): void {
  for (const w of workloads) {
    for (const mode of ['grad', 'taps']) {
      const ms = measurements.filter(
        (m) => m.workload === w.id && m.impl === 'rnnscope' && m.variant.split(' ')[1] === mode && m.gradNorm,
      );
      if (ms.length < 2) continue;
      const ref = ms[0]!.gradNorm!;
      const d = Math.max(...ms.map((m) => Math.abs(m.gradNorm! - ref) / ref));
      const text =
        `${w.id} ${mode}: ‖∇‖ ` +
        `${ms.map((m) => `${m.variant.replace(` ${mode}`, '')} ${m.gradNorm!.toPrecision(8)}`).join(', ')} ` +
        `(largest relative difference ${d.toExponential(1)})`;
      notes.push(d > 1e-4 ? `Kernel variants DISAGREE: ${text}.` : `Kernel variants agree: ${text}.`);
    }
  }
}

main().catch((e: unknown) => {
  log(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exitCode = 1;
});
