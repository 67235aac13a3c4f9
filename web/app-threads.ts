// The app's analysis on the browser's gradient pool (web/pool-browser.ts): from 4 batches on, one
// range of batches per thread; this worker runs the first range, each pool worker one more as a task
// (web/pool-range.ts); the partial sums merge in batch order, so the result equals the one-thread
// analysis up to the order of floating-point sums. The same split as `rnnscope analyze` in Node
// (src/analyze-parallel.ts), without its dump file (the page keeps the dump in memory).

import {
  finishAnalysis,
  mergePartials,
  planAnalysis,
  runBatches,
  type AnalyzeInput,
  type AnalyzeOptions,
  type BatchPartial,
  type RawArrays,
} from '../src/analysis/analyze.js';
import type { Analysis } from '../src/analysis/schema.js';
import { batchRanges, MIN_BATCHES_PER_RANGE, rangeProgress } from '../src/analysis/batch-ranges.js';
import type { GradPool } from '../src/engine/pool.js';
import type { ModelSpec } from '../src/model/types.js';
import type { AppOptions } from './app-protocol.js';
import { RANGE_TASK, type RangeArgs } from './pool-range.js';

export interface Threaded {
  analysis: Analysis;
  raw: RawArrays | null;
  /** Threads the batches ran on, and why one when it was one. */
  threads: string;
}

/** analyzeModel (src/analysis/analyze.ts) with its batches spread over the pool's threads. */
export async function analyzeOnPool(
  pool: GradPool,
  model: ModelSpec,
  input: AnalyzeInput,
  opts: AnalyzeOptions,
  app: Pick<AppOptions, 'kernels' | 'threads'>,
): Promise<Threaded> {
  const { kernels } = app;
  const plan = planAnalysis(model, input, opts);
  const want = Math.min(pool.threads, app.threads ?? pool.threads);
  const threads = plan.nBatches >= 2 * MIN_BATCHES_PER_RANGE ? Math.min(want, plan.nBatches) : 1;
  const ranges = batchRanges(plan.nBatches, threads);
  const report = rangeProgress(ranges, plan, opts.onProgress);
  const { onProgress: _p, kernels: _k, dump: _d, ...plain } = opts;
  const remote = ranges.slice(1).map(([from, to], j) => {
    const args: RangeArgs = {
      model,
      input,
      opts: plain,
      from,
      to,
      threads: ranges.length,
      ...(kernels ? { kernels } : {}),
    };
    return pool.runTask<BatchPartial>(RANGE_TASK, 'runRange', args, (lo) => report(j + 1, lo as number));
  });
  let mine: BatchPartial;
  try {
    mine = runBatches(
      plan,
      ranges[0]![0],
      ranges[0]![1],
      { ...opts, onProgress: (p) => report(0, p.done) },
      ranges.length,
    );
  } catch (e) {
    await Promise.allSettled(remote);
    throw e;
  }
  const others = await Promise.all(remote);
  opts.onProgress?.({ phase: 'gradients', done: plan.N, total: plan.N });
  const out = finishAnalysis(plan, mergePartials([mine, ...others]), opts);
  return { ...out, threads: threadsLine(pool, ranges.length, plan.nBatches, want) };
}

function threadsLine(pool: GradPool, used: number, batches: number, allowed: number): string {
  if (used > 1) return `batches on ${used} threads (this worker and ${used - 1} of the gradient pool)`;
  if (pool.workers === 0) return pool.describe().replace('gradients on one thread', 'batches on one thread');
  if (allowed === 1) return 'batches on one thread: one thread was asked for (?threads=1)';
  return `batches on one thread: ${batches} batch${batches === 1 ? '' : 'es'} (split from ${2 * MIN_BATCHES_PER_RANGE} on)`;
}
