// One range of an analysis's batches on a browser pool worker (task RANGE_TASK, run by
// web/app-threads.ts): the worker plans the same analysis (deterministic, random inputs included)
// on the kernels the page chose, and returns its BatchPartial, whose arrays move back, not copied.
// The Node pool runs src/analyze-range.ts instead, which can also write a dump file.

import type { AnalyzeOptions, BatchPartial } from '../src/analysis/analyze.js';
import { runRangeTask, type RangeTask } from '../src/analysis/batch-ranges.js';
import { makeKernels, type KernelChoice } from './kernel-choice.js';

/** The task module's name in the pool worker (web/pool-worker-entry.ts). */
export const RANGE_TASK = 'rnnscope:range';

export interface RangeArgs extends RangeTask {
  /** The kernel set the page chose; default the best this worker has. */
  kernels?: KernelChoice;
}

/** Batches [from, to); `progress(lo)` as each starts (lo: its first sample). */
export function runRange(a: RangeArgs, progress: (lo: number) => void): BatchPartial {
  const opts: AnalyzeOptions = { ...a.opts, ...(a.kernels ? { kernels: makeKernels(a.kernels) } : {}) };
  return runRangeTask(a, opts, progress);
}
