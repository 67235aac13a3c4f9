// Both cores in Node: the analysis's batches split across the gradient pool's workers (persistent
// worker threads, src/pool-node.ts; started once per process).
//
//   planAnalysis ─► batch ranges ─► [this thread: range 0] + [pool worker i: range i (analyze-range.ts)]
//     ─► mergePartials ─► recurrent layers finished here and on a worker at once ─► finishAnalysis
//
// Each worker gets the model and the data once per analysis (structured clone), plans the same
// analysis (the plan is deterministic, random inputs included) and returns its BatchPartial
// (accumulators and gradient sums, moved, not copied). Partials merge in batch order, so the result
// equals the single-thread analysis up to the order of floating-point sums. Under 4 batches (or with
// one thread asked for) the analysis runs here alone, as the library's analyze() does.
// With a dump file (src/dump-file.ts), every range runs on a worker, so this thread stays free to
// remove the unfinished file on Ctrl-C; each writes its own rows straight into the file at their
// final offsets and returns only the CRCs of what it wrote. Node-only; the browser runs
// analyzeModel directly.

import type { ModelSpec } from './model/types.js';
import {
  accId,
  dumpEntriesOf,
  finishAnalysis,
  layerFinish,
  mergePartials,
  planAnalysis,
  runBatches,
  type AnalyzeInput,
  type AnalyzeOptions,
  type BatchPartial,
  type RawArrays,
} from './analysis/analyze.js';
import type { RangeArgs, RangeResult } from './analyze-range.js';
import { FileDumpSink, type DumpRun, type NpzDumpFile } from './dump-file.js';
import type { GradPool } from './engine/pool.js';
import { defaultWorkers, gradPool } from './pool-node.js';
import { ANALYSIS_SET_SCHEMA, type Analysis, type AnalysisSet, type RecurrentAnalysis } from './analysis/schema.js';
import { finishRecurrent } from './analysis/recurrent.js';
import { batchRanges, MIN_BATCHES_PER_RANGE, rangeProgress } from './analysis/batch-ranges.js';
import type { StepAccumulator } from './analysis/steps.js';

const SOURCE = import.meta.url.endsWith('.ts');
const RANGE_MODULE = new URL(SOURCE ? './analyze-range.ts' : './analyze-range.js', import.meta.url).href;

/** Runs batches [from, to) on a worker of the pool; `progress(lo)` as each batch starts (lo: its first sample). */
function runOnWorker(pool: GradPool, args: RangeArgs, progress: (lo: number) => void): Promise<RangeResult> {
  return pool.runTask<RangeResult>(RANGE_MODULE, 'runRange', args, (p) => progress(p as number));
}

/**
 * Has every worker of the pool load the analysis's modules and its kernels now (a command calls it as
 * it starts, so that this happens while it loads its files, not in the first batch range).
 */
export function warmAnalysisPool(pool: GradPool): void {
  for (let i = 0; i < pool.workers; i++) pool.runTask(RANGE_MODULE, 'ready', null).catch(() => undefined);
}

export interface ParallelOptions extends AnalyzeOptions {
  /** Batch ranges, one per thread including this one (default: one per thread of the pool, at most one per batch). */
  workers?: number;
  /** Stream the dump into this file (src/dump-file.ts) instead of keeping it: one run per model analysed. */
  dumpFile?: NpzDumpFile;
}

/** analyzeModel on several threads: the same result up to floating-point summation order. */
export async function analyzeModelParallel(
  model: ModelSpec,
  input: AnalyzeInput,
  options: ParallelOptions = {},
): Promise<{ analysis: Analysis; raw: RawArrays | null }> {
  const { dumpFile, ...opts } = options;
  const plan = planAnalysis(model, input, opts);
  const run = dumpFile ? dumpFile.addRun(dumpEntriesOf(plan)) : null;
  const sink = run ? new FileDumpSink(run) : null;
  try {
    const r = await runThreads(model, input, opts, plan, sink, run);
    dumpFile?.addPieces([...sink!.pieces, ...r.pieces]);
    return r.out;
  } finally {
    sink?.close();
  }
}

async function runThreads(
  model: ModelSpec,
  input: AnalyzeInput,
  opts: Omit<ParallelOptions, 'dumpFile'>,
  plan: ReturnType<typeof planAnalysis>,
  sink: FileDumpSink | null,
  run: DumpRun | null,
) {
  const local: AnalyzeOptions = sink ? { ...opts, dump: sink } : opts;
  // While a dump streams, every range runs on a worker (when there is one), so one per worker. The pool
  // starts only when a range goes to a worker (its workers cost memory and start-up).
  const avail = defaultWorkers();
  let here = sink && avail > 0 ? 0 : 1;
  const auto = plan.nBatches >= 2 * MIN_BATCHES_PER_RANGE ? avail + here : here ? 1 : Math.min(1, avail);
  let threads = Math.max(1, Math.min(opts.workers ?? auto, plan.nBatches));
  const pool = threads > here ? gradPool() : null;
  if (pool && pool.workers === 0) {
    // No usable workers: everything here.
    here = 1;
    threads = 1;
  }
  const ranges = batchRanges(plan.nBatches, threads);
  const report = rangeProgress(ranges, plan, opts.onProgress);
  const remote = ranges
    .map(([a, b], i) => [a, b, i] as const)
    .slice(here)
    .map(([from, to, i]) =>
      runOnWorker(pool!, { model, input, opts: plain(opts), from, to, threads: ranges.length, dump: run }, (lo) =>
        report(i, lo),
      ),
    );
  let mine: BatchPartial[] = [];
  try {
    if (here)
      mine = [
        runBatches(
          plan,
          ranges[0]![0],
          ranges[0]![1],
          { ...local, onProgress: (p) => report(0, p.done) },
          ranges.length,
        ),
      ];
  } catch (e) {
    await Promise.allSettled(remote); // let the workers stop writing before the caller removes the dump
    throw e;
  }
  const others = await Promise.all(remote);
  opts.onProgress?.({ phase: 'gradients', done: plan.N, total: plan.N });
  const merged = mergePartials([...mine, ...others.map((o) => o.part)]);
  const finished = pool && pool.workers > 0 ? await finishShared(pool, plan, merged, local) : new Map();
  const out = finishAnalysis(plan, merged, local, finished);
  return { out, pieces: others.flatMap((o) => o.pieces) };
}

/**
 * The recurrent layers' finish (contribution norms, Jacobian probes) shared with a worker: the largest
 * layers here, the others (by their products' size) on the pool in one task, at the same time. Sketched
 * layers stay here (their warning reads the finished sketch).
 */
async function finishShared(
  pool: GradPool,
  plan: ReturnType<typeof planAnalysis>,
  part: BatchPartial,
  opts: AnalyzeOptions,
): Promise<Map<string, RecurrentAnalysis>> {
  const done = new Map<string, RecurrentAnalysis>();
  const cost = (a: StepAccumulator): number => a.T * (a.I + a.U) * a.G * a.U;
  const accs = [...part.accs].sort((a, b) => cost(b) - cost(a));
  let here = 0,
    there = 0;
  const away: StepAccumulator[] = [];
  for (const a of accs) {
    if (here > there && a.contrib.mode !== 'sketch') {
      away.push(a);
      there += cost(a);
    } else here += cost(a);
  }
  if (!away.length) return done;
  opts.onProgress?.({ phase: 'jacobian', done: 0, total: 1 });
  const list = away.map((a) => layerFinish(plan, part, a, opts));
  const task = pool.runTask<RecurrentAnalysis[]>(RANGE_MODULE, 'finishLayers', list);
  try {
    for (const a of accs)
      if (!away.includes(a)) {
        const f = layerFinish(plan, part, a, opts);
        done.set(accId(a), finishRecurrent(f.acc, f.weights, f.taps, f.th, f.jopt, plan.kernels));
      }
  } finally {
    // A worker's failure leaves its layers to finishAnalysis, here.
    const rs = await task.catch(() => null);
    if (Array.isArray(rs)) rs.forEach((r, i) => done.set(accId(away[i]!), r));
  }
  return done;
}

/** The options a worker can take: functions and sinks do not cross threads (it uses its own kernels). */
function plain(opts: AnalyzeOptions): AnalyzeOptions {
  const { onProgress: _p, dump: _d, kernels: _k, ...rest } = opts;
  return rest;
}

/** Like analyze() (src/analysis/index.ts), with each model's batches spread over the cores. */
export async function analyzeParallel(
  models: ModelSpec[],
  data: AnalyzeInput,
  opts: ParallelOptions & { labels?: string[] } = {},
): Promise<{ result: Analysis | AnalysisSet; raw: RawArrays[] }> {
  const runs: Analysis[] = [];
  const raw: RawArrays[] = [];
  for (const [i, m] of models.entries()) {
    const r = await analyzeModelParallel(m, data, {
      ...opts,
      label: opts.labels?.[i] ?? m.meta.source.split(/[\\/]/).pop() ?? m.name,
      index: i,
      // The per-sample drill-down of the last model only (the latest checkpoint), unless asked for.
      samples: opts.samples ?? i === models.length - 1,
    });
    runs.push(r.analysis);
    if (r.raw) raw.push(r.raw);
  }
  const result: Analysis | AnalysisSet =
    runs.length === 1 ? runs[0]! : { schema: ANALYSIS_SET_SCHEMA, title: `${runs.length} models compared`, runs };
  return { result, raw };
}
