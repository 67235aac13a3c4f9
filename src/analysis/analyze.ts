// One model, one dataset → one Analysis (schema.ts).
//
//   data/random inputs ─► batches ─► engine (loss, grads, taps) ─► accumulators (steps.ts)
//        └─ objective.ts             └─ batch global norms          └─ params.ts, jacobian.ts
//   ─► RecurrentAnalysis per layer/direction (recurrent.ts) ─► diagnose.ts ─► Analysis
// In phases, so that batch ranges can run in parallel (src/analysis-parallel.ts):
//   planAnalysis ─► runBatches(range) × workers ─► mergePartials ─► finishAnalysis

import type { ModelSpec, Warning } from '../model/types.js';
import { warn } from '../model/types.js';
import { EngineError } from '../model/errors.js';
import { materializeParams, type Params } from '../engine/graph.js';
import { predict } from '../engine/run.js';
import { kernels as activeKernels, type Kernels } from '../engine/kernels.js';
import { ALL_TAPS, type LayerTaps, type TapName, type TapRequest } from '../engine/taps.js';
import { addInto, alloc, type Arr, type DType, type Tensor } from '../engine/tensor.js';
import type { LossFlavor } from '../engine/loss-config.js';
import { chooseObjective, outputKind, randomInputs, type Objective, type OutputKind } from './objective.js';
import { densities, paramStats } from './params.js';
import { accumulate, mergeAccumulators, newAccumulator, type StepAccumulator } from './steps.js';
import { finishRecurrent } from './recurrent.js';
import { batchStats } from './batches.js';
import { diagnose, DEFAULT_THRESHOLDS, type Thresholds } from './diagnose.js';
import { connectivity } from './connectivity.js';
import { modelInfo } from './model-info.js';
import { chooseContributionMode, DEFAULT_CONTRIBUTION_MEMORY, flushContributions } from './contributions.js';
import {
  assembleRaw,
  ChunkSink,
  dumpEntries,
  writeBatchPaths,
  writeBatchTaps,
  type DumpEntry,
  type DumpSink,
  type RawArrays,
  type RawChunk,
} from './dump.js';
import { ANALYSIS_SCHEMA, type Analysis, type RecurrentAnalysis } from './schema.js';
import { checkAnalyzeArgs } from './check-input.js';
import { objectiveGrads } from './grads.js';
import { sampleViews } from './samples.js';
import { baselineOf } from './baseline.js';
import { DEFAULT_BATCH_SIZE, TAP_MEMORY, defaultBatchSize } from './batch-size.js';
import {
  accumulatePaths,
  attentionWatches,
  DirectGrads,
  finishPaths,
  mergePaths,
  splitPass,
  type PathAccumulator,
} from './attention-paths.js';

export const VERSION = '0.1.0';

export interface AnalyzeInput {
  /** Model inputs in model input order, samples first; null → random inputs. */
  inputs: { shape: number[]; data: ArrayLike<number> }[] | null;
  targets: { shape: number[]; data: ArrayLike<number> }[] | null;
  dataSource?: string | null;
}

export interface AnalyzeOptions {
  loss?: string;
  batchSize?: number;
  maxSamples?: number;
  connectivity?: boolean;
  /** Steps used for random inputs when the model's time dim is unknown. */
  randomSteps?: number;
  seed?: number;
  thresholds?: Partial<Thresholds>;
  label?: string;
  group?: string | null;
  index?: number;
  /** Jacobian: samples probed and power iterations. */
  jacobianSamples?: number;
  jacobianIterations?: number;
  onProgress?: (p: { phase: string; done: number; total: number }) => void;
  /** The per-sample drill-down (samples.ts; default true). */
  samples?: boolean;
  /** Keep the raw arrays (dump.ts) in memory and return them. */
  keepRaw?: boolean;
  /** Stream the raw arrays (dump.ts) to this sink instead, batch by batch (dumpEntriesOf gives their layout). */
  dump?: DumpSink;
  /** Precision of the whole analysis (default float32, as Keras). */
  dtype?: DType;
  /** Bytes for the per-step contributions of all recurrent layers together (contributions.ts; default 512 MiB). */
  contributionMemory?: number;
  /** The kernels of this run: every gradient pass and analysis product uses them (default: kernels() when the run is
   * planned; worker threads pick their own). */
  kernels?: Kernels;
}

export type { RawArrays, DumpSink, DumpEntry } from './dump.js';

/** The Jacobian's forward quantities are recorded for batch 0 only; the other batches skip them. */
const JACOBIAN_TAPS: TapName[] = ['z', 'c', 'cPrev', 'rh'];
const TAPS: TapRequest = ALL_TAPS;
const TAPS_REST: TapRequest = Object.fromEntries(
  Object.entries(TAPS).filter(([k]) => !JACOBIAN_TAPS.includes(k as TapName)),
);

function slice(t: { shape: number[]; data: ArrayLike<number> }, from: number, to: number, dtype: DType): Tensor {
  const per = t.shape.slice(1).reduce((a, b) => a * b, 1);
  const data = alloc(dtype, (to - from) * per);
  const src = t.data;
  if (ArrayBuffer.isView(src) && !(src instanceof DataView)) data.set((src as Arr).subarray(from * per, to * per));
  else for (let i = 0; i < data.length; i++) data[i] = src[from * per + i]!;
  return { shape: [to - from, ...t.shape.slice(1)], data };
}

/** Everything the batches share: resolved inputs, objective, batching. Deterministic from (model, input, opts). */
export interface Plan {
  model: ModelSpec;
  input: AnalyzeInput;
  inputs: { shape: number[]; data: ArrayLike<number> }[];
  N: number;
  batchSize: number;
  nBatches: number;
  objective: Objective;
  flavor: LossFlavor;
  kinds: OutputKind[];
  params: Params;
  warnings: Warning[];
  seed: number;
  dtype: DType;
  /** The run's kernels (AnalyzeOptions.kernels). */
  kernels: Kernels;
}

export function planAnalysis(model: ModelSpec, input: AnalyzeInput, opts: AnalyzeOptions = {}): Plan {
  checkAnalyzeArgs(model, input, opts);
  const dtype = opts.dtype ?? 'float32';
  const warnings: Warning[] = [];
  const seed = opts.seed ?? 1;
  let inputs = input.inputs;
  if (!inputs) {
    const N = opts.maxSamples ?? 64;
    inputs = randomInputs(model, N, opts.randomSteps ?? 50, seed);
    warn(
      warnings,
      'random-data',
      `No data was given, so rnnscope analysed ${N} seeded random input sequences; gradients on random inputs can differ from those on real data, so pass --data for conclusions about your model.`,
    );
  }
  let N = inputs[0]!.shape[0]!;
  if (opts.maxSamples && N > opts.maxSamples) N = opts.maxSamples;
  const steps = Math.max(1, ...inputs.map((x) => (x.shape.length >= 2 ? x.shape[1]! : 1)));
  const fitted = defaultBatchSize(model, steps, dtype === 'float64' ? 8 : 4);
  if (opts.batchSize === undefined && fitted < Math.min(DEFAULT_BATCH_SIZE, N)) {
    warn(
      warnings,
      'batch-size',
      `Sequences of ${steps} steps: batches of ${fitted} samples instead of ${DEFAULT_BATCH_SIZE} keep one batch's per-step taps within ${TAP_MEMORY / 2 ** 20} MiB (the results do not depend on it, except the per-batch statistics); pass --batch-size to choose.`,
    );
  }
  const batchSize = Math.max(1, Math.min(opts.batchSize ?? fitted, N));
  return {
    model,
    input,
    inputs,
    N,
    batchSize,
    nBatches: Math.ceil(N / batchSize),
    objective: chooseObjective(model, opts.loss, !!input.targets),
    flavor: model.meta.writer,
    kinds: model.outputs.map((_, i) => outputKind(model, i)),
    params: materializeParams(model, dtype),
    warnings,
    seed,
    dtype,
    kernels: opts.kernels ?? activeKernels(),
  };
}

/** The arrays a dump of this plan holds, in file order (one gradient pass over the first sample). */
export function dumpEntriesOf(plan: Plan): DumpEntry[] {
  return dumpEntries(plan.model, plan.inputs, plan.N, plan.dtype, plan.params, plan.kernels);
}

/** What a run of batches leaves behind; partials of disjoint batch ranges merge (mergePartials). */
export interface BatchPartial {
  /** First batch index of the range (ranges merge in this order). */
  first: number;
  accs: StepAccumulator[];
  /** Σ over the range's batches of (B_b/N)·grad_b, per layer and param (float64). */
  total: Float64Array[][];
  batchNorms: number[];
  batchSizes: number[];
  lossSum: number;
  /** ℓ_n of every sample of the range, in sample order. */
  perSample: number[];
  /** Taps of the probed samples of batch 0 (jacobianSubset), by layer id; only in the partial holding batch 0. */
  jacTaps: Map<string, LayerTaps> | null;
  /** keepRaw: the dump's per-sample rows of this range. */
  raw: RawChunk[] | null;
  /** ∂L/∂h_t by path, for recurrent layers that attention reads (attention-paths.ts). */
  paths: PathAccumulator[];
}

/** Recurrent layers (directions) of the model: they share the contribution memory. */
const recurrentCount = (model: ModelSpec): number =>
  model.layers.reduce((n, l) => n + (l.type === 'Bidirectional' ? 2 : l.type === 'Recurrent' ? 1 : 0), 0);

/** Runs batches [from, to) of the plan: engine gradients with all taps, folded into accumulators. */
export function runBatches(plan: Plan, from: number, to: number, opts: AnalyzeOptions = {}, threads = 1): BatchPartial {
  const { model, inputs, N, batchSize, params, dtype, kernels } = plan;
  const chunks = opts.keepRaw && !opts.dump ? new ChunkSink() : null;
  const sink = opts.dump ?? chunks;
  const part: BatchPartial = {
    first: from,
    accs: [],
    total: params.map((ps) => ps.map((p) => new Float64Array(p.data.length))),
    batchNorms: [],
    batchSizes: [],
    lossSum: 0,
    perSample: [],
    jacTaps: null,
    raw: chunks ? chunks.chunks : null,
    paths: [],
  };
  const watches = attentionWatches(model);
  const budget = (opts.contributionMemory ?? DEFAULT_CONTRIBUTION_MEMORY) / Math.max(1, recurrentCount(model));
  const byId = new Map<string, StepAccumulator>();
  for (let bi = from; bi < to; bi++) {
    const lo = bi * batchSize,
      hi = Math.min(N, lo + batchSize),
      B = hi - lo;
    opts.onProgress?.({ phase: 'gradients', done: lo, total: N });
    const xs = inputs.map((x) => slice(x, lo, hi, dtype));
    const taps = bi === 0 ? TAPS : TAPS_REST;
    const ts = plan.input.targets ? plan.input.targets.map((t) => slice(t, lo, hi, dtype)) : null;
    const direct = watches.length > 0 ? new DirectGrads(watches) : null;
    const r = objectiveGrads(plan, xs, ts, taps, direct?.observe);
    if (direct) {
      const split = splitPass(watches, direct, r.taps);
      accumulatePaths(part.paths, split, N);
      if (sink) writeBatchPaths(sink, split, lo, N, dtype);
    }
    part.perSample.push(...r.perSample);
    part.lossSum += r.loss * B;
    let sq = 0;
    r.grads.forEach((ps, li) =>
      ps.forEach((g, pi) => {
        const tot = part.total[li]![pi]!,
          a = g.data;
        for (let i = 0; i < a.length; i++) tot[i] += (a[i]! * B) / N;
        if (model.params[li]![pi]!.trainable) for (let i = 0; i < a.length; i++) sq += a[i]! * a[i]!;
      }),
    );
    part.batchNorms.push(Math.sqrt(sq));
    part.batchSizes.push(B);
    for (const tp of r.taps.layers) {
      const id = tp.direction ? `${tp.layer}/${tp.direction}` : tp.layer;
      let acc = byId.get(id);
      if (!acc) {
        const l = model.layers.find((x) => x.name === tp.layer)!;
        const spec =
          l.type === 'Bidirectional'
            ? tp.direction === 'backward'
              ? l.backward
              : l.forward
            : l.type === 'Recurrent'
              ? l.rnn
              : null;
        if (!spec) throw new EngineError(`Taps came from layer '${tp.layer}', which is not recurrent.`);
        const mode = chooseContributionMode(spec, tp.steps, N, budget, threads, dtype === 'float32' ? 4 : 8);
        acc = newAccumulator(spec, tp.layer, tp.direction, tp.steps, N, {
          ...mode,
          seed: plan.seed + 7919 * byId.size,
          float32: dtype === 'float32',
        });
        byId.set(id, acc);
        part.accs.push(acc);
      }
      if (acc.T !== tp.steps)
        throw new EngineError(
          `Layer '${tp.layer}' saw ${tp.steps} steps in batch ${bi} but ${acc.T} before; pass sequences of one length.`,
        );
      accumulate(acc, tp, kernels);
      if (bi === 0) (part.jacTaps ??= new Map()).set(id, jacobianSubset(tp, Math.min(opts.jacobianSamples ?? 8, B)));
      if (sink) writeBatchTaps(sink, tp, lo, N);
    }
  }
  // Batches that wait in the contributions are added here, on this range's thread.
  for (const acc of part.accs) flushContributions(acc.contrib, kernels);
  return part;
}

/** Merges partials of disjoint batch ranges (in batch order, so per-sample rows keep their order). */
export function mergePartials(parts: BatchPartial[]): BatchPartial {
  const [head, ...rest] = [...parts].sort((a, b) => a.first - b.first);
  for (const p of rest) {
    head!.total.forEach((ps, li) => ps.forEach((t, pi) => addInto(t, p.total[li]![pi]!)));
    head!.batchNorms.push(...p.batchNorms);
    head!.batchSizes.push(...p.batchSizes);
    head!.lossSum += p.lossSum;
    head!.perSample.push(...p.perSample);
    head!.jacTaps ??= p.jacTaps;
    for (const acc of p.accs) {
      const mine = head!.accs.find((a) => a.layer === acc.layer && a.direction === acc.direction);
      if (mine) mergeAccumulators(mine, acc);
      else head!.accs.push(acc);
    }
    if (head!.raw && p.raw) head!.raw.push(...p.raw);
    mergePaths(head!.paths, p.paths);
  }
  return head!;
}

/** What finishRecurrent (recurrent.ts) takes for one layer (direction) of a merged partial. */
export interface LayerFinish {
  acc: StepAccumulator;
  /** The direction's own weights, in the cell's order. */
  weights: Arr[];
  taps: LayerTaps;
  th: Thresholds;
  jopt: { samples: number; iterations: number; seed: number };
}

export const accId = (acc: StepAccumulator): string => (acc.direction ? `${acc.layer}/${acc.direction}` : acc.layer);

export function layerFinish(plan: Plan, part: BatchPartial, acc: StepAccumulator, opts: AnalyzeOptions): LayerFinish {
  const { model, params } = plan;
  const li = model.layers.findIndex((l) => l.name === acc.layer);
  const weights = model.params[li]!.flatMap((p, pi) =>
    acc.direction === null || p.key.startsWith(`${acc.layer}/${acc.direction}/`) ? [params[li]![pi]!.data] : [],
  );
  return {
    acc,
    weights,
    taps: part.jacTaps!.get(accId(acc))!,
    th: { ...DEFAULT_THRESHOLDS, ...opts.thresholds },
    jopt: { samples: opts.jacobianSamples ?? 8, iterations: opts.jacobianIterations ?? 8, seed: plan.seed },
  };
}

/** `done`: layers already finished elsewhere (finishRecurrent of their layerFinish), by accId. */
export function finishAnalysis(
  plan: Plan,
  part: BatchPartial,
  opts: AnalyzeOptions = {},
  done: Map<string, RecurrentAnalysis> = new Map(),
): { analysis: Analysis; raw: RawArrays | null } {
  const { model, N, params, objective, flavor, inputs, input } = plan;
  const total: Params = part.total.map((ps, li) => ps.map((data, pi) => ({ shape: params[li]![pi]!.shape, data })));
  const sink: DumpSink | null =
    opts.dump ??
    (part.raw ? { write: (name, firstRow, shape, data) => part.raw!.push({ name, firstRow, shape, data }) } : null);
  if (sink) {
    model.params.forEach((ps, li) =>
      ps.forEach((p, pi) => sink.write(`grad/${p.key}`, 0, p.shape, part.total[li]![pi]!)),
    );
    sink.write('loss', 0, [], Float64Array.of(part.lossSum / N));
  }
  const raw = part.raw ? assembleRaw(part.raw) : null;

  const th: Thresholds = { ...DEFAULT_THRESHOLDS, ...opts.thresholds };
  const stats = paramStats(model, params, total);
  // Taps arrive in backward order (last layer first); report layers in model order, forward before backward.
  const order = (a: StepAccumulator): number =>
    model.layers.findIndex((l) => l.name === a.layer) * 2 + (a.direction === 'backward' ? 1 : 0);
  const recurrent = [...part.accs]
    .sort((a, b) => order(a) - order(b))
    .map((acc) => {
      opts.onProgress?.({ phase: 'jacobian', done: 0, total: 1 });
      const id = accId(acc);
      const f = layerFinish(plan, part, acc, opts);
      const ra = done.get(id) ?? finishRecurrent(f.acc, f.weights, f.taps, f.th, f.jopt, plan.kernels);
      ra.density = densities(model, params, total, acc.layer, acc.direction);
      const paths = part.paths.find((p) => p.id === id);
      if (paths) ra.attention = finishPaths(paths);
      const c = acc.contrib;
      if (c.mode === 'sketch') {
        warn(
          plan.warnings,
          'contributions-sketched',
          `Layer ${id} is too large for exact per-step contributions in ` +
            `${(opts.contributionMemory ?? DEFAULT_CONTRIBUTION_MEMORY) / 2 ** 20} MiB (${plan.N} samples × ` +
            `${acc.T} steps), so their per-step norms are estimated from ${c.k} random projections: ` +
            `relative standard error of each squared norm at most ` +
            `${(Math.sqrt(8 / c.k) * 100).toPrecision(2)} % (measured median ` +
            `${((c.sketchError ?? 0) * 100).toPrecision(2)} %); totals and bias contributions are exact. ` +
            `Give more memory (contributionMemory) or fewer samples for exact values.`,
        );
      }
      return ra;
    });
  if (opts.connectivity) {
    opts.onProgress?.({ phase: 'connectivity', done: 0, total: 1 });
    const n = Math.min(N, 8);
    const notes = connectivity(
      model,
      inputs.map((x) => slice(x, 0, n, plan.dtype)),
      recurrent,
      params,
      objective,
      flavor,
      input.targets ? input.targets.map((t) => slice(t, 0, n, plan.dtype)) : null,
      plan.dtype,
      plan.kernels,
    );
    for (const w of notes) warn(plan.warnings, w.code, w.message);
  }
  const analysis: Analysis = {
    schema: ANALYSIS_SCHEMA,
    tool: { name: 'rnnscope', version: VERSION },
    run: { label: opts.label ?? model.name, group: opts.group ?? null, index: opts.index ?? 0 },
    model: modelInfo(model),
    objective: {
      loss: objective.losses.map((l) => l.name).join(' + '),
      lossSource: objective.lossSource,
      fromLogits: objective.losses.some((l) => l.fromLogits),
      targets: input.targets ? 'given' : 'self',
      selfObjective: objective.self,
      description: objective.description,
      data: input.inputs ? 'file' : 'random',
      dataSource: input.dataSource ?? null,
      samples: N,
      batchSize: plan.batchSize,
      batches: plan.nBatches,
      value: Number.isFinite(part.lossSum / N) ? part.lossSum / N : null,
      baseline: objective.self
        ? null
        : baselineOf(
            objective.losses,
            flavor,
            input.targets!.map((t) => slice(t, 0, N, plan.dtype)),
            predict(
              model,
              inputs.map((x) => slice(x, 0, 1, plan.dtype)),
              { params, dtype: plan.dtype, kernels: plan.kernels },
            ).map((y) => [N, ...y.shape.slice(1)]),
            Number.isFinite(part.lossSum / N) ? part.lossSum / N : null,
            th,
          ),
      warnings: plan.warnings,
    },
    thresholds: { ...th },
    recurrent,
    params: stats,
    batches: batchStats(part.batchNorms, part.batchSizes, model.meta.optimizer, th.clipnormMinBatches),
    findings: [],
  };
  analysis.findings = diagnose(analysis, th);
  if (opts.samples !== false) {
    opts.onProgress?.({ phase: 'samples', done: 0, total: 1 });
    analysis.samples = sampleViews(
      plan,
      inputs.map((x) => slice(x, 0, N, plan.dtype)),
      input.targets ? input.targets.map((t) => slice(t, 0, N, plan.dtype)) : null,
      part.perSample,
      recurrent,
      (t, a, b) => slice(t, a, b, plan.dtype),
    );
  }
  return { analysis, raw };
}

/** The whole analysis in this thread (see src/analysis-parallel.ts for both cores in Node). */
export function analyzeModel(
  model: ModelSpec,
  input: AnalyzeInput,
  opts: AnalyzeOptions = {},
): { analysis: Analysis; raw: RawArrays | null } {
  const plan = planAnalysis(model, input, opts);
  const part = runBatches(plan, 0, plan.nBatches, opts);
  opts.onProgress?.({ phase: 'gradients', done: plan.N, total: plan.N });
  return finishAnalysis(plan, part, opts);
}

/**
 * The taps of the samples the Jacobian probes (the first `n` spread over the batch, as finishRecurrent
 * picks them), with only the forward quantities it reads; the batch's other taps can then be freed.
 */
function jacobianSubset(tp: LayerTaps, n: number): LayerTaps {
  const B = tp.batch,
    T = tp.steps;
  const pick = Array.from({ length: n }, (_, i) => Math.floor((i * B) / n));
  const data: LayerTaps['data'] = {};
  for (const k of ['z', 'gates', 'hPrev', 'cPrev', 'c', 'rh'] as const) {
    const a = tp.data[k];
    if (!a) continue;
    const w = a.length / (B * T),
      out = a instanceof Float64Array ? new Float64Array(n * T * w) : new Float32Array(n * T * w);
    pick.forEach((b, i) => out.set(a.subarray(b * T * w, (b + 1) * T * w), i * T * w));
    data[k] = out;
  }
  let mask: Uint8Array | null = null;
  if (tp.mask) {
    mask = new Uint8Array(n * T);
    pick.forEach((b, i) => mask!.set(tp.mask!.subarray(b * T, (b + 1) * T), i * T));
  }
  return { ...tp, batch: n, data, mask };
}
