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
// --render: only rewrite latest.md (and README's block) from latest.json.
// --resume: take over the measurements of an interrupted run (results/partial.json).
// --no-watch: skip `rnnscope watch` on 3 checkpoints of W (bench/watch.ts speed).
// --quick: W, W-gru and W-rnn only. --only: workloads whose id matches REGEX (anchored).
// --repeats: timed runs per measurement (default 5; fewer when they exceed --budget seconds,
// default 45). --wait-load: before starting, wait (up to 30 min) until the 1-minute load
// average is below MAX_LOAD (default 1.0), and repeat a measurement that other processes
// disturbed (see runChild).

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { readmeBlock, toMarkdown, type BenchReport, type Impl, type Measurement } from './report.js';
import { measureInChromium } from './browser.js';
import { WARM_S } from './timing.js';
import { buildPackage } from './analyze-cli.js';
import { forwardFlops, gradFlops, type Workload } from './workloads.js';
import {
  args,
  BUDGET_S,
  cores,
  cpuModel,
  flag,
  gitSource,
  here,
  JS_CAP,
  log,
  MAX_EST_RUN_S,
  mhz,
  only,
  outDir,
  peakGflops,
  REPEATS,
  root,
  SMALL,
  TFJS_MAX_RUN_S,
  waitForLoad,
  waitLoad,
  workloads,
} from './run-env.js';
import { node, runChild } from './run-child.js';
import {
  detectTfjs,
  detectTorch,
  detectWasm,
  estimate,
  measurements,
  notes,
  partialPath,
  peers,
  record,
  reuse,
  skip,
} from './run-record.js';
import { checkAgreement, evaluateTargets, type WatchSpeed } from './targets.js';

/** The built package `rnnscope analyze` runs from (analyze-cli.ts), or null. */
let pkgDir: string | null = null;

async function main(): Promise<void> {
  if (flag('--render')) {
    // Re-render latest.md from latest.json (after a change to report.ts), without measuring.
    const r = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as BenchReport;
    writeFileSync(join(outDir, 'latest.md'), toMarkdown(r));
    log(`wrote ${join(outDir, 'latest.md')} from latest.json`);
    updateReadme(r);
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
    // -mt: the batch split over the browser's gradient pool (bench/browser-threads.ts), as Node's -mt rows.
    const modes = ['grad', 'taps', 'grad-mt', 'taps-mt'] as const;
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
  let watchSpeed: WatchSpeed | null = null;
  if (workloads.some((w) => w.id === 'W') && !flag('--no-watch')) {
    log('rnnscope watch: 3 checkpoints of W, 256 samples each');
    const r = runChild(...node('watch.ts', 'speed', 3));
    if (r.out.ok) watchSpeed = r.out as unknown as WatchSpeed;
    else notes.push(`rnnscope watch not measured: ${r.out.error ?? r.out.skipped ?? 'no result'}.`);
  }

  const targets = evaluateTargets(watchSpeed);
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
  if (workloads.some((w) => w.id === 'W')) t += (flag('--no-browser') ? 0 : 80) + (flag('--no-watch') ? 0 : 60);
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

main().catch((e: unknown) => {
  log(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exitCode = 1;
});
