// One range of an analysis's batches on a browser pool worker (task RANGE_TASK, run by
// web/app-threads.ts): the worker plans the same analysis (deterministic, random inputs included)
// on the kernels the page chose, and returns its BatchPartial, whose arrays move back, not copied.
// The Node pool runs src/analyze-range.ts instead, which can also write a dump file.

import {
  planAnalysis,
  runBatches,
  type AnalyzeInput,
  type AnalyzeOptions,
  type BatchPartial,
} from '../src/analysis/analyze.js';
import type { ModelSpec } from '../src/model/types.js';
import { makeKernels, type KernelChoice } from './kernel-choice.js';

/** The task module's name in the pool worker (web/pool-worker-entry.ts). */
export const RANGE_TASK = 'rnnscope:range';

export interface RangeArgs {
  model: ModelSpec;
  input: AnalyzeInput;
  /** The options without functions (they do not cross threads). */
  opts: AnalyzeOptions;
  from: number;
  to: number;
  threads: number;
  /** The kernel set the page chose; default the best this worker has. */
  kernels?: KernelChoice;
}

/** Batches [from, to); `progress(lo)` as each starts (lo: its first sample). */
export function runRange(a: RangeArgs, progress: (lo: number) => void): BatchPartial {
  const opts: AnalyzeOptions = { ...a.opts, ...(a.kernels ? { kernels: makeKernels(a.kernels) } : {}) };
  const plan = planAnalysis(a.model, a.input, opts);
  return runBatches(plan, a.from, a.to, { ...opts, onProgress: (p) => progress(p.done) }, a.threads);
}
