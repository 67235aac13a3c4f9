// What the attention-path tests share: a float64 mse run of the engine, the split of ∂L/∂h as the
// analysis takes it, an LSTM's hidden states recovered from its taps (fed back as a copy of h to the
// network with a path cut), finite differences of the loss in one input, and the error measure.

import type { ModelSpec } from '../../src/model/types.js';
import { buildModel } from '../../src/model/build.js';
import { jsKernels } from '../../src/engine/kernels.js';
import { lossAndGrads } from '../../src/engine/run.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { attentionWatches, DirectGrads, splitPass, type SplitHalf } from '../../src/analysis/attention-paths.js';
import { centralDiff, randTensor, rng } from './layer-fd.js';

/** lossAndGrads options: mse on every output, float64, the JavaScript kernels. */
export const MSE64 = {
  losses: [{ name: 'mse', fromLogits: false, labelSmoothing: 0 }],
  flavor: 'keras3' as const,
  dtype: 'float64' as const,
  kernels: jsKernels,
};

/** h_t = o_t ⊙ tanh(c_t) of LSTM `layer` (direction `dir`), (B, T, U) at input positions, from its gate and c taps.
 * */
export function lstmStates(
  m: ModelSpec,
  x: Tensor | Tensor[],
  y: Tensor,
  layer: string,
  dir: 'forward' | 'backward' | null = null,
): Float64Array {
  const xs = Array.isArray(x) ? x : [x];
  const tp = lossAndGrads(m, xs, [y], { ...MSE64, taps: { gates: true, c: true } }).taps.get(layer, dir)!;
  const U = tp.units;
  return Float64Array.from({ length: tp.batch * tp.steps * U }, (_, i) => {
    const bt = Math.floor(i / U);
    return tp.data.gates![bt * 4 * U + 3 * U + (i % U)]! * Math.tanh(tp.data.c![i]!);
  });
}

/** A Keras 3 config with weights: random (seeded), or those of `w` by key. */
export function withWeights(cfg: unknown, w: ModelSpec | null, seed = 17): ModelSpec {
  const m = buildModel(cfg, { kerasVersion: '3.10.0', format: 'config', source: 'test' });
  const r = rng(seed);
  for (const p of m.params.flat())
    m.weights.set(
      p.key,
      w?.weights.get(p.key) ?? { shape: p.shape, data: randTensor(p.shape, r).data as Float64Array },
    );
  return m;
}

/** One gradient pass with the split of ∂L/∂h (as analyze.ts runs it). */
export function splitOf(m: ModelSpec, x: Tensor | Tensor[], y: Tensor): SplitHalf[] {
  const watches = attentionWatches(m);
  const direct = new DirectGrads(watches);
  const xs = Array.isArray(x) ? x : [x];
  const r = lossAndGrads(m, xs, [y], { ...MSE64, taps: { dh: true }, onGrad: direct.observe });
  return splitPass(watches, direct, r.taps);
}

/** Float64 central differences (step h) of the loss of `m` in its input `k` (the others as given). */
export function lossFd(m: ModelSpec, xs: Tensor[], y: Tensor, k: number, h = 1e-6): Float64Array {
  const loss = (): number => lossAndGrads(m, xs, [y], MSE64).loss;
  return centralDiff(xs[k]!.data as Float64Array, loss, { h });
}

/** max|a|, at least 1e-12. */
export const maxAbs = (a: ArrayLike<number>): number => Math.max(1e-12, ...Array.from(a, Math.abs));

/** max_i |a_i − b_i| relative to the larger of max|a| and max|b|. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!));
  return e / Math.max(maxAbs(a), maxAbs(b));
}
