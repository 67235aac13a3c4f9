// LSTM cell (Keras LSTMCell, https://github.com/keras-team/keras/blob/master/keras/src/layers/rnn/lstm.py).
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
// Step Jacobian of s = (h, c), x' = the gate's activation slope at its pre-activation:
//   dz = v_h·R;  dc' = f'⊙c_{t−1}⊙dz_f + f⊙v_c + i'⊙c~⊙dz_i + i⊙c~'⊙dz_c;  dh' = o'⊙σ(c_t)⊙dz_o + o⊙σ'(c_t)⊙dc'
//   and Jᵀ runs the same lines backwards.
//
// Keras note: Keras adds (x·K + h·R) + b; we add the bias into P before the loop,
// i.e. (x·K + b) + h·R like Keras's torch backend. Different float32 rounding order only.

import type { RecurrentSpec } from '../../model/types.js';
import { activation, type ActFn } from '../activations.js';
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

export const lstm: CellDef = {
  kind: 'LSTM',
  layerClasses: { LSTM: {}, CuDNNLSTM: { cudnn: true } },
  cellClasses: ['LSTMCell'],
  scope: 'lstm_cell',
  gates: [
    { name: 'i', activation: 'recurrent_activation' },
    { name: 'f', activation: 'recurrent_activation' },
    { name: 'c', activation: 'activation' },
    { name: 'o', activation: 'recurrent_activation' },
  ],
  states: ['h', 'c'],
  memory: { gate: 'f', label: 'forget gate', keep: 'a' },
  // Keras 1 saved per-gate arrays in the order i, c, f, o.
  keras1Gates: ['i', 'c', 'f', 'o'],
  cudnnBias: 'sum',
  params: (spec) => fusedParams(spec, 4),
  wasmStep: (spec) => (tanhSigmoid(spec) ? 'lstm' : null),

  step(spec: RecurrentSpec): CellStep {
    const rho: ActFn = activation(spec.recurrentActivation);
    const sig: ActFn = activation(spec.activation);
    return {
      G: 4,
      hasC: true,
      sWidth: 1,
      sTap: null,
      inputBias: (p) => p.b,

      forwardStep(kern: Kernels, p: CellParams, s: SeqBuffers, k: number, t: number) {
        const { B, U } = s,
          GU = 4 * U;
        const zo = k * B * GU,
          ho = k * B * U;
        copyTo(s.Z, zo, s.P, t * B * GU, B * GU);
        kern.gemm(false, false, B, GU, U, s.H, ho, U, p.R, 0, GU, 1, s.Z, zo, GU);
        lstmGatesForward(rho, sig, s, k);
      },

      totalDc(_p: CellParams, s: SeqBuffers, bs: BackState, k: number, b: number, out: Arr, oo: number) {
        const { B, U } = s,
          GU = 4 * U;
        const r = k * B * GU + b * GU,
          ho = k * B * U + b * U,
          hn = (k + 1) * B * U + b * U;
        for (let u = 0; u < U; u++) out[oo + u] = bs.dh[b * U + u]! * s.A[r + 3 * U + u]!;
        sig.backward(s.C, hn, s.S, ho, out, oo, out, oo, U);
        for (let u = 0; u < U; u++) out[oo + u] = out[oo + u]! + bs.dc[b * U + u]!;
      },

      backwardStep(kern: Kernels, p: CellParams, g: CellGrads, s: SeqBuffers, bs: BackState, k: number) {
        const { B, U } = s,
          GU = 4 * U;
        const ho = k * B * U;
        lstmGatesBackward(rho, sig, s, bs, k);
        kern.gemm(true, false, U, GU, B, s.H, ho, U, bs.dZ, 0, GU, 1, g.dR, 0, GU);
        if (g.db) accumulateRows(g.db, 0, bs.dZ, B, GU);
        kern.gemm(false, true, B, U, GU, bs.dZ, 0, GU, p.R, 0, GU, 0, bs.dh, 0, U);
      },
    };
  },

  jacobian(spec: RecurrentSpec, env: JacobianEnv): StepJacobian {
    const { S, U } = env,
      GU = 4 * U,
      dim = 2 * U;
    const byR = env.rProduct(false, U, GU, 0),
      byRT = env.rProduct(true, GU, U, 0);
    const sl = gateSlopes(lstm, spec, env),
      D = sl.D;
    const sigAct = activation(spec.activation);
    const A = env.taps.gates!,
      Cp = env.taps.cPrev!,
      Ct = env.taps.c!;
    // Per probed sample: σ(c_t), σ'(c_t); the gate pre-activation products DZ.
    const SC = env.mk(S * U),
      DSC = env.mk(S * U),
      ones = env.mk(Math.max(U, 1)).fill(1),
      DZ = env.mk(S * GU);
    const rows: number[] = new Array(S).fill(0);
    return {
      dim: 2,
      at(row) {
        sl.at(row);
        for (let i = 0; i < S; i++) {
          rows[i] = row(i);
          sigAct.forward(Ct, rows[i]! * U, SC, i * U, U);
          sigAct.backward(Ct, rows[i]! * U, SC, i * U, ones, 0, DSC, i * U, U);
        }
      },
      jvp(X, Out) {
        byR.mul(X, 0, dim, 0, DZ, 0, GU);
        for (let i = 0; i < S; i++) {
          const go = rows[i]! * GU,
            ho = rows[i]! * U,
            d = i * GU,
            x = i * dim;
          for (let j = 0; j < U; j++) {
            const dcn =
              D[d + U + j]! * DZ[d + U + j]! * Cp[ho + j]! +
              A[go + U + j]! * X[x + U + j]! +
              D[d + j]! * DZ[d + j]! * A[go + 2 * U + j]! +
              A[go + j]! * D[d + 2 * U + j]! * DZ[d + 2 * U + j]!;
            Out[x + j] =
              D[d + 3 * U + j]! * DZ[d + 3 * U + j]! * SC[i * U + j]! + A[go + 3 * U + j]! * DSC[i * U + j]! * dcn;
            Out[x + U + j] = dcn;
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
            const dcn = Y[x + U + j]! + Y[x + j]! * A[go + 3 * U + j]! * DSC[i * U + j]!;
            DZ[d + 3 * U + j] = D[d + 3 * U + j]! * Y[x + j]! * SC[i * U + j]!;
            DZ[d + U + j] = D[d + U + j]! * dcn * Cp[ho + j]!;
            DZ[d + j] = D[d + j]! * dcn * A[go + 2 * U + j]!;
            DZ[d + 2 * U + j] = A[go + j]! * D[d + 2 * U + j]! * dcn;
            Out[x + j] = 0;
            Out[x + U + j] = A[go + U + j]! * dcn;
          }
        }
        byRT.mul(DZ, 0, GU, 1, Out, 0, dim);
      },
    };
  },
};

/**
 * The gate nonlinearities and new state of step k, from the pre-activations already in Z[k] (input
 * side plus recurrent product): A[k], C[k+1], S[k] = σ(c_t), H[k+1]. Shared with cells whose products
 * differ but whose gates are LSTM's (ConvLSTM).
 */
export function lstmGatesForward(rho: ActFn, sig: ActFn, s: SeqBuffers, k: number): void {
  const { B, U } = s,
    GU = 4 * U;
  const zo = k * B * GU,
    ho = k * B * U,
    hn = (k + 1) * B * U;
  const { Z, A, H, C, S } = s;
  for (let b = 0; b < B; b++) {
    const r = zo + b * GU;
    rho.forward(Z, r, A, r, U); // i
    rho.forward(Z, r + U, A, r + U, U); // f
    sig.forward(Z, r + 2 * U, A, r + 2 * U, U); // c~
    rho.forward(Z, r + 3 * U, A, r + 3 * U, U); // o
    const cp = ho + b * U,
      cn = hn + b * U;
    for (let u = 0; u < U; u++) C[cn + u] = A[r + U + u] * C[cp + u] + A[r + u] * A[r + 2 * U + u];
    sig.forward(C, cn, S, ho + b * U, U);
    for (let u = 0; u < U; u++) H[cn + u] = A[r + 3 * U + u] * S[ho + b * U + u];
  }
}

/**
 * Backward through step k's gates: from bs.dh, bs.dc (state after the step) writes bs.dZ (pre-activation
 * gradients, B×4U) and overwrites bs.dc with ∂L/∂c_{t−1}; the recurrent products are the caller's.
 */
export function lstmGatesBackward(rho: ActFn, sig: ActFn, s: SeqBuffers, bs: BackState, k: number): void {
  const { B, U } = s,
    GU = 4 * U;
  const zo = k * B * GU,
    ho = k * B * U,
    hn = (k + 1) * B * U;
  const { Z, A, C, S } = s;
  const { dh, dc, dZ, tmp } = bs;
  for (let b = 0; b < B; b++) {
    const r = zo + b * GU,
      rb = b * GU,
      ub = b * U;
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
}
