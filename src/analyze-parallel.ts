// Both cores in Node: the analysis's batches split across worker threads.
//
//   planAnalysis ─► batch ranges ─► [main thread: range 0] + [worker i: range i] ─► mergePartials ─► finishAnalysis
//
// Each worker gets the model and the data once (structured clone), plans the same analysis (the plan
// is deterministic, random inputs included) and returns its BatchPartial (accumulators and gradient
// sums). Partials merge in batch order, so the result equals the single-thread analysis up to the
// order of floating-point sums. Node-only (worker_threads); the browser runs analyzeModel directly.
// With a dump file (src/dump-file.ts), every thread writes its own rows straight into the file at their
// final offsets and returns only the CRCs of what it wrote.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ModelSpec } from './model/types.js';
import {
  DataError,
  EngineError,
  LoadError,
  ModelError,
  OutputError,
  UsageError,
  type RnnscopeError,
} from './model/errors.js';
import {
  dumpEntriesOf,
  finishAnalysis,
  mergePartials,
  planAnalysis,
  runBatches,
  type AnalyzeInput,
  type AnalyzeOptions,
  type BatchPartial,
  type RawArrays,
} from './analysis/analyze.js';
import { FileDumpSink, type DumpPiece, type DumpRun, type NpzDumpFile } from './dump-file.js';
import { ANALYSIS_SET_SCHEMA, type Analysis, type AnalysisSet } from './analysis/schema.js';

const SOURCE = import.meta.url.endsWith('.ts');
const ANALYZE_MODULE = new URL(SOURCE ? './analysis/analyze.ts' : './analysis/analyze.js', import.meta.url).href;
const DUMP_MODULE = new URL(SOURCE ? './dump-file.ts' : './dump-file.js', import.meta.url).href;

// The worker registers tsx only when running from the TypeScript sources (no build). It is resolved
// here, from this package: the eval'd worker would resolve a bare 'tsx' from the working directory.
const TSX_API = SOURCE ? import.meta.resolve('tsx/esm/api') : null;
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) { const { register } = await import(workerData.tsx); register(); }
  const a = await import(workerData.module);
  const d = await import(workerData.dumpModule);
  // The partial's typed arrays (per-step factors can be large) are moved, not copied, to the main thread.
  const buffers = (v, out = new Set(), depth = 0) => {
    if (!v || typeof v !== 'object' || depth > 6) return out;
    if (ArrayBuffer.isView(v)) { if (v.buffer instanceof ArrayBuffer && v.byteLength === v.buffer.byteLength) out.add(v.buffer); return out; }
    for (const x of v instanceof Map ? v.values() : Object.values(v)) buffers(x, out, depth + 1);
    return out;
  };
  parentPort.on('message', (m) => {
    let sink = null;
    try {
      const plan = a.planAnalysis(m.model, m.input, m.opts);
      sink = m.dump ? new d.FileDumpSink(m.dump) : null;
      const onProgress = (p) => parentPort.postMessage({ progress: p.done });
      const part = a.runBatches(plan, m.from, m.to, { ...m.opts, onProgress, ...(sink ? { dump: sink } : {}) }, m.threads);
      const msg = { ok: true, part, pieces: sink ? sink.pieces : [] };
      try { parentPort.postMessage(msg, [...buffers(part)]); } catch { parentPort.postMessage(msg); }
    } catch (e) {
      parentPort.postMessage({ ok: false, stage: e && e.stage, message: String((e && e.message) || e) });
    } finally {
      if (sink) sink.close();
    }
  });
})();
`;

const ERRORS: Record<string, new (m: string) => RnnscopeError> = {
  load: LoadError,
  model: ModelError,
  data: DataError,
  engine: EngineError,
  usage: UsageError,
  output: OutputError,
};

interface WorkerResult {
  part: BatchPartial;
  pieces: DumpPiece[];
}

/** Runs batches [from, to) in a new worker; `progress(lo)` as each batch starts (lo: its first sample). */
function runInWorker(
  model: ModelSpec,
  input: AnalyzeInput,
  opts: AnalyzeOptions,
  from: number,
  to: number,
  threads: number,
  dump: DumpRun | null,
  progress: (lo: number) => void,
): Promise<WorkerResult> {
  const w = new Worker(WORKER, {
    eval: true,
    workerData: { module: ANALYZE_MODULE, dumpModule: DUMP_MODULE, tsx: TSX_API },
  });
  // Functions do not cross threads; each worker runs on its own kernels (kernels() there).
  const { onProgress: _drop, dump: _sink, kernels: _kernels, ...plainOpts } = opts;
  return new Promise<WorkerResult>((resolve, reject) => {
    const onMessage = (r: {
      progress?: number;
      ok: boolean;
      part?: BatchPartial;
      pieces?: DumpPiece[];
      stage?: string;
      message?: string;
    }): void => {
      if (r.progress !== undefined) {
        progress(r.progress);
        return;
      }
      w.off('message', onMessage);
      void w.terminate();
      if (r.ok) resolve({ part: r.part!, pieces: r.pieces ?? [] });
      else reject(new (ERRORS[r.stage ?? ''] ?? EngineError)(r.message ?? 'The analysis worker failed.'));
    };
    w.on('message', onMessage);
    w.once('error', (e) => {
      void w.terminate();
      reject(e);
    });
    w.postMessage({ model, input, opts: plainOpts, from, to, threads, dump });
  });
}

export interface ParallelOptions extends AnalyzeOptions {
  /** Threads to use, including this one (default: one per 8 batches, at most the available cores). */
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
  // A worker costs a start-up (module loading, the model and data cloned) of about a second, more
  // from the TypeScript sources; measured on the W benchmark (8 batches) two threads were slower than
  // one. So by default a worker is added only per 8 batches; `workers` overrides.
  const auto = Math.min(availableParallelism(), Math.max(1, Math.floor(plan.nBatches / 8)));
  const threads = Math.max(1, Math.min(opts.workers ?? auto, plan.nBatches));
  const per = Math.ceil(plan.nBatches / threads);
  const ranges = Array.from(
    { length: threads },
    (_, i) => [i * per, Math.min(plan.nBatches, (i + 1) * per)] as const,
  ).filter(([a, b]) => a < b);
  // Start the workers first, then compute range 0 here while they run. While a dump streams, range 0
  // runs in a worker too: this thread stays free, so Ctrl-C can remove the unfinished file at once.
  const here = sink ? 0 : 1;
  // Progress: the samples done in every range, summed (each range reports the first sample of the batch it starts).
  const done = ranges.map(() => 0);
  const report = (i: number, lo: number): void => {
    done[i] = lo - ranges[i]![0] * plan.batchSize;
    opts.onProgress?.({ phase: 'gradients', done: done.reduce((a, b) => a + b, 0), total: plan.N });
  };
  const remote = ranges
    .map(([a, b], i) => [a, b, i] as const)
    .slice(here)
    .map(([a, b, i]) => runInWorker(model, input, opts, a, b, ranges.length, run, (lo) => report(i, lo)));
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
  const out = finishAnalysis(plan, mergePartials([...mine, ...others.map((o) => o.part)]), local);
  return { out, pieces: others.flatMap((o) => o.pieces) };
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
