// One rnnscope measurement in a fresh process (so peak RSS belongs to this workload alone).
//
//   node --import tsx bench/child-rnnscope.ts WORKLOAD KERNELS MODE REPEATS BUDGET_S
//     KERNELS  js | wasm        (wasm: the SIMD WebAssembly kernels, relaxed-SIMD FMA when available)
//     MODE     grad             lossAndGrads, all parameters, no taps
//              taps             the same with every per-step tap of the analysis
//              grad-mt, taps-mt the same with the batch split across the gradient pool's threads
//                               (src/engine/pool.ts: this thread and one persistent worker per other core)
//              analyze          analyzeModel on 256 samples, batch 32, all quantities (connectivity
//                               included; report excluded), on this thread
//              analyze-par      the same through analyzeModelParallel, as `rnnscope analyze` runs it in
//                               Node: batches split over worker threads, one per core
// Prints one JSON line (ChildResult). Timing: timing.ts (warm-up, then up to REPEATS runs within
// BUDGET_S seconds). Peak RSS includes the workers.

import { setFlagsFromString } from 'node:v8';
import { analyzeModel } from '../src/analysis/analyze.js';
import { materializeParams } from '../src/engine/graph.js';
import { jsKernels, setKernels, type Kernels } from '../src/engine/kernels.js';
import { lossAndGrads } from '../src/engine/run.js';
import { timeRuns } from './timing.js';
import { ALL_TAPS, benchData, buildBenchModel, workload } from './workloads.js';

export type Mode = 'grad' | 'taps' | 'grad-mt' | 'taps-mt' | 'analyze' | 'analyze-par';

export interface ChildResult {
  ok: true;
  /** Kernel implementation actually used (e.g. 'js', 'wasm-relaxed-simd'). */
  kernels: string;
  times: number[];
  median: number;
  first: number;
  warmupRuns: number;
  maxRssMb: number;
  /** Loss and ‖∇‖ of the measured batch, to check that kernel variants agree. */
  loss: number;
  gradNorm: number;
  /** Bytes the wasm kernels copied in and out per run (operands outside wasm memory). */
  copiedMbPerRun?: number;
  /** analyze: seconds of the gradient batches (workers included), of the Jacobian + statistics +
   *  diagnosis, and of the connectivity map, last run. */
  phases?: { gradients: number; finish: number; connectivity: number };
  /** User + system CPU seconds of this process. */
  cpuS: number;
}

async function loadKernels(which: string): Promise<Kernels> {
  // Worker threads (analyze-par) pick their kernels from the environment (src/engine/kernels.ts).
  process.env['RNNSCOPE_KERNELS'] = which;
  if (which === 'js') return jsKernels;
  // Node 20 has relaxed SIMD behind a flag (Node ≥ 22 and Chromium ≥ 114 have it by default).
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  const mod = await import('../src/engine/kernels-wasm.js');
  return mod.createWasmKernels();
}

export function cpuSeconds(): number {
  const u = process.resourceUsage();
  return (u.userCPUTime + u.systemCPUTime) / 1e6;
}

async function main(): Promise<void> {
  const [id, which, mode, repeatsArg, budgetArg] = process.argv.slice(2) as [string, string, Mode, string, string];
  const w = workload(id);
  const repeats = Number(repeatsArg ?? 3),
    budget = Number(budgetArg ?? 120);
  const kern = await loadKernels(which);
  setKernels(kern);
  const model = buildBenchModel(w);
  const params = materializeParams(model, 'float32');
  const mse = [{ name: 'mse', fromLogits: false, labelSmoothing: 0 }];
  let loss = 0,
    gradNorm = 0;
  let phases: ChildResult['phases'];
  let threads = 1;
  let run: () => void | Promise<void>;
  if (mode === 'analyze' || mode === 'analyze-par') {
    const d = benchData(w, 256);
    const { analyzeModelParallel } = await import('../src/analyze-parallel.js');
    run = async () => {
      const t0 = performance.now();
      const at: Record<string, number> = {};
      const onProgress = (p: { phase: string }): void => {
        at[p.phase] ??= performance.now();
      };
      const input = { inputs: [d.x], targets: [d.y], dataSource: 'bench' };
      const opts = { batchSize: 32, connectivity: true, onProgress };
      const a = (mode === 'analyze' ? analyzeModel(model, input, opts) : await analyzeModelParallel(model, input, opts))
        .analysis;
      const t1 = performance.now();
      const tJac = at['jacobian'] ?? at['connectivity'] ?? t1,
        tCon = at['connectivity'] ?? t1;
      phases = { gradients: (tJac - t0) / 1e3, finish: (tCon - tJac) / 1e3, connectivity: (t1 - tCon) / 1e3 };
      loss = a.objective.value ?? NaN;
      gradNorm = Math.sqrt(a.params.reduce((s, p) => s + (p.gradNorm ?? 0) ** 2, 0));
    };
  } else {
    const d = benchData(w, w.batch);
    const taps = mode.startsWith('taps') ? ALL_TAPS : null;
    const pool = mode.endsWith('-mt') ? (await import('../src/pool-node.js')).gradPool() : null;
    if (pool && pool.threads < 2) throw new Error(`the gradient pool runs one thread here: ${pool.describe()}`);
    threads = pool?.threads ?? 1;
    run = () => {
      const opts = { losses: mse, flavor: 'keras3' as const, dtype: 'float32' as const, params, taps };
      const r = pool ? pool.lossAndGrads(model, [d.x], [d.y], opts) : lossAndGrads(model, [d.x], [d.y], opts);
      loss = r.loss;
      let sq = 0;
      for (const ps of r.grads)
        for (const g of ps) for (let i = 0; i < g.data.length; i++) sq += g.data[i]! * g.data[i]!;
      gradNorm = Math.sqrt(sq);
    };
  }
  const stats = (kern as { stats?: { bytesCopiedIn: number; bytesCopiedOut: number } }).stats;
  const copied = (): number => (stats ? stats.bytesCopiedIn + stats.bytesCopiedOut : 0);
  let copiedLast = 0;
  const timed = await timeRuns(
    async () => {
      const c = copied();
      await run();
      copiedLast = copied() - c;
    },
    repeats,
    budget,
  );
  const res: ChildResult = {
    ok: true,
    kernels: threads > 1 ? `${kern.name} × ${threads} threads` : kern.name,
    ...timed,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    loss,
    gradNorm,
    cpuS: cpuSeconds(),
  };
  if (stats) res.copiedMbPerRun = copiedLast / 2 ** 20;
  if (phases) res.phases = phases;
  process.stdout.write(`${JSON.stringify(res)}\n`);
  await (await import('../src/pool-node.js')).closeGradPool();
}

main().catch((e: unknown) => {
  process.stdout.write(`${JSON.stringify({ ok: false, error: e instanceof Error ? e.message : String(e) })}\n`);
  process.exitCode = 1;
});
