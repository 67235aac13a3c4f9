// Both cores in Node: the analysis's batches split across worker threads.
//
//   planAnalysis ─► batch ranges ─► [main thread: range 0] + [worker i: range i] ─► mergePartials ─► finishAnalysis
//
// Each worker gets the model and the data once (structured clone), plans the same analysis (the plan
// is deterministic, random inputs included) and returns its BatchPartial (accumulators and gradient
// sums). Partials merge in batch order, so the result equals the single-thread analysis up to the
// order of floating-point sums. Node-only (worker_threads); the browser runs analyzeModel directly.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ModelSpec } from './model/types.js';
import { DataError, EngineError, LoadError, ModelError, type RnnscopeError } from './model/errors.js';
import {
  analyzeModel, finishAnalysis, mergePartials, planAnalysis, runBatches,
  type AnalyzeInput, type AnalyzeOptions, type BatchPartial, type RawArrays,
} from './analysis/analyze.js';
import { ANALYSIS_SET_SCHEMA, type Analysis, type AnalysisSet } from './analysis/schema.js';

const SOURCE = import.meta.url.endsWith('.ts');
const ANALYZE_MODULE = new URL(SOURCE ? './analysis/analyze.ts' : './analysis/analyze.js', import.meta.url).href;

// The worker registers tsx only when running from the TypeScript sources (no build). It is resolved
// here, from this package: the eval'd worker would resolve a bare 'tsx' from the working directory.
const TSX_API = SOURCE ? import.meta.resolve('tsx/esm/api') : null;
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) { const { register } = await import(workerData.tsx); register(); }
  const a = await import(workerData.module);
  parentPort.on('message', (m) => {
    try {
      const plan = a.planAnalysis(m.model, m.input, m.opts);
      parentPort.postMessage({ ok: true, part: a.runBatches(plan, m.from, m.to, m.opts) });
    } catch (e) {
      parentPort.postMessage({ ok: false, stage: e && e.stage, message: String((e && e.message) || e) });
    }
  });
})();
`;

const ERRORS: Record<string, new (m: string) => RnnscopeError> = { load: LoadError, model: ModelError, data: DataError, engine: EngineError };

function runInWorker(model: ModelSpec, input: AnalyzeInput, opts: AnalyzeOptions, from: number, to: number): Promise<BatchPartial> {
  const w = new Worker(WORKER, { eval: true, workerData: { module: ANALYZE_MODULE, tsx: TSX_API } });
  const { onProgress: _drop, ...plainOpts } = opts; // functions do not cross threads
  return new Promise<BatchPartial>((resolve, reject) => {
    w.once('message', (r: { ok: boolean; part?: BatchPartial; stage?: string; message?: string }) => {
      void w.terminate();
      if (r.ok) resolve(r.part!);
      else reject(new (ERRORS[r.stage ?? ''] ?? EngineError)(r.message ?? 'The analysis worker failed.'));
    });
    w.once('error', (e) => { void w.terminate(); reject(e); });
    w.postMessage({ model, input, opts: plainOpts, from, to });
  });
}

export interface ParallelOptions extends AnalyzeOptions {
  /** Threads to use, including this one (default: one per 8 batches, at most the available cores). */
  workers?: number;
}

/** analyzeModel on several threads: the same result up to floating-point summation order. */
export async function analyzeModelParallel(model: ModelSpec, input: AnalyzeInput, opts: ParallelOptions = {}): Promise<{ analysis: Analysis; raw: RawArrays | null }> {
  const plan = planAnalysis(model, input, opts);
  // A worker costs a start-up (module loading, the model and data cloned) of about a second, more
  // from the TypeScript sources; measured on the W benchmark (8 batches) two threads were slower than
  // one. So by default a worker is added only per 8 batches; `workers` overrides.
  const auto = Math.min(availableParallelism(), Math.max(1, Math.floor(plan.nBatches / 8)));
  const threads = Math.max(1, Math.min(opts.workers ?? auto, plan.nBatches));
  if (threads === 1) return analyzeModel(model, input, opts);
  const per = Math.ceil(plan.nBatches / threads);
  const ranges = Array.from({ length: threads }, (_, i) => [i * per, Math.min(plan.nBatches, (i + 1) * per)] as const).filter(([a, b]) => a < b);
  // Start the workers first, then compute range 0 here while they run.
  const remote = ranges.slice(1).map(([a, b]) => runInWorker(model, input, opts, a, b));
  const local = runBatches(plan, ranges[0]![0], ranges[0]![1], opts);
  const parts = [local, ...(await Promise.all(remote))];
  opts.onProgress?.({ phase: 'gradients', done: plan.N, total: plan.N });
  return finishAnalysis(plan, mergePartials(parts), opts);
}

/** Like analyze() (src/analysis/index.ts), with each model's batches spread over the cores. */
export async function analyzeParallel(models: ModelSpec[], data: AnalyzeInput, opts: ParallelOptions & { labels?: string[] } = {}): Promise<{ result: Analysis | AnalysisSet; raw: RawArrays[] }> {
  const runs: Analysis[] = [];
  const raw: RawArrays[] = [];
  for (const [i, m] of models.entries()) {
    const r = await analyzeModelParallel(m, data, { ...opts, label: opts.labels?.[i] ?? m.meta.source.split(/[\\/]/).pop() ?? m.name, index: i });
    runs.push(r.analysis);
    if (r.raw) raw.push(r.raw);
  }
  const result: Analysis | AnalysisSet = runs.length === 1 ? runs[0]! : { schema: ANALYSIS_SET_SCHEMA, title: `${runs.length} models compared`, runs };
  return { result, raw };
}
