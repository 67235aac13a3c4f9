// GRU cell (Keras GRUCell; keras-formats.md §4.4). Gate order: z, r, h (blocks of U).
//
// reset_after = true (bias (2, 3U): row 0 input side b_x, row 1 recurrent side b_h):
//   [x_z|x_r|x_h] = x_t·K + b_x            [r_z|r_r|r_h] = h_{t−1}·R + b_h      (S holds r_h)
//   z = ρ(x_z + r_z)   r = ρ(x_r + r_r)   h~ = σ(x_h + r ⊙ r_h)
//   h_t = z ⊙ h_{t−1} + (1 − z) ⊙ h~
// reset_after = false (bias (3U,), input side):
//   z = ρ(x_z + h_{t−1}·R_z)   r = ρ(x_r + h_{t−1}·R_r)   h~ = σ(x_h + (r ⊙ h_{t−1})·R_h)
//   h_t = z ⊙ h_{t−1} + (1 − z) ⊙ h~
// Backward, bottom-up:
//   dz = dh ⊙ (h_{t−1} − h~) ρ'      da = dh ⊙ (1 − z) σ'   (da = gradient of h~'s pre-activation)
//   after:  dr = da ⊙ r_h ρ'         d(r_h) = da ⊙ r        recurrent-side grad = [dz, dr, da ⊙ r]
//   before: g = da·R_hᵀ  dr = g ⊙ h_{t−1} ρ'   dh_{t−1} += g ⊙ r   dR_h += (r ⊙ h_{t−1})ᵀ·da
//   dh_{t−1} += dh ⊙ z + [recurrent-side grad]·Rᵀ
// The 'gateGrad' tap is the pre-activation gradient [dz, dr, da] (input side).

import type { RecurrentSpec } from '../../model/types.js';
import { activation } from '../activations.js';
import type { Kernels } from '../kernels.js';
import { copyTo, type Arr } from '../tensor.js';
import type { BackState, Cell, CellGrads, CellParams, SeqBuffers } from './cell.js';
import { accumulateRows } from './lstm.js';

export function gruCell(spec: RecurrentSpec): Cell {
  const rho = activation(spec.recurrentActivation);
  const sig = activation(spec.activation);
  const after = spec.resetAfter;
  // Scratch of B×3U for the recurrent-side product/gradient; sized lazily once per batch size.
  let rs: Arr | null = null;
  const scratch = (n: number, like: Arr): Arr => {
    if (!rs || rs.length < n || rs.constructor !== like.constructor) rs = like instanceof Float32Array ? new Float32Array(n) : new Float64Array(n);
    return rs;
  };

  return {
    G: 3,
    hasC: false,
    sWidth: after ? 1 : 0,
    // reset_after: only row 0 (input side) goes into P; row 1 is added to h·R each step.
    inputBias: (p) => (p.b ? (after ? p.b.subarray(0, p.b.length / 2) : p.b) : null),

    forwardStep(kern: Kernels, p: CellParams, s: SeqBuffers, k: number, t: number) {
      const { B, U } = s, GU = 3 * U;
      const zo = k * B * GU, ho = k * B * U, hn = (k + 1) * B * U, po = t * B * GU;
      const { Z, A, H, S, P } = s;
      const R = scratch(B * GU, Z);
      if (after) {
        kern.gemm(false, false, B, GU, U, H, ho, U, p.R, 0, GU, 0, R, 0, GU);
        for (let b = 0; b < B; b++) {
          const rb = b * GU, r = zo + rb, pr = po + rb;
          for (let j = 0; j < GU; j++) R[rb + j] += p.b ? p.b[GU + j] : 0;
          for (let j = 0; j < 2 * U; j++) Z[r + j] = P[pr + j] + R[rb + j];
          rho.forward(Z, r, A, r, 2 * U);
          for (let u = 0; u < U; u++) {
            S[ho + b * U + u] = R[rb + 2 * U + u];
            Z[r + 2 * U + u] = P[pr + 2 * U + u] + A[r + U + u] * R[rb + 2 * U + u];
          }
        }
      } else {
        kern.gemm(false, false, B, 2 * U, U, H, ho, U, p.R, 0, GU, 0, R, 0, GU);
        for (let b = 0; b < B; b++) {
          const rb = b * GU, r = zo + rb, pr = po + rb;
          for (let j = 0; j < 2 * U; j++) Z[r + j] = P[pr + j] + R[rb + j];
          rho.forward(Z, r, A, r, 2 * U);
          // R[b, 2U..3U) ← r ⊙ h_{t−1}, the input of the candidate's recurrent product.
          for (let u = 0; u < U; u++) R[rb + 2 * U + u] = A[r + U + u] * H[ho + b * U + u];
        }
        for (let b = 0; b < B; b++) copyTo(Z, zo + b * GU + 2 * U, P, po + b * GU + 2 * U, U);
        kern.gemm(false, false, B, U, U, R, 2 * U, GU, p.R, 2 * U, GU, 1, Z, zo + 2 * U, GU);
      }
      for (let b = 0; b < B; b++) {
        const r = zo + b * GU, hb = b * U;
        sig.forward(Z, r + 2 * U, A, r + 2 * U, U);
        for (let u = 0; u < U; u++) {
          const z = A[r + u];
          H[hn + hb + u] = z * H[ho + hb + u] + (1 - z) * A[r + 2 * U + u];
        }
      }
    },

    backwardStep(kern: Kernels, p: CellParams, g: CellGrads, s: SeqBuffers, bs: BackState, k: number) {
      const { B, U } = s, GU = 3 * U;
      const zo = k * B * GU, ho = k * B * U;
      const { Z, A, H, S } = s;
      const { dh, dZ, tmp } = bs;
      const dRs = scratch(B * GU, Z); // recurrent-side gradient [dz, dr, d(r_h) or da]
      for (let b = 0; b < B; b++) {
        const r = zo + b * GU, rb = b * GU, hb = b * U;
        for (let u = 0; u < U; u++) {
          const d = dh[hb + u], z = A[r + u];
          dZ[rb + u] = d * (H[ho + hb + u] - A[r + 2 * U + u]);
          dZ[rb + 2 * U + u] = d * (1 - z);
          tmp[hb + u] = d * z; // direct path h_{t−1} → h_t
        }
        sig.backward(Z, r + 2 * U, A, r + 2 * U, dZ, rb + 2 * U, dZ, rb + 2 * U, U);
      }
      if (after) {
        for (let b = 0; b < B; b++) {
          const r = zo + b * GU, rb = b * GU;
          for (let u = 0; u < U; u++) {
            const da = dZ[rb + 2 * U + u];
            dZ[rb + U + u] = da * S[ho + b * U + u];
            dRs[rb + 2 * U + u] = da * A[r + U + u];
          }
          rho.backward(Z, r, A, r, dZ, rb, dZ, rb, 2 * U);
          for (let j = 0; j < 2 * U; j++) dRs[rb + j] = dZ[rb + j];
        }
        kern.gemm(true, false, U, GU, B, H, ho, U, dRs, 0, GU, 1, g.dR, 0, GU);
        if (g.db) {
          accumulateRows(g.db, 0, dZ, B, GU);
          accumulateRows(g.db, GU, dRs, B, GU);
        }
        kern.gemm(false, true, B, U, GU, dRs, 0, GU, p.R, 0, GU, 0, dh, 0, U);
      } else {
        // g = da·R_hᵀ into dRs[:, 0..U) as scratch.
        kern.gemm(false, true, B, U, U, dZ, 2 * U, GU, p.R, 2 * U, GU, 0, dRs, 0, GU);
        for (let b = 0; b < B; b++) {
          const r = zo + b * GU, rb = b * GU, hb = b * U;
          for (let u = 0; u < U; u++) {
            const gu = dRs[rb + u], hp = H[ho + hb + u];
            dZ[rb + U + u] = gu * hp;
            tmp[hb + u] += gu * A[r + U + u];
            dRs[rb + 2 * U + u] = A[r + U + u] * hp; // r ⊙ h_{t−1}
          }
          rho.backward(Z, r, A, r, dZ, rb, dZ, rb, 2 * U);
        }
        kern.gemm(true, false, U, 2 * U, B, H, ho, U, dZ, 0, GU, 1, g.dR, 0, GU);
        kern.gemm(true, false, U, U, B, dRs, 2 * U, GU, dZ, 2 * U, GU, 1, g.dR, 2 * U, GU);
        if (g.db) accumulateRows(g.db, 0, dZ, B, GU);
        kern.gemm(false, true, B, U, 2 * U, dZ, 0, GU, p.R, 0, GU, 0, dh, 0, U);
      }
      for (let i = 0; i < B * U; i++) dh[i] += tmp[i];
    },
  };
}
