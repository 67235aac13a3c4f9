// The page side of bench/browser.ts: the same workloads and kernels as child-rnnscope.ts, in
// Chromium. Served by Vite's dev server (TypeScript transpiled per module, nothing bundled) on a
// cross-origin-isolated page, so the wasm kernels get their shared memory as in Node.
// Modes grad and taps run on the page's thread; grad-mt and taps-mt split the batch over the
// browser's gradient pool (web/pool-browser.ts), from a worker (browser-threads.ts), because the
// pool's caller blocks in Atomics.wait, which a page's main thread may not.

import { materializeParams } from '../src/engine/graph.js';
import { createWasmKernels } from '../src/engine/kernels-wasm.js';
import type { GradPool } from '../src/engine/pool.js';
import { lossAndGrads } from '../src/engine/run.js';
import { timeRuns } from './timing.js';
import { ALL_TAPS, benchData, buildBenchModel, workload } from './workloads.js';

export type BrowserMode = 'grad' | 'taps' | 'grad-mt' | 'taps-mt';

export interface BrowserResult {
  kernels: string;
  crossOriginIsolated: boolean;
  /** Where the gradients ran: the page's thread, or the pool's describe() line. */
  threads: string;
  times: number[];
  median: number;
  first: number;
  warmupRuns: number;
  gradNorm: number;
}

/** Times `mode` (grad or taps) of workload `id` on this thread, or split over `pool`. */
export async function measure(
  id: string,
  mode: 'grad' | 'taps',
  repeats: number,
  budget: number,
  pool: GradPool | null = null,
): Promise<BrowserResult> {
  const kern = createWasmKernels();
  const w = workload(id);
  const model = buildBenchModel(w);
  const params = materializeParams(model, 'float32');
  const d = benchData(w, w.batch);
  let gradNorm = 0;
  const opts = {
    losses: [{ name: 'mse', fromLogits: false, labelSmoothing: 0 }],
    flavor: 'keras3' as const,
    dtype: 'float32' as const,
    params,
    taps: mode === 'taps' ? ALL_TAPS : null,
    kernels: kern,
  };
  const run = (): void => {
    const r = pool ? pool.lossAndGrads(model, [d.x], [d.y], opts) : lossAndGrads(model, [d.x], [d.y], opts);
    let sq = 0;
    for (const ps of r.grads) for (const g of ps) for (let i = 0; i < g.data.length; i++) sq += g.data[i]! * g.data[i]!;
    gradNorm = Math.sqrt(sq);
  };
  const timed = await timeRuns(run, repeats, budget);
  return {
    kernels: pool ? `${kern.name} × ${pool.threads} threads` : kern.name,
    crossOriginIsolated: globalThis.crossOriginIsolated ?? false,
    threads: pool ? pool.describe() : 'one thread (the page)',
    ...timed,
    gradNorm,
  };
}

/** Every mode: the -mt ones in a worker of this page that starts the pool (browser-threads.ts). */
async function measureMode(id: string, mode: BrowserMode, repeats: number, budget: number): Promise<BrowserResult> {
  if (mode === 'grad' || mode === 'taps') return measure(id, mode, repeats, budget);
  const w = new Worker(new URL('./browser-threads.ts', import.meta.url), { type: 'module' });
  try {
    return await new Promise<BrowserResult>((resolve, reject) => {
      w.onmessage = (e: MessageEvent<{ ok: true; result: BrowserResult } | { ok: false; message: string }>) =>
        e.data.ok ? resolve(e.data.result) : reject(new Error(e.data.message));
      w.onerror = (e) => reject(new Error(`the benchmark's worker failed: ${e.message}`));
      w.postMessage({ id, mode: mode === 'grad-mt' ? 'grad' : 'taps', repeats, budget });
    });
  } finally {
    w.terminate();
  }
}

(globalThis as unknown as { rnnscopeBench: typeof measureMode }).rnnscopeBench = measureMode;
