// One model, one dataset → one Analysis (schema.ts).
//
//   data/random inputs ─► batches ─► engine (loss, grads, taps) ─► accumulators (steps.ts)
//        └─ objective.ts             └─ batch global norms          └─ params.ts, jacobian.ts
//   ─► RecurrentAnalysis per layer/direction (recurrent.ts) ─► diagnose.ts ─► Analysis

import type { ModelSpec, Warning } from '../model/types.js';
import { warn } from '../model/types.js';
import { EngineError } from '../model/errors.js';
import { lossFlavor } from '../engine/loss-config.js';
import { materializeParams, type Params } from '../engine/graph.js';
import { gradsFromOutputs, lossAndGrads, predict } from '../engine/run.js';
import type { TapRequest, TapStore } from '../engine/taps.js';
import type { Tensor } from '../engine/tensor.js';
import { chooseObjective, outputKind, randomInputs, selfTargets } from './objective.js';
import { densities, paramStats } from './params.js';
import { accumulate, newAccumulator, type StepAccumulator } from './steps.js';
import { finishRecurrent, type JacobianInput } from './recurrent.js';
import { batchStats } from './batches.js';
import { diagnose, DEFAULT_THRESHOLDS, type Thresholds } from './diagnose.js';
import { connectivity } from './connectivity.js';
import { modelInfo } from './model-info.js';
import { ANALYSIS_SCHEMA, type Analysis } from './schema.js';

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

export function analyzeModel(model: ModelSpec, input: AnalyzeInput, opts: AnalyzeOptions = {}): { analysis: Analysis; raw: RawArrays | null } {
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
  const objective = chooseObjective(model, opts.loss, !!input.targets);
  const flavor = lossFlavor(model.meta.kerasVersion, model.meta.format);
  const params = materializeParams(model, 'float32');
  const kinds = model.outputs.map((_, i) => outputKind(model, i));

  const accs = new Map<string, StepAccumulator>();
  const total: Params = params.map((ps) => ps.map((p) => ({ shape: p.shape, data: new Float64Array(p.data.length) })));
  const batchNorms: number[] = [], batchSizes: number[] = [];
  let lossSum = 0;
  let jac: JacobianInput | null = null;
  const raw: RawArrays | null = opts.keepRaw ? new Map() : null;
  const nBatches = Math.ceil(N / batchSize);

  for (let bi = 0; bi < nBatches; bi++) {
    const from = bi * batchSize, to = Math.min(N, from + batchSize), B = to - from;
    opts.onProgress?.({ phase: 'gradients', done: from, total: N });
    const xs = inputs.map((x) => slice(x, from, to));
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
      const ts = input.targets ? input.targets.map((t) => slice(t, from, to)) : selfTargets(predict(model, xs, { params }), kinds);
      r = lossAndGrads(model, xs, ts, { losses: objective.losses, flavor, dtype: 'float32', taps: TAPS, params });
    }
    lossSum += r.loss * B;
    let sq = 0;
    r.grads.forEach((ps, li) => ps.forEach((g, pi) => {
      const tot = total[li]![pi]!.data;
      for (let i = 0; i < g.data.length; i++) { tot[i] += (g.data[i]! * B) / N; if (model.params[li]![pi]!.trainable) sq += g.data[i]! * g.data[i]!; }
    }));
    batchNorms.push(Math.sqrt(sq));
    batchSizes.push(B);
    for (const tp of r.taps.layers) {
      const id = tp.direction ? `${tp.layer}/${tp.direction}` : tp.layer;
      let acc = accs.get(id);
      if (!acc) {
        const li = model.layers.findIndex((l) => l.name === tp.layer);
        const l = model.layers[li]!;
        const spec = l.type === 'Bidirectional' ? (tp.direction === 'backward' ? l.backward : l.forward) : l.type === 'Recurrent' ? l.rnn : null;
        if (!spec) throw new EngineError(`Taps came from layer '${tp.layer}', which is not recurrent.`);
        acc = newAccumulator(spec, tp.layer, tp.direction, tp.steps, N);
        accs.set(id, acc);
      }
      if (acc.T !== tp.steps) throw new EngineError(`Layer '${tp.layer}' saw ${tp.steps} steps in batch ${bi} but ${acc.T} before; pass sequences of one length.`);
      accumulate(acc, tp);
      if (bi === 0) {
        jac ??= { byId: new Map() };
        jac.byId.set(id, tp);
      }
      if (raw) appendRaw(raw, id, tp, B, N);
    }
  }
  opts.onProgress?.({ phase: 'gradients', done: N, total: N });
  if (raw) model.params.forEach((ps, li) => ps.forEach((p, pi) => raw.set(`grad/${p.key}`, { shape: p.shape, data: total[li]![pi]!.data as Float64Array })));
  if (raw) raw.set('loss', { shape: [], data: Float64Array.of(lossSum / N) });

  const th: Thresholds = { ...DEFAULT_THRESHOLDS, ...opts.thresholds };
  const stats = paramStats(model, params, total);
  // Taps arrive in backward order (last layer first); report layers in model order, forward before backward.
  const order = (a: StepAccumulator): number => model.layers.findIndex((l) => l.name === a.layer) * 2 + (a.direction === 'backward' ? 1 : 0);
  const recurrent = [...accs.values()].sort((a, b) => order(a) - order(b)).map((acc) => {
    opts.onProgress?.({ phase: 'jacobian', done: 0, total: 1 });
    const id = acc.direction ? `${acc.layer}/${acc.direction}` : acc.layer;
    const li = model.layers.findIndex((l) => l.name === acc.layer);
    const pIdx = model.params[li]!.findIndex((p) => p.name === 'recurrent_kernel' && (acc.direction === null || p.key.includes(`/${acc.direction}/`)));
    const R = params[li]![pIdx]!.data;
    const ra = finishRecurrent(acc, R, jac!.byId.get(id)!, th, {
      samples: opts.jacobianSamples ?? 8, iterations: opts.jacobianIterations ?? 8, seed,
    });
    ra.density = densities(model, params, total, acc.layer, acc.direction);
    return ra;
  });
  if (opts.connectivity) {
    opts.onProgress?.({ phase: 'connectivity', done: 0, total: 1 });
    connectivity(model, inputs.map((x) => slice(x, 0, Math.min(N, 8))), recurrent, params, objective, flavor, input.targets ? input.targets.map((t) => slice(t, 0, Math.min(N, 8))) : null);
  }
  const batches = batchStats(batchNorms, batchSizes, model.meta.optimizer);
  const analysis: Analysis = {
    schema: ANALYSIS_SCHEMA,
    tool: { name: 'rnnscope', version: VERSION },
    run: { label: opts.label ?? model.name, group: opts.group ?? null, index: opts.index ?? 0 },
    model: modelInfo(model),
    objective: {
      loss: objective.losses.map((l) => l.name).join(' + '), lossSource: objective.lossSource,
      fromLogits: objective.losses.some((l) => l.fromLogits), targets: input.targets ? 'given' : 'self', selfObjective: objective.self,
      description: objective.description, data: input.inputs ? 'file' : 'random', dataSource: input.dataSource ?? null,
      samples: N, batchSize, batches: nBatches, value: Number.isFinite(lossSum / N) ? lossSum / N : null, warnings,
    },
    thresholds: { ...th },
    recurrent, params: stats, batches, findings: [],
  };
  analysis.findings = diagnose(analysis, th);
  return { analysis, raw };
}

/** Per-sample taps in input order for the dump, scaled to ∂L/∂· of the mean loss over all N samples. */
function appendRaw(raw: RawArrays, id: string, tp: import('../engine/taps.js').LayerTaps, B: number, N: number): void {
  const add = (name: string, a: Float32Array | Float64Array | undefined, width: number, gates?: string[]): void => {
    if (!a) return;
    const put = (key: string, col0: number, w: number, stride: number): void => {
      const prev = raw.get(key);
      const rows = B * tp.steps;
      const data = new Float32Array(((prev?.data.length ?? 0)) + rows * w);
      if (prev) data.set(prev.data);
      const off = prev?.data.length ?? 0;
      for (let r = 0; r < rows; r++) for (let j = 0; j < w; j++) data[off + r * w + j] = (a[r * stride + col0 + j]! * B) / N;
      raw.set(key, { shape: [(prev?.shape[0] ?? 0) + B, tp.steps, w], data });
    };
    if (gates) gates.forEach((g, gi) => put(`${name}/${id}/${g}`, gi * tp.units, tp.units, width));
    else put(`${name}/${id}`, 0, width, width);
  };
  const gates = tp.kind === 'LSTM' ? ['i', 'f', 'c', 'o'] : tp.kind === 'GRU' ? ['z', 'r', 'h'] : ['h'];
  add('dh', tp.data.dh, tp.units);
  add('dc', tp.data.dc, tp.units);
  add('dx', tp.data.dx, tp.inputDim);
  add('gate_grad', tp.data.gateGrad, gates.length * tp.units, gates);
}
