// What the lab computes from a loaded model, as plain data that crosses the page boundary
// (structured clone / JSON) unchanged: the layer list, the parameter count, the summary, the
// forward outputs on given inputs and a digest of the gradient of ½‖y‖².
//
// The page (web/lab.ts) and the browser tests' Node side (test/browser-loaders.test.ts) call
// these same functions, so a difference between them is a difference of the runtimes, not of
// the code. Pure: no DOM, no node:*.

import type { ModelSpec } from '../src/model/types.js';
import { countParams, summary } from '../src/model/summary.js';
import { gradsFromOutputs, predict } from '../src/engine/run.js';
import type { Kernels } from '../src/engine/kernels.js';
import type { Tensor } from '../src/engine/tensor.js';

export interface ModelFacts {
  name: string;
  format: string;
  kerasVersion: string;
  /** "name (ClassName)" per layer, in model order. */
  layers: string[];
  params: { total: number; trainable: number; nonTrainable: number };
  /** Keras-like model.summary() text. */
  summary: string;
  /** Input shapes with the batch (and unknown) dimensions as null. */
  inputs: { name: string; shape: (number | null)[] }[];
  warnings: string[];
}

export function modelFacts(model: ModelSpec): ModelFacts {
  return {
    name: model.name,
    format: model.meta.format,
    kerasVersion: model.meta.kerasVersion,
    layers: model.layers.map((l) => `${l.name} (${l.className})`),
    params: countParams(model),
    summary: summary(model),
    inputs: model.inputNames.map((name, i) => ({ name, shape: [...model.tensors[model.inputs[i]!]!.shape] })),
    warnings: model.warnings.map((w) => w.message),
  };
}

/** A tensor as plain numbers (float32 values are exact in a double). */
export interface PlainTensor {
  shape: number[];
  data: number[];
}

export const toPlain = (t: Tensor): PlainTensor => ({ shape: [...t.shape], data: Array.from(t.data) });
export const fromPlain = (t: PlainTensor): Tensor => ({ shape: [...t.shape], data: Float64Array.from(t.data) });

/** The model's outputs (float32 run) on `inputs`. */
export function forward(model: ModelSpec, inputs: PlainTensor[], kernels?: Kernels): PlainTensor[] {
  return predict(model, inputs.map(fromPlain), { dtype: 'float32', ...(kernels ? { kernels } : {}) }).map(toPlain);
}

/** One parameter's gradient, summarised exactly enough to tell bit-identical results from near ones. */
export interface GradDigest {
  key: string;
  shape: number[];
  /** FNV-1a over the float32 bit patterns: equal iff the arrays are bit-identical (up to hash collisions). */
  hash: string;
  /** Σg and Σ|g| in float64, summed in index order (deterministic for the same array). */
  sum: number;
  absSum: number;
  norm: number;
}

/**
 * Gradient of L = ½‖y‖² averaged over samples (the analysis's self-objective for regressors;
 * it needs no targets, so it applies to every model) with respect to every parameter.
 */
export function gradientDigest(
  model: ModelSpec,
  inputs: PlainTensor[],
  kernels?: Kernels,
): { loss: number; grads: GradDigest[] } {
  const xs = inputs.map(fromPlain);
  const B = xs[0]!.shape[0]!;
  let loss = 0;
  const r = gradsFromOutputs(
    model,
    xs,
    (outs) =>
      outs.map((y) => {
        const d = new Float32Array(y.data.length);
        for (let i = 0; i < d.length; i++) {
          d[i] = y.data[i]! / B;
          loss += (0.5 * y.data[i]! * y.data[i]!) / B;
        }
        return { shape: y.shape, data: d };
      }),
    { dtype: 'float32', ...(kernels ? { kernels } : {}) },
  );
  const grads: GradDigest[] = [];
  model.params.forEach((ps, li) => ps.forEach((p, pi) => grads.push({ key: p.key, ...digest(r.grads[li]![pi]!) })));
  return { loss, grads };
}

export function digest(t: Tensor): Omit<GradDigest, 'key'> {
  const f = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
  const bits = new Uint32Array(f.buffer, f.byteOffset, f.length);
  let h = 0x811c9dc5;
  let sum = 0,
    absSum = 0,
    sq = 0;
  for (let i = 0; i < f.length; i++) {
    const u = bits[i]!;
    for (let s = 0; s < 32; s += 8) h = Math.imul(h ^ ((u >>> s) & 0xff), 0x01000193);
    const v = f[i]!;
    sum += v;
    absSum += Math.abs(v);
    sq += v * v;
  }
  return { shape: [...t.shape], hash: (h >>> 0).toString(16).padStart(8, '0'), sum, absSum, norm: Math.sqrt(sq) };
}
