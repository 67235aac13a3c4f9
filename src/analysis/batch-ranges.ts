// How an analysis's batches are split over threads, and their progress summed: one home for `rnnscope analyze` in
// Node (src/analyze-parallel.ts) and the page's analysis on the browser's pool (web/app-threads.ts).

import type { ModelSpec } from '../model/types.js';
import { planAnalysis, runBatches, type AnalyzeInput, type AnalyzeOptions, type BatchPartial } from './analyze.js';

/** One range of batches as a pool task receives it: the worker plans the same analysis (deterministic, random inputs
 * included) and runs batches [from, to). */
export interface RangeTask {
  model: ModelSpec;
  input: AnalyzeInput;
  /** The options without functions and sinks (they do not cross threads). */
  opts: AnalyzeOptions;
  from: number;
  to: number;
  threads: number;
}

/** Runs a range task's batches with `opts` (the task's, plus what this thread adds: kernels, a dump sink);
 * `progress(lo)` as each batch starts (lo: its first sample). */
export function runRangeTask(a: RangeTask, opts: AnalyzeOptions, progress: (lo: number) => void): BatchPartial {
  const plan = planAnalysis(a.model, a.input, opts);
  return runBatches(plan, a.from, a.to, { ...opts, onProgress: (p) => progress(p.done) }, a.threads);
}

/** A thread gets at least this many batches: below twice this, the batches run on one thread. */
export const MIN_BATCHES_PER_RANGE = 2;

/** Consecutive [from, to) batch ranges, one per thread, none empty. */
export function batchRanges(nBatches: number, threads: number): (readonly [number, number])[] {
  const per = Math.ceil(nBatches / threads);
  return Array.from({ length: threads }, (_, i) => [i * per, Math.min(nBatches, (i + 1) * per)] as const).filter(
    ([a, b]) => a < b,
  );
}

/**
 * Progress of the ranges together: `report(i, lo)` as range i starts the batch whose first sample is lo; reports the
 * samples done in every range, summed, as the analysis's 'gradients' phase.
 */
export function rangeProgress(
  ranges: readonly (readonly [number, number])[],
  plan: { batchSize: number; N: number },
  onProgress: AnalyzeOptions['onProgress'],
): (i: number, lo: number) => void {
  const done = ranges.map(() => 0);
  return (i, lo) => {
    done[i] = lo - ranges[i]![0] * plan.batchSize;
    onProgress?.({ phase: 'gradients', done: done.reduce((a, b) => a + b, 0), total: plan.N });
  };
}
