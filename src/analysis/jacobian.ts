// Largest singular value of the step Jacobian J_t = ∂s_t/∂s_{t−1} (s = the cell's states: h, or (h, c)),
// per sample, by power iteration on JᵀJ using Jacobian–vector products (no dense Jacobian).
// Pascanu, Mikolov & Bengio (2013): where σ_max stays below 1 gradients vanish, above 1 they can explode.
//
// The products are each cell's own (engine/cells: `jacobian`, next to its forward and backward
// step), from the forward quantities recorded as taps (pre-activations z, gate activations,
// h_{t−1}, c_{t−1}, c_t, GRU r_h) and the layer's weights.
// A step where the sample is masked carries its state: J = I, σ = 1.
// Speed: the probed samples are iterated together, so each R product is one gemm of S rows on the
// run's kernels, with R packed once when the kernels can (a few rows against a large R would otherwise
// copy R into the kernels at every one of the ~2·iterations·T products); the power iteration is
// warm-started from the previous step's singular vector.

import type { RecurrentSpec } from '../model/types.js';
import { cellOf } from '../engine/cells/index.js';
import type { CellParams, RProduct } from '../engine/cells/types.js';
import { jsKernels, type Kernels } from '../engine/kernels-js.js';
import type { WasmKernels } from '../engine/kernels-wasm.js';
import type { LayerTaps } from '../engine/taps.js';
import type { Arr } from '../engine/tensor.js';

export interface JacobianResult {
  /** sigma[i][t]: σ_max for probed sample samples[i] at input position t; NaN where undefined (first processed step).
   * */
  sigma: Float64Array[];
  samples: number[];
  iterations: number;
}

/**
 * `weights`: the layer's (direction's) parameters in the cell's Keras order, or the recurrent kernel
 * alone for cells whose Jacobian needs no other weight. `kern`: the run's kernels.
 */
export function stepJacobianNorms(
  spec: RecurrentSpec,
  weights: Arr | readonly Arr[],
  taps: LayerTaps,
  samples: number[],
  iterations: number,
  seed = 1,
  kern: Kernels = jsKernels,
): JacobianResult {
  const { steps: T, units: U } = taps;
  const cell = cellOf(spec.kind);
  const S = samples.length,
    GU = cell.gates.length * U;
  const params = cellParamsOf(spec, weights);
  const R = params.R;
  const mk = (n: number): Arr => (R instanceof Float32Array ? new Float32Array(n) : new Float64Array(n));
  const packed: PackedProduct[] = [];
  const J = cell.jacobian(spec, {
    S,
    U,
    taps: taps.data,
    params,
    mk,
    kern,
    rProduct: (trans, k, n, rOff) => {
      const p = rProduct(kern, S, trans, k, n, R, rOff, GU);
      packed.push(p);
      return p;
    },
  });
  const dim = J.dim * U;
  const V = mk(S * dim),
    Y = mk(S * dim),
    W = mk(S * dim);
  let st = seed >>> 0;
  const rnd = (): number => {
    st = (Math.imul(st, 1664525) + 1013904223) >>> 0;
    return st / 4294967296 - 0.5;
  };
  for (let i = 0; i < V.length; i++) V[i] = rnd();
  normalizeRows(V, S, dim);
  // A convolutional state's J is often block-diagonal (positions a kernel of size 1 does not join): a warm start
  // inside one block never leaves it, so each step restarts from the warm start plus a part of the random start.
  const V0 = cell.convolutional ? V.slice() : null;
  const sigma = samples.map(() => new Float64Array(T).fill(NaN));
  const row = (i: number, t: number): number => samples[i]! * T + t;

  for (let k = 1; k < T; k++) {
    const t = spec.goBackwards ? T - 1 - k : k;
    J.at((i) => row(i, t));
    if (V0) {
      for (let i = 0; i < V.length; i++) V[i] = V[i]! + 0.25 * V0[i]!;
      normalizeRows(V, S, dim);
    }
    const sig = new Float64Array(S);
    for (let it = 0; it < iterations; it++) {
      J.jvp(V, Y);
      J.vjp(Y, W);
      for (let i = 0; i < S; i++) {
        let n = 0;
        for (let j = 0; j < dim; j++) n += W[i * dim + j]! * W[i * dim + j]!;
        n = Math.sqrt(n);
        sig[i] = Math.sqrt(n);
        if (n > 0) for (let j = 0; j < dim; j++) V[i * dim + j] = W[i * dim + j]! / n;
      }
    }
    J.jvp(V, Y);
    for (let i = 0; i < S; i++) {
      const masked = taps.mask && !taps.mask[row(i, t)];
      let n = 0;
      for (let j = 0; j < dim; j++) n += Y[i * dim + j]! * Y[i * dim + j]!;
      sigma[i]![t] = masked ? 1 : Math.max(sig[i]!, Math.sqrt(n));
    }
  }
  for (const p of packed) p.free();
  return { sigma, samples, iterations };
}

interface PackedProduct extends RProduct {
  free(): void;
}

/** The weights by role (the recurrent kernel alone, or the cell's parameters in Keras order). */
function cellParamsOf(spec: RecurrentSpec, weights: Arr | readonly Arr[]): CellParams {
  if (!Array.isArray(weights)) return { K: new Float64Array(0), R: weights as Arr, b: null, extra: {} };
  const p: CellParams = { K: new Float64Array(0), R: new Float64Array(0), b: null, extra: {} };
  cellOf(spec.kind)
    .params(spec)
    .forEach((d, i) => {
      const a = weights[i]!;
      if (d.name === 'kernel') p.K = a;
      else if (d.name === 'recurrent_kernel') p.R = a;
      else if (d.name === 'bias') p.b = a;
      else p.extra[d.name] = a;
    });
  return p;
}

/** Products of S rows with op(R-block) (k×n, stored at rOff with row stride ldr), R packed once where the kernels pack.
 * */
function rProduct(
  kern: Kernels,
  S: number,
  trans: boolean,
  k: number,
  n: number,
  R: Arr,
  rOff: number,
  ldr: number,
): PackedProduct {
  const w = kern as Kernels & Partial<Pick<WasmKernels, 'packB' | 'gemmPacked' | 'freePacked'>>;
  if (R instanceof Float32Array && w.packB && w.gemmPacked && w.freePacked) {
    const P = w.packB(trans, k, n, R, rOff, ldr);
    return {
      mul: (A, aOff, lda, beta, C, cOff, ldc) => w.gemmPacked!(false, S, n, k, A, aOff, lda, P, beta, C, cOff, ldc),
      free: () => w.freePacked!(P),
    };
  }
  return {
    mul: (A, aOff, lda, beta, C, cOff, ldc) =>
      kern.gemm(false, trans, S, n, k, A, aOff, lda, R, rOff, ldr, beta, C, cOff, ldc),
    free: () => undefined,
  };
}

function normalizeRows(V: Arr, S: number, dim: number): void {
  for (let i = 0; i < S; i++) {
    let n = 0;
    for (let j = 0; j < dim; j++) n += V[i * dim + j]! * V[i * dim + j]!;
    n = Math.sqrt(n) || 1;
    for (let j = 0; j < dim; j++) V[i * dim + j] = V[i * dim + j]! / n;
  }
}
