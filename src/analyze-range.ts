// One range of an analysis's batches on a worker of the gradient pool (src/engine/pool.ts, task
// 'runRange'): the worker plans the same analysis (deterministic, random inputs included) and
// returns its BatchPartial; with a dump file, it writes its own rows into the file at their final
// offsets and returns what it wrote (src/dump-file.ts). analyze-parallel.ts merges the ranges.
// Task 'finishLayers': some recurrent layers of the merged analysis finished here (their
// contributions' norms and Jacobian probes) while the calling thread finishes the others.

import type { ModelSpec } from './model/types.js';
import {
  planAnalysis,
  runBatches,
  type AnalyzeInput,
  type AnalyzeOptions,
  type BatchPartial,
} from './analysis/analyze.js';
import { FileDumpSink, type DumpPiece, type DumpRun } from './dump-file.js';
import type { LayerFinish } from './analysis/analyze.js';
import { finishRecurrent } from './analysis/recurrent.js';
import type { RecurrentAnalysis } from './analysis/schema.js';
import { kernels } from './engine/kernels.js';

export interface RangeArgs {
  model: ModelSpec;
  input: AnalyzeInput;
  /** The options without functions and sinks (they do not cross threads). */
  opts: AnalyzeOptions;
  from: number;
  to: number;
  threads: number;
  dump: DumpRun | null;
}

export interface RangeResult {
  part: BatchPartial;
  pieces: DumpPiece[];
}

/** Batches [from, to); `progress(lo)` as each starts (lo: its first sample). */
export function runRange(a: RangeArgs, progress: (lo: number) => void): RangeResult {
  const plan = planAnalysis(a.model, a.input, a.opts);
  const sink = a.dump ? new FileDumpSink(a.dump) : null;
  try {
    const onProgress = (p: { done: number }): void => progress(p.done);
    const part = runBatches(plan, a.from, a.to, { ...a.opts, onProgress, ...(sink ? { dump: sink } : {}) }, a.threads);
    return { part, pieces: sink ? sink.pieces : [] };
  } finally {
    sink?.close();
  }
}

/** finishRecurrent of each layer, on this worker's kernels (the same code and results as the caller's). */
export function finishLayers(list: LayerFinish[]): RecurrentAnalysis[] {
  return list.map((f) => finishRecurrent(f.acc, f.weights, f.taps, f.th, f.jopt, kernels()));
}

/** Loads this module's imports and the worker's kernels (analyze-parallel.ts warmAnalysisPool). */
export function ready(): boolean {
  kernels();
  return true;
}
