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
import { lossFlavor } from '../engine/loss-config.js';
import { materializeParams, type Params } from '../engine/graph.js';
import { gradsFromOutputs, lossAndGrads, predict } from '../engine/run.js';
import type { LayerTaps, TapRequest, TapStore } from '../engine/taps.js';
import { addInto, type Arr, type Tensor } from '../engine/tensor.js';
import type { LossFlavor } from '../engine/loss-config.js';
import { chooseObjective, outputKind, randomInputs, selfTargets, type Objective, type OutputKind } from './objective.js';
import { densities, paramStats } from './params.js';
import { accumulate, mergeAccumulators, newAccumulator, type StepAccumulator } from './steps.js';
import { finishRecurrent } from './recurrent.js';
import { batchStats } from './batches.js';
import { diagnose, DEFAULT_THRESHOLDS, type Thresholds } from './diagnose.js';
import { connectivity } from './connectivity.js';
import { modelInfo } from './model-info.js';
import { ANALYSIS_SCHEMA, type Analysis } from './schema.js';
import { checkAnalyzeArgs } from './check-input.js';

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
  /** Keep the raw arrays for the .npz dump. */
  keepRaw?: boolean;
}

/** Raw arrays for `--dump`, named as documented in the CLI help (grad/<layer>/<weight>, dh/<layer>, ...). */
export type RawArrays = Map<string, { shape: number[]; data: Float64Array | Float32Array }>;

const TAPS: TapRequest = { dh: true, dc: true, dx: true, gateGrad: true, gates: true, hPrev: true, cPrev: true, c: true, z: true, x: true, rh: true };

function slice(t: { shape: number[]; data: ArrayLike<number> }, from: number, to: number): Tensor {
  const per = t.shape.slice(1).reduce((a, b) => a * b, 1);
  const data = new Float32Array((to - from) * per);
  for (let i = 0; i < data.length; i++) data[i] = t.data[from * per + i]!;
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
}

export function planAnalysis(model: ModelSpec, input: AnalyzeInput, opts: AnalyzeOptions = {}): Plan {
  checkAnalyzeArgs(model, input, opts);
  const warnings: Warning[] = [];
  const seed = opts.seed ?? 1;
  let inputs = input.inputs;
  if (!inputs) {
    const N = opts.maxSamples ?? 64;
    inputs = randomInputs(model, N, opts.randomSteps ?? 50, seed);
    warn(warnings, 'random-data', `No data was given, so rnnscope analysed ${N} seeded random input sequences; gradients on random inputs can differ from those on real data, so pass --data for conclusions about your model.`);
  }
  let N = inputs[0]!.shape[0]!;
  if (opts.maxSamples && N > opts.maxSamples) N = opts.maxSamples;
  const batchSize = Math.max(1, Math.min(opts.batchSize ?? 32, N));
  return {
    model, input, inputs, N, batchSize, nBatches: Math.ceil(N / batchSize),
    objective: chooseObjective(model, opts.loss, !!input.targets),
    flavor: lossFlavor(model.meta.kerasVersion, model.meta.format),
    kinds: model.outputs.map((_, i) => outputKind(model, i)),
    params: materializeParams(model, 'float32'), warnings, seed,
  };
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
  /** Taps of batch 0 (the Jacobian probes), by layer id; only in the partial holding batch 0. */
  jacTaps: Map<string, LayerTaps> | null;
  raw: RawChunks | null;
}

/** Runs batches [from, to) of the plan: engine gradients with all taps, folded into accumulators. */
export function runBatches(plan: Plan, from: number, to: number, opts: AnalyzeOptions = {}): BatchPartial {
  const { model, inputs, N, batchSize, objective, flavor, kinds, params } = plan;
  const part: BatchPartial = {
    first: from, accs: [], total: params.map((ps) => ps.map((p) => new Float64Array(p.data.length))),
    batchNorms: [], batchSizes: [], lossSum: 0, jacTaps: null, raw: opts.keepRaw ? new Map() : null,
  };
  const byId = new Map<string, StepAccumulator>();
  for (let bi = from; bi < to; bi++) {
    const lo = bi * batchSize, hi = Math.min(N, lo + batchSize), B = hi - lo;
    opts.onProgress?.({ phase: 'gradients', done: lo, total: N });
    const xs = inputs.map((x) => slice(x, lo, hi));
    let r: { loss: number; grads: Params; taps: TapStore };
    if (objective.self === 'half-squared-norm') {
      // L_b = mean_n ½‖y_n‖²  →  ∂L_b/∂y = y / B.
      let L = 0;
      const g = gradsFromOutputs(model, xs, (outs) => outs.map((y) => {
        const d = new Float32Array(y.data.length);
        for (let i = 0; i < d.length; i++) { d[i] = y.data[i]! / B; L += (0.5 * y.data[i]! * y.data[i]!) / B; }
        return { shape: y.shape, data: d };
      }), { dtype: 'float32', taps: TAPS, params });
      r = { loss: L, grads: g.grads, taps: g.taps };
    } else {
      const ts = plan.input.targets ? plan.input.targets.map((t) => slice(t, lo, hi)) : selfTargets(predict(model, xs, { params }), kinds);
      r = lossAndGrads(model, xs, ts, { losses: objective.losses, flavor, dtype: 'float32', taps: TAPS, params });
    }
    part.lossSum += r.loss * B;
    let sq = 0;
    r.grads.forEach((ps, li) => ps.forEach((g, pi) => {
      const tot = part.total[li]![pi]!;
      for (let i = 0; i < g.data.length; i++) { tot[i] += (g.data[i]! * B) / N; if (model.params[li]![pi]!.trainable) sq += g.data[i]! * g.data[i]!; }
    }));
    part.batchNorms.push(Math.sqrt(sq));
    part.batchSizes.push(B);
    for (const tp of r.taps.layers) {
      const id = tp.direction ? `${tp.layer}/${tp.direction}` : tp.layer;
      let acc = byId.get(id);
      if (!acc) {
        const l = model.layers.find((x) => x.name === tp.layer)!;
        const spec = l.type === 'Bidirectional' ? (tp.direction === 'backward' ? l.backward : l.forward) : l.type === 'Recurrent' ? l.rnn : null;
        if (!spec) throw new EngineError(`Taps came from layer '${tp.layer}', which is not recurrent.`);
        acc = newAccumulator(spec, tp.layer, tp.direction, tp.steps, N);
        byId.set(id, acc);
        part.accs.push(acc);
      }
      if (acc.T !== tp.steps) throw new EngineError(`Layer '${tp.layer}' saw ${tp.steps} steps in batch ${bi} but ${acc.T} before; pass sequences of one length.`);
      accumulate(acc, tp);
      if (bi === 0) (part.jacTaps ??= new Map()).set(id, tp);
      if (part.raw) appendRaw(part.raw, id, tp, B, N);
    }
  }
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
    head!.jacTaps ??= p.jacTaps;
    for (const acc of p.accs) {
      const mine = head!.accs.find((a) => a.layer === acc.layer && a.direction === acc.direction);
      if (mine) mergeAccumulators(mine, acc);
      else head!.accs.push(acc);
    }
    if (head!.raw && p.raw) for (const [k, chunks] of p.raw) head!.raw.set(k, [...(head!.raw.get(k) ?? []), ...chunks]);
  }
  return head!;
}

export function finishAnalysis(plan: Plan, part: BatchPartial, opts: AnalyzeOptions = {}): { analysis: Analysis; raw: RawArrays | null } {
  const { model, N, params, objective, flavor, inputs, input } = plan;
  const total: Params = part.total.map((ps, li) => ps.map((data, pi) => ({ shape: params[li]![pi]!.shape, data })));
  const raw = part.raw ? concatRaw(part.raw) : null;
  if (raw) model.params.forEach((ps, li) => ps.forEach((p, pi) => raw.set(`grad/${p.key}`, { shape: p.shape, data: part.total[li]![pi]! })));
  if (raw) raw.set('loss', { shape: [], data: Float64Array.of(part.lossSum / N) });

  const th: Thresholds = { ...DEFAULT_THRESHOLDS, ...opts.thresholds };
  const stats = paramStats(model, params, total);
  // Taps arrive in backward order (last layer first); report layers in model order, forward before backward.
  const order = (a: StepAccumulator): number => model.layers.findIndex((l) => l.name === a.layer) * 2 + (a.direction === 'backward' ? 1 : 0);
  const recurrent = [...part.accs].sort((a, b) => order(a) - order(b)).map((acc) => {
    opts.onProgress?.({ phase: 'jacobian', done: 0, total: 1 });
    const id = acc.direction ? `${acc.layer}/${acc.direction}` : acc.layer;
    const li = model.layers.findIndex((l) => l.name === acc.layer);
    const pIdx = model.params[li]!.findIndex((p) => p.name === 'recurrent_kernel' && (acc.direction === null || p.key.includes(`/${acc.direction}/`)));
    const ra = finishRecurrent(acc, params[li]![pIdx]!.data, part.jacTaps!.get(id)!, th, {
      samples: opts.jacobianSamples ?? 8, iterations: opts.jacobianIterations ?? 8, seed: plan.seed,
    });
    ra.density = densities(model, params, total, acc.layer, acc.direction);
    return ra;
  });
  if (opts.connectivity) {
    opts.onProgress?.({ phase: 'connectivity', done: 0, total: 1 });
    const n = Math.min(N, 8);
    const notes = connectivity(model, inputs.map((x) => slice(x, 0, n)), recurrent, params, objective, flavor, input.targets ? input.targets.map((t) => slice(t, 0, n)) : null);
    for (const w of notes) warn(plan.warnings, w.code, w.message);
  }
  const analysis: Analysis = {
    schema: ANALYSIS_SCHEMA,
    tool: { name: 'rnnscope', version: VERSION },
    run: { label: opts.label ?? model.name, group: opts.group ?? null, index: opts.index ?? 0 },
    model: modelInfo(model),
    objective: {
      loss: objective.losses.map((l) => l.name).join(' + '), lossSource: objective.lossSource,
      fromLogits: objective.losses.some((l) => l.fromLogits), targets: input.targets ? 'given' : 'self', selfObjective: objective.self,
      description: objective.description, data: input.inputs ? 'file' : 'random', dataSource: input.dataSource ?? null,
      samples: N, batchSize: plan.batchSize, batches: plan.nBatches, value: Number.isFinite(part.lossSum / N) ? part.lossSum / N : null,
      warnings: plan.warnings,
    },
    thresholds: { ...th },
    recurrent, params: stats, batches: batchStats(part.batchNorms, part.batchSizes, model.meta.optimizer), findings: [],
  };
  analysis.findings = diagnose(analysis, th);
  return { analysis, raw };
}

/** The whole analysis in this thread (see src/analysis-parallel.ts for both cores in Node). */
export function analyzeModel(model: ModelSpec, input: AnalyzeInput, opts: AnalyzeOptions = {}): { analysis: Analysis; raw: RawArrays | null } {
  const plan = planAnalysis(model, input, opts);
  const part = runBatches(plan, 0, plan.nBatches, opts);
  opts.onProgress?.({ phase: 'gradients', done: plan.N, total: plan.N });
  return finishAnalysis(plan, part, opts);
}

/** Per-sample taps for the dump, per batch, before concatenation: key → chunks of (B, T, w). */
export type RawChunks = Map<string, { shape: number[]; data: Float32Array }[]>;

/** Appends one batch's taps in input order, scaled to ∂L/∂· of the mean loss over all N samples. */
function appendRaw(raw: RawChunks, id: string, tp: LayerTaps, B: number, N: number): void {
  const put = (key: string, a: Arr | undefined, col0: number, w: number, stride: number): void => {
    if (!a) return;
    const rows = B * tp.steps;
    const data = new Float32Array(rows * w);
    for (let r = 0; r < rows; r++) for (let j = 0; j < w; j++) data[r * w + j] = (a[r * stride + col0 + j]! * B) / N;
    raw.set(key, [...(raw.get(key) ?? []), { shape: [B, tp.steps, w], data }]);
  };
  const gates = tp.kind === 'LSTM' ? ['i', 'f', 'c', 'o'] : tp.kind === 'GRU' ? ['z', 'r', 'h'] : ['h'];
  put(`dh/${id}`, tp.data.dh, 0, tp.units, tp.units);
  put(`dc/${id}`, tp.data.dc, 0, tp.units, tp.units);
  put(`dx/${id}`, tp.data.dx, 0, tp.inputDim, tp.inputDim);
  gates.forEach((g, gi) => put(`gate_grad/${id}/${g}`, tp.data.gateGrad, gi * tp.units, tp.units, gates.length * tp.units));
}

function concatRaw(chunks: RawChunks): RawArrays {
  const out: RawArrays = new Map();
  for (const [k, cs] of chunks) {
    const data = new Float32Array(cs.reduce((a, c) => a + c.data.length, 0));
    let o = 0;
    for (const c of cs) { data.set(c.data, o); o += c.data.length; }
    out.set(k, { shape: [cs.reduce((a, c) => a + c.shape[0]!, 0), ...cs[0]!.shape.slice(1)], data });
  }
  return out;
}
