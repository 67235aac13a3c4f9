// One range of an analysis's batches on a worker of the gradient pool (src/engine/pool.ts, task
// 'runRange'): the worker plans the same analysis (deterministic, random inputs included) and
// returns its BatchPartial; with a dump file, it writes its own rows into the file at their final
// offsets and returns what it wrote (src/dump-file.ts). analyze-parallel.ts merges the ranges.
// Task 'finishLayers': some recurrent layers of the merged analysis finished here (their
// contributions' norms and Jacobian probes) while the calling thread finishes the others.

import type { BatchPartial } from './analysis/analyze.js';
import { runRangeTask, type RangeTask } from './analysis/batch-ranges.js';
import { FileDumpSink, type DumpPiece, type DumpRun } from './dump-file.js';
import type { LayerFinish } from './analysis/analyze.js';
import { finishRecurrent } from './analysis/recurrent.js';
import type { RecurrentAnalysis } from './analysis/schema.js';
import { kernels } from './engine/kernels.js';

export interface RangeArgs extends RangeTask {
  dump: DumpRun | null;
}

export interface RangeResult {
  part: BatchPartial;
  pieces: DumpPiece[];
}

/** Batches [from, to); `progress(lo)` as each starts (lo: its first sample). */
export function runRange(a: RangeArgs, progress: (lo: number) => void): RangeResult {
  const sink = a.dump ? new FileDumpSink(a.dump) : null;
  try {
    const part = runRangeTask(a, { ...a.opts, ...(sink ? { dump: sink } : {}) }, progress);
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
