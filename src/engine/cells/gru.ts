// GRU cell (Keras GRUCell, https://github.com/keras-team/keras/blob/master/keras/src/layers/rnn/gru.py),
// both forms. Gate order: z, r, h (blocks of U).
//
// reset_after = true (bias (2, 3U): row 0 input side b_x, row 1 recurrent side b_h):
//   [x_z|x_r|x_h] = x_t·K + b_x            [r_z|r_r|r_h] = h_{t−1}·R + b_h      (S holds r_h, the 'rh' tap)
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
// Step Jacobian (x' = the gate's activation slope at its pre-activation):
//   after:  dz = v·R; d~ = σ'⊙(r'⊙dz_r⊙r_h + r⊙dz_h); dh' = z'⊙dz_z⊙(h − h~) + z⊙v + (1 − z)⊙d~
//   before: dz_zr = v·R_zr; d~ = σ'⊙((r'⊙dz_r⊙h + r⊙v)·R_h); dh' likewise
// Per-step contributions: the candidate block's recurrent product is r ⊙ (h_{t−1}·R_h + b_h) (after:
// right operand δ_h ⊙ r, also for the recurrent bias row) or (r ⊙ h_{t−1})·R_h (before: left operand).

import type { RecurrentSpec } from '../../model/types.js';
import { activation } from '../activations.js';
import type { Kernels } from '../kernels-js.js';
import { copyTo, type Arr } from '../tensor.js';
import { accumulateRows, fusedParams, gateSlopes, tanhSigmoid } from './common.js';
import type {
  BackState,
  CellDef,
  CellGrads,
  CellParams,
  CellStep,
  JacobianEnv,
  SeqBuffers,
  StepJacobian,
} from './types.js';

export const gru: CellDef = {
  kind: 'GRU',
  layerClasses: { GRU: {}, CuDNNGRU: { cudnn: true } },
  cellClasses: ['GRUCell'],
  scope: 'gru_cell',
  forms: [
    { name: 'reset_after', options: { resetAfter: true } },
    { name: 'reset_before', options: { resetAfter: false } },
  ],
  gates: [
    { name: 'z', activation: 'recurrent_activation' },
    { name: 'r', activation: 'recurrent_activation' },
    { name: 'h', activation: 'activation' },
  ],
  states: ['h'],
  memory: { gate: 'z', label: 'update gate', keep: 'a' },
  keras1Gates: ['z', 'r', 'h'],
  // CuDNNGRU's (6U,) bias is the input and recurrent rows of GRU(reset_after=True).
  cudnnBias: 'rows',
  // CuDNNGRU is reset_after; Keras 1 GRU is reset-before; TF.js must have it false.
  readOptions: (r, ctx, cls) => ({
    resetAfter: cls.cudnn
      ? true
      : ctx.writer.family === 'keras1'
        ? false
        : r.bool('reset_after', ctx.writer.defaultResetAfter),
  }),
  params: (spec) =>
    fusedParams(
      spec,
      3,
      spec.resetAfter
        ? { shape: [2, 3 * spec.units], hint: `reset_after=true: input and recurrent rows of 3 × units=${spec.units}` }
        : undefined,
    ),

  wasmStep: (spec) => (tanhSigmoid(spec) ? (spec.resetAfter ? 'gru-after' : 'gru-before') : null),

  step(spec: RecurrentSpec): CellStep {
    const rho = activation(spec.recurrentActivation);
    const sig = activation(spec.activation);
    const after = spec.resetAfter;
    // Scratch of B×3U for the recurrent-side product/gradient; sized lazily once per batch size.
    let rs: Arr | null = null;
    const scratch = (n: number, like: Arr): Arr => {
      if (!rs || rs.length < n || rs.constructor !== like.constructor)
        rs = like instanceof Float32Array ? new Float32Array(n) : new Float64Array(n);
      return rs;
    };

    return {
      G: 3,
      hasC: false,
      sWidth: after ? 1 : 0,
      sTap: after ? 'rh' : null,
      // reset_after: only row 0 (input side) goes into P; row 1 is added to h·R each step.
      inputBias: (p) => (p.b ? (after ? p.b.subarray(0, p.b.length / 2) : p.b) : null),

      forwardStep(kern: Kernels, p: CellParams, s: SeqBuffers, k: number, t: number) {
        const { B, U } = s,
          GU = 3 * U;
        const zo = k * B * GU,
          ho = k * B * U,
          hn = (k + 1) * B * U,
          po = t * B * GU;
        const { Z, A, H, S, P } = s;
        const R = scratch(B * GU, Z);
        if (after) {
          kern.gemm(false, false, B, GU, U, H, ho, U, p.R, 0, GU, 0, R, 0, GU);
          for (let b = 0; b < B; b++) {
            const rb = b * GU,
              r = zo + rb,
              pr = po + rb;
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
            const rb = b * GU,
              r = zo + rb,
              pr = po + rb;
            for (let j = 0; j < 2 * U; j++) Z[r + j] = P[pr + j] + R[rb + j];
            rho.forward(Z, r, A, r, 2 * U);
            // R[b, 2U..3U) ← r ⊙ h_{t−1}, the input of the candidate's recurrent product.
            for (let u = 0; u < U; u++) R[rb + 2 * U + u] = A[r + U + u] * H[ho + b * U + u];
          }
          for (let b = 0; b < B; b++) copyTo(Z, zo + b * GU + 2 * U, P, po + b * GU + 2 * U, U);
          kern.gemm(false, false, B, U, U, R, 2 * U, GU, p.R, 2 * U, GU, 1, Z, zo + 2 * U, GU);
        }
        for (let b = 0; b < B; b++) {
          const r = zo + b * GU,
            hb = b * U;
          sig.forward(Z, r + 2 * U, A, r + 2 * U, U);
          for (let u = 0; u < U; u++) {
            const z = A[r + u];
            H[hn + hb + u] = z * H[ho + hb + u] + (1 - z) * A[r + 2 * U + u];
          }
        }
      },

      backwardStep(kern: Kernels, p: CellParams, g: CellGrads, s: SeqBuffers, bs: BackState, k: number) {
        const { B, U } = s,
          GU = 3 * U;
        const zo = k * B * GU,
          ho = k * B * U;
        const { Z, A, H, S } = s;
        const { dh, dZ, tmp } = bs;
        const dRs = scratch(B * GU, Z); // recurrent-side gradient [dz, dr, d(r_h) or da]
        for (let b = 0; b < B; b++) {
          const r = zo + b * GU,
            rb = b * GU,
            hb = b * U;
          for (let u = 0; u < U; u++) {
            const d = dh[hb + u],
              z = A[r + u];
            dZ[rb + u] = d * (H[ho + hb + u] - A[r + 2 * U + u]);
            dZ[rb + 2 * U + u] = d * (1 - z);
            tmp[hb + u] = d * z; // direct path h_{t−1} → h_t
          }
          sig.backward(Z, r + 2 * U, A, r + 2 * U, dZ, rb + 2 * U, dZ, rb + 2 * U, U);
        }
        if (after) {
          for (let b = 0; b < B; b++) {
            const r = zo + b * GU,
              rb = b * GU;
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
            const r = zo + b * GU,
              rb = b * GU,
              hb = b * U;
            for (let u = 0; u < U; u++) {
              const gu = dRs[rb + u],
                hp = H[ho + hb + u];
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
  },

  jacobian(spec: RecurrentSpec, env: JacobianEnv): StepJacobian {
    const { S, U } = env,
      GU = 3 * U,
      dim = U;
    const before = !spec.resetAfter;
    // The products with R: jvp X·R (reset_before: X·R_zr and (r⊙h)·R_h), vjp Y·Rᵀ (R_hᵀ, R_zrᵀ).
    const all = before ? null : env.rProduct(false, U, GU, 0),
      allT = before ? null : env.rProduct(true, GU, U, 0);
    const zr = before ? env.rProduct(false, U, 2 * U, 0) : null,
      h = before ? env.rProduct(false, U, U, 2 * U) : null;
    const hT = before ? env.rProduct(true, U, U, 2 * U) : null,
      zrT = before ? env.rProduct(true, 2 * U, U, 0) : null;
    const sl = gateSlopes(gru, spec, env),
      D = sl.D;
    const A = env.taps.gates!,
      Hp = env.taps.hPrev!,
      RH = env.taps.rh;
    const DZ = env.mk(S * GU),
      TMP = env.mk(S * U);
    const rows: number[] = new Array(S).fill(0);
    return {
      dim: 1,
      at(row) {
        sl.at(row);
        for (let i = 0; i < S; i++) rows[i] = row(i);
      },
      jvp(X, Out) {
        if (before) {
          zr!.mul(X, 0, dim, 0, DZ, 0, GU);
          for (let i = 0; i < S; i++) {
            const go = rows[i]! * GU,
              ho = rows[i]! * U;
            for (let j = 0; j < U; j++)
              TMP[i * U + j] =
                D[i * GU + U + j]! * DZ[i * GU + U + j]! * Hp[ho + j]! + A[go + U + j]! * X[i * dim + j]!;
          }
          h!.mul(TMP, 0, U, 0, DZ, 2 * U, GU);
        } else all!.mul(X, 0, dim, 0, DZ, 0, GU);
        for (let i = 0; i < S; i++) {
          const go = rows[i]! * GU,
            ho = rows[i]! * U,
            d = i * GU,
            x = i * dim;
          for (let j = 0; j < U; j++) {
            const zz = A[go + j]!,
              hh = A[go + 2 * U + j]!;
            const dcand = spec.resetAfter
              ? D[d + 2 * U + j]! *
                (D[d + U + j]! * DZ[d + U + j]! * RH![ho + j]! + A[go + U + j]! * DZ[d + 2 * U + j]!)
              : D[d + 2 * U + j]! * DZ[d + 2 * U + j]!;
            Out[x + j] = D[d + j]! * DZ[d + j]! * (Hp[ho + j]! - hh) + zz * X[x + j]! + (1 - zz) * dcand;
          }
        }
      },
      vjp(Y, Out) {
        for (let i = 0; i < S; i++) {
          const go = rows[i]! * GU,
            ho = rows[i]! * U,
            d = i * GU,
            x = i * dim;
          for (let j = 0; j < U; j++) {
            const zz = A[go + j]!,
              hh = A[go + 2 * U + j]!;
            DZ[d + j] = D[d + j]! * Y[x + j]! * (Hp[ho + j]! - hh);
            Out[x + j] = zz * Y[x + j]!;
            const dcand = (1 - zz) * Y[x + j]! * D[d + 2 * U + j]!;
            if (spec.resetAfter) {
              DZ[d + U + j] = D[d + U + j]! * dcand * RH![ho + j]!;
              DZ[d + 2 * U + j] = A[go + U + j]! * dcand;
            } else DZ[d + 2 * U + j] = dcand;
          }
        }
        if (before) {
          // TMP = d~·R_hᵀ (the gradient of r ⊙ h), then the reset gate and the direct r ⊙ h path.
          hT!.mul(DZ, 2 * U, GU, 0, TMP, 0, U);
          for (let i = 0; i < S; i++) {
            const go = rows[i]! * GU,
              ho = rows[i]! * U;
            for (let j = 0; j < U; j++) {
              DZ[i * GU + U + j] = D[i * GU + U + j]! * TMP[i * U + j]! * Hp[ho + j]!;
              Out[i * dim + j] = Out[i * dim + j]! + A[go + U + j]! * TMP[i * U + j]!;
            }
          }
          zrT!.mul(DZ, 0, GU, 1, Out, 0, dim);
        } else allT!.mul(DZ, 0, GU, 1, Out, 0, dim);
      },
    };
  },

  contributions: {
    block: 2,
    operands(spec, taps) {
      const B = taps.batch,
        T = taps.steps,
        U = spec.units,
        GU = 3 * U,
        d = taps.data;
      const delta = d.gateGrad!,
        gates = d.gates!,
        hp = d.hPrev!;
      const out: Arr = delta instanceof Float32Array ? new Float32Array(B * T * U) : new Float64Array(B * T * U);
      if (spec.resetAfter) {
        // reset_after multiplies the candidate's recurrent term by r: it acts on r ⊙ (h·R_h + b_h).
        for (let bt = 0; bt < B * T; bt++)
          for (let u = 0; u < U; u++) out[bt * U + u] = delta[bt * GU + 2 * U + u]! * gates[bt * GU + U + u]!;
        return { left: null, right: out };
      }
      // reset_before: the candidate's recurrent product is (r ⊙ h_{t−1})·R_h.
      for (let bt = 0; bt < B * T; bt++)
        for (let u = 0; u < U; u++) out[bt * U + u] = gates[bt * GU + U + u]! * hp[bt * U + u]!;
      return { left: out, right: null };
    },
  },
};
