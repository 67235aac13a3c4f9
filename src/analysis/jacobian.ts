// Largest singular value of the step Jacobian J_t = ∂s_t/∂s_{t−1} (s = h, or (h, c) for LSTM),
// per sample, by power iteration on JᵀJ using Jacobian–vector products (no dense Jacobian).
// Pascanu, Mikolov & Bengio (2013): where σ_max stays below 1 gradients vanish, above 1 they can explode.
//
// The products are written out per cell from the forward quantities recorded as taps
// (pre-activations z, gate activations a, h_{t−1}, c_{t−1}, c_t, GRU r_h):
//   SimpleRNN  J v = σ'(z) ⊙ (v·R)                                   Jᵀu = (σ'(z) ⊙ u)·Rᵀ
//   LSTM       dz = v_h·R;  dc' = f' c⊙dz_f + f⊙v_c + i'⊙g⊙dz_i + i⊙g'⊙dz_c;  dh' = o'⊙σ(c')⊙dz_o + o⊙σ'(c')⊙dc'
//   GRU        after:  dz = v·R; d~ = σ'⊙(r'⊙dz_r⊙r_h + r⊙dz_h); dh' = z'⊙dz_z⊙(h − h~) + z⊙v + (1 − z)⊙d~
//              before: dz_zr = v·R_zr; d~ = σ'⊙((r'⊙dz_r⊙h + r⊙v)·R_h); dh' likewise
// (x' = derivative of the gate's activation at its pre-activation.) Jᵀu runs the same lines backwards.
// A step where the sample is masked carries its state: J = I, σ = 1.
// Speed: the probed samples are iterated together, so each R product is one gemm of S rows on the
// active kernels, with R packed once when the kernels can (a few rows against a large R would otherwise
// copy R into the kernels at every one of the ~2·iterations·T products); the power iteration is
// warm-started from the previous step's singular vector.

import type { RecurrentSpec } from '../model/types.js';
import { activation } from '../engine/activations.js';
import { kernels, type Kernels } from '../engine/kernels.js';
import type { WasmKernels } from '../engine/kernels-wasm.js';
import type { LayerTaps } from '../engine/taps.js';
import type { Arr } from '../engine/tensor.js';

export interface JacobianResult {
  /** sigma[i][t]: σ_max for probed sample samples[i] at input position t; NaN where undefined (first processed step). */
  sigma: Float64Array[];
  samples: number[];
  iterations: number;
}

export function stepJacobianNorms(spec: RecurrentSpec, R: Arr, taps: LayerTaps, samples: number[], iterations: number, seed = 1): JacobianResult {
  const { steps: T, units: U } = taps;
  const G = spec.kind === 'LSTM' ? 4 : spec.kind === 'GRU' ? 3 : 1, GU = G * U;
  const S = samples.length;
  const lstm = spec.kind === 'LSTM', before = spec.kind === 'GRU' && !spec.resetAfter;
  const dim = lstm ? 2 * U : U;
  const mk = (n: number): Arr => (R instanceof Float32Array ? new Float32Array(n) : new Float64Array(n));
  const kern = kernels();
  // The products with R: jvp X·R (GRU reset_before: X·R_zr and (r⊙h)·R_h), vjp Y·Rᵀ (R_hᵀ, R_zrᵀ).
  const byR = before
    ? { zr: rProduct(kern, S, false, U, 2 * U, R, 0, GU), h: rProduct(kern, S, false, U, U, R, 2 * U, GU), hT: rProduct(kern, S, true, U, U, R, 2 * U, GU), zrT: rProduct(kern, S, true, 2 * U, U, R, 0, GU) }
    : { all: rProduct(kern, S, false, U, GU, R, 0, GU), allT: rProduct(kern, S, true, GU, U, R, 0, GU) };
  const Z = taps.data.z!, A = taps.data.gates!, Hp = taps.data.hPrev!;
  const gateFns = Array.from({ length: G }, (_, g) => activation(spec.kind !== 'SimpleRNN' && g !== 2 ? spec.recurrentActivation : spec.activation));
  const sigAct = activation(spec.activation);
  // Per step, per probed sample: gate derivatives D (GU), and for LSTM σ(c_t), σ'(c_t).
  const D = mk(S * GU), SC = mk(S * U), DSC = mk(S * U), ones = mk(Math.max(U, 1)).fill(1);
  const V = mk(S * dim), Y = mk(S * dim), W = mk(S * dim), DZ = mk(S * GU), TMP = mk(S * U);
  let st = seed >>> 0;
  const rnd = (): number => { st = (Math.imul(st, 1664525) + 1013904223) >>> 0; return st / 4294967296 - 0.5; };
  for (let i = 0; i < V.length; i++) V[i] = rnd();
  normalizeRows(V, S, dim);
  const sigma = samples.map(() => new Float64Array(T).fill(NaN));
  const row = (i: number, t: number): number => samples[i]! * T + t;

  const jvp = (X: Arr, Out: Arr, t: number): void => {
    if (before) {
      byR.zr!.mul(X, 0, dim, 0, DZ, 0, GU);
      for (let i = 0; i < S; i++) {
        const go = row(i, t) * GU, ho = row(i, t) * U;
        for (let j = 0; j < U; j++) TMP[i * U + j] = D[i * GU + U + j]! * DZ[i * GU + U + j]! * Hp[ho + j]! + A[go + U + j]! * X[i * dim + j]!;
      }
      byR.h!.mul(TMP, 0, U, 0, DZ, 2 * U, GU);
    } else byR.all!.mul(X, 0, dim, 0, DZ, 0, GU);
    for (let i = 0; i < S; i++) {
      const go = row(i, t) * GU, ho = row(i, t) * U, d = i * GU, x = i * dim;
      for (let j = 0; j < U; j++) {
        if (spec.kind === 'SimpleRNN') Out[x + j] = D[d + j]! * DZ[d + j]!;
        else if (lstm) {
          const dcn = D[d + U + j]! * DZ[d + U + j]! * taps.data.cPrev![ho + j]! + A[go + U + j]! * X[x + U + j]!
            + D[d + j]! * DZ[d + j]! * A[go + 2 * U + j]! + A[go + j]! * D[d + 2 * U + j]! * DZ[d + 2 * U + j]!;
          Out[x + j] = D[d + 3 * U + j]! * DZ[d + 3 * U + j]! * SC[i * U + j]! + A[go + 3 * U + j]! * DSC[i * U + j]! * dcn;
          Out[x + U + j] = dcn;
        } else {
          const zz = A[go + j]!, hh = A[go + 2 * U + j]!;
          const dcand = spec.resetAfter
            ? D[d + 2 * U + j]! * (D[d + U + j]! * DZ[d + U + j]! * taps.data.rh![ho + j]! + A[go + U + j]! * DZ[d + 2 * U + j]!)
            : D[d + 2 * U + j]! * DZ[d + 2 * U + j]!;
          Out[x + j] = D[d + j]! * DZ[d + j]! * (Hp[ho + j]! - hh) + zz * X[x + j]! + (1 - zz) * dcand;
        }
      }
    }
  };

  const vjp = (Yv: Arr, Out: Arr, t: number): void => {
    for (let i = 0; i < S; i++) {
      const go = row(i, t) * GU, ho = row(i, t) * U, d = i * GU, x = i * dim;
      for (let j = 0; j < U; j++) {
        if (spec.kind === 'SimpleRNN') { DZ[d + j] = D[d + j]! * Yv[x + j]!; Out[x + j] = 0; }
        else if (lstm) {
          const dcn = Yv[x + U + j]! + Yv[x + j]! * A[go + 3 * U + j]! * DSC[i * U + j]!;
          DZ[d + 3 * U + j] = D[d + 3 * U + j]! * Yv[x + j]! * SC[i * U + j]!;
          DZ[d + U + j] = D[d + U + j]! * dcn * taps.data.cPrev![ho + j]!;
          DZ[d + j] = D[d + j]! * dcn * A[go + 2 * U + j]!;
          DZ[d + 2 * U + j] = A[go + j]! * D[d + 2 * U + j]! * dcn;
          Out[x + j] = 0;
          Out[x + U + j] = A[go + U + j]! * dcn;
        } else {
          const zz = A[go + j]!, hh = A[go + 2 * U + j]!;
          DZ[d + j] = D[d + j]! * Yv[x + j]! * (Hp[ho + j]! - hh);
          Out[x + j] = zz * Yv[x + j]!;
          const dcand = (1 - zz) * Yv[x + j]! * D[d + 2 * U + j]!;
          if (spec.resetAfter) {
            DZ[d + U + j] = D[d + U + j]! * dcand * taps.data.rh![ho + j]!;
            DZ[d + 2 * U + j] = A[go + U + j]! * dcand;
          } else DZ[d + 2 * U + j] = dcand;
        }
      }
    }
    if (before) {
      // TMP = d~·R_hᵀ (the gradient of r ⊙ h), then the reset gate and the direct r ⊙ h path.
      byR.hT!.mul(DZ, 2 * U, GU, 0, TMP, 0, U);
      for (let i = 0; i < S; i++) {
        const go = row(i, t) * GU, ho = row(i, t) * U;
        for (let j = 0; j < U; j++) {
          DZ[i * GU + U + j] = D[i * GU + U + j]! * TMP[i * U + j]! * Hp[ho + j]!;
          Out[i * dim + j] = Out[i * dim + j]! + A[go + U + j]! * TMP[i * U + j]!;
        }
      }
      byR.zrT!.mul(DZ, 0, GU, 1, Out, 0, dim);
    } else byR.allT!.mul(DZ, 0, GU, 1, Out, 0, dim);
  };

  for (let k = 1; k < T; k++) {
    const t = spec.goBackwards ? T - 1 - k : k;
    for (let i = 0; i < S; i++) {
      const go = row(i, t) * GU;
      for (let g = 0; g < G; g++) gateFns[g]!.backward(Z, go + g * U, A, go + g * U, ones, 0, D, i * GU + g * U, U);
      if (lstm) {
        sigAct.forward(taps.data.c!, row(i, t) * U, SC, i * U, U);
        sigAct.backward(taps.data.c!, row(i, t) * U, SC, i * U, ones, 0, DSC, i * U, U);
      }
    }
    const sig = new Float64Array(S);
    for (let it = 0; it < iterations; it++) {
      jvp(V, Y, t);
      vjp(Y, W, t);
      for (let i = 0; i < S; i++) {
        let n = 0;
        for (let j = 0; j < dim; j++) n += W[i * dim + j]! * W[i * dim + j]!;
        n = Math.sqrt(n);
        sig[i] = Math.sqrt(n);
        if (n > 0) for (let j = 0; j < dim; j++) V[i * dim + j] = W[i * dim + j]! / n;
      }
    }
    jvp(V, Y, t);
    for (let i = 0; i < S; i++) {
      const masked = taps.mask && !taps.mask[row(i, t)];
      let n = 0;
      for (let j = 0; j < dim; j++) n += Y[i * dim + j]! * Y[i * dim + j]!;
      sigma[i]![t] = masked ? 1 : Math.max(sig[i]!, Math.sqrt(n));
    }
  }
  for (const p of Object.values(byR)) p.free();
  return { sigma, samples, iterations };
}

interface RProduct {
  /** C[S×n] = beta·C + A[S×k]·op(R-block). */
  mul(A: Arr, aOff: number, lda: number, beta: 0 | 1, C: Arr, cOff: number, ldc: number): void;
  free(): void;
}

/** Products of S rows with op(R-block) (k×n, stored at rOff with row stride ldr), R packed once where the kernels pack. */
function rProduct(kern: Kernels, S: number, trans: boolean, k: number, n: number, R: Arr, rOff: number, ldr: number): RProduct {
  const w = kern as Kernels & Partial<Pick<WasmKernels, 'packB' | 'gemmPacked' | 'freePacked'>>;
  if (R instanceof Float32Array && w.packB && w.gemmPacked && w.freePacked) {
    const P = w.packB(trans, k, n, R, rOff, ldr);
    return { mul: (A, aOff, lda, beta, C, cOff, ldc) => w.gemmPacked!(false, S, n, k, A, aOff, lda, P, beta, C, cOff, ldc), free: () => w.freePacked!(P) };
  }
  return { mul: (A, aOff, lda, beta, C, cOff, ldc) => kern.gemm(false, trans, S, n, k, A, aOff, lda, R, rOff, ldr, beta, C, cOff, ldc), free: () => undefined };
}

function normalizeRows(V: Arr, S: number, dim: number): void {
  for (let i = 0; i < S; i++) {
    let n = 0;
    for (let j = 0; j < dim; j++) n += V[i * dim + j]! * V[i * dim + j]!;
    n = Math.sqrt(n) || 1;
    for (let j = 0; j < dim; j++) V[i * dim + j] = V[i * dim + j]! / n;
  }
}
