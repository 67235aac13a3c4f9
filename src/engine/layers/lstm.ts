// LSTM cell (Keras LSTMCell; keras-formats.md §4.3).
//
// Gate order of the fused kernel columns: i, f, c, o  (blocks of U).
//   z   = x_t·K + h_{t−1}·R + b                      (B × 4U)
//   i = ρ(z_i)   f = ρ(z_f)   c~ = σ(z_c)   o = ρ(z_o)    ρ = recurrent_activation, σ = activation
//   c_t = f ⊙ c_{t−1} + i ⊙ c~
//   h_t = o ⊙ σ(c_t)
// Backward (mirrors the lines above, bottom-up):
//   dO  = dh ⊙ σ(c_t)                 dc += dh ⊙ o ⊙ σ'(c_t)
//   dI  = dc ⊙ c~   dC~ = dc ⊙ i   dF = dc ⊙ c_{t−1}   dc_{t−1} = dc ⊙ f
//   dz  = [dI ρ'(z_i), dF ρ'(z_f), dC~ σ'(z_c), dO ρ'(z_o)]
//   dh_{t−1} = dz·Rᵀ   dR += h_{t−1}ᵀ·dz   db += Σ_b dz   dP = dz (→ dK, dX after the loop)
//
// Keras note: Keras adds (x·K + h·R) + b; we add the bias into P before the loop,
// i.e. (x·K + b) + h·R like Keras's torch backend. Different float32 rounding
// order only (keras-formats.md §4.3 "Float summation order").

import type { RecurrentSpec } from '../../model/types.js';
import { activation, type ActFn } from '../activations.js';
import type { Kernels } from '../kernels.js';
import { copyTo, type Arr } from '../tensor.js';
import type { BackState, Cell, CellGrads, CellParams, SeqBuffers } from './cell.js';

export function lstmCell(spec: RecurrentSpec): Cell {
  const rho: ActFn = activation(spec.recurrentActivation);
  const sig: ActFn = activation(spec.activation);
  return {
    G: 4,
    hasC: true,
    sWidth: 1,
    inputBias: (p) => p.b,

    forwardStep(kern: Kernels, p: CellParams, s: SeqBuffers, k: number, t: number) {
      const { B, U } = s, GU = 4 * U;
      const zo = k * B * GU, ho = k * B * U, hn = (k + 1) * B * U;
      const { Z, A, H, C, S } = s;
      copyTo(Z, zo, s.P, t * B * GU, B * GU);
      kern.gemm(false, false, B, GU, U, H, ho, U, p.R, 0, GU, 1, Z, zo, GU);
      for (let b = 0; b < B; b++) {
        const r = zo + b * GU;
        rho.forward(Z, r, A, r, U); // i
        rho.forward(Z, r + U, A, r + U, U); // f
        sig.forward(Z, r + 2 * U, A, r + 2 * U, U); // c~
        rho.forward(Z, r + 3 * U, A, r + 3 * U, U); // o
        const cp = ho + b * U, cn = hn + b * U;
        for (let u = 0; u < U; u++) C[cn + u] = A[r + U + u] * C[cp + u] + A[r + u] * A[r + 2 * U + u];
        sig.forward(C, cn, S, ho + b * U, U);
        for (let u = 0; u < U; u++) H[cn + u] = A[r + 3 * U + u] * S[ho + b * U + u];
      }
    },

    totalDc(s: SeqBuffers, bs: BackState, k: number, b: number, out: Arr, oo: number) {
      const { B, U } = s, GU = 4 * U;
      const r = k * B * GU + b * GU, ho = k * B * U + b * U, hn = (k + 1) * B * U + b * U;
      for (let u = 0; u < U; u++) out[oo + u] = bs.dh[b * U + u]! * s.A[r + 3 * U + u]!;
      sig.backward(s.C, hn, s.S, ho, out, oo, out, oo, U);
      for (let u = 0; u < U; u++) out[oo + u] = out[oo + u]! + bs.dc[b * U + u]!;
    },

    backwardStep(kern: Kernels, p: CellParams, g: CellGrads, s: SeqBuffers, bs: BackState, k: number) {
      const { B, U } = s, GU = 4 * U;
      const zo = k * B * GU, ho = k * B * U, hn = (k + 1) * B * U;
      const { Z, A, C, S } = s;
      const { dh, dc, dZ, tmp } = bs;
      for (let b = 0; b < B; b++) {
        const r = zo + b * GU, rb = b * GU, ub = b * U;
        // dc += dh ⊙ o ⊙ σ'(c_t): tmp = dh ⊙ o, then through σ at c_t.
        for (let u = 0; u < U; u++) {
          tmp[ub + u] = dh[ub + u] * A[r + 3 * U + u];
          dZ[rb + 3 * U + u] = dh[ub + u] * S[ho + ub + u]; // dO (before ρ')
        }
        sig.backward(C, hn + ub, S, ho + ub, tmp, ub, tmp, ub, U);
        for (let u = 0; u < U; u++) {
          const dcu = dc[ub + u] + tmp[ub + u];
          dZ[rb + u] = dcu * A[r + 2 * U + u]; // dI
          dZ[rb + U + u] = dcu * C[ho + ub + u]; // dF
          dZ[rb + 2 * U + u] = dcu * A[r + u]; // dC~
          dc[ub + u] = dcu * A[r + U + u]; // dc_{t−1}
        }
        rho.backward(Z, r, A, r, dZ, rb, dZ, rb, U);
        rho.backward(Z, r + U, A, r + U, dZ, rb + U, dZ, rb + U, U);
        sig.backward(Z, r + 2 * U, A, r + 2 * U, dZ, rb + 2 * U, dZ, rb + 2 * U, U);
        rho.backward(Z, r + 3 * U, A, r + 3 * U, dZ, rb + 3 * U, dZ, rb + 3 * U, U);
      }
      kern.gemm(true, false, U, GU, B, s.H, ho, U, dZ, 0, GU, 1, g.dR, 0, GU);
      if (g.db) accumulateRows(g.db, 0, dZ, B, GU);
      kern.gemm(false, true, B, U, GU, dZ, 0, GU, p.R, 0, GU, 0, dh, 0, U);
    },
  };
}

/** db[off..off+n) += Σ_b M[b, 0..n) for a B×n row-major block. */
export function accumulateRows(db: Arr, off: number, M: Arr, B: number, n: number, mOff = 0, ldm = n): void {
  for (let b = 0; b < B; b++) {
    const r = mOff + b * ldm;
    for (let j = 0; j < n; j++) db[off + j] += M[r + j];
  }
}
