// The page side of bench/browser.ts: the same workloads and kernels as child-rnnscope.ts, in
// Chromium. Served by Vite's dev server (TypeScript transpiled per module, nothing bundled) on a
// cross-origin-isolated page, so the wasm kernels get their shared memory as in Node.

import { materializeParams } from '../src/engine/graph.js';
import { createWasmKernels } from '../src/engine/kernels-wasm.js';
import { lossAndGrads } from '../src/engine/run.js';
import { timeRuns } from './timing.js';
import { ALL_TAPS, benchData, buildBenchModel, workload } from './workloads.js';

export interface BrowserResult {
  kernels: string;
  crossOriginIsolated: boolean;
  times: number[];
  median: number;
  first: number;
  warmupRuns: number;
  gradNorm: number;
}

async function measure(id: string, mode: 'grad' | 'taps', repeats: number, budget: number): Promise<BrowserResult> {
  const kern = createWasmKernels();
  const w = workload(id);
  const model = buildBenchModel(w);
  const params = materializeParams(model, 'float32');
  const d = benchData(w, w.batch);
  let gradNorm = 0;
  const run = (): void => {
    const r = lossAndGrads(model, [d.x], [d.y], {
      losses: [{ name: 'mse', fromLogits: false, labelSmoothing: 0 }],
      flavor: 'keras3',
      dtype: 'float32',
      params,
      taps: mode === 'taps' ? ALL_TAPS : null,
      kernels: kern,
    });
    let sq = 0;
    for (const ps of r.grads) for (const g of ps) for (let i = 0; i < g.data.length; i++) sq += g.data[i]! * g.data[i]!;
    gradNorm = Math.sqrt(sq);
  };
  const timed = await timeRuns(run, repeats, budget);
  return { kernels: kern.name, crossOriginIsolated: globalThis.crossOriginIsolated ?? false, ...timed, gradNorm };
}

(globalThis as unknown as { rnnscopeBench: typeof measure }).rnnscopeBench = measure;
