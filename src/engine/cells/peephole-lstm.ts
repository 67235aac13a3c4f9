// Peephole LSTM cell (tf.keras.experimental.PeepholeLSTMCell, used as RNN(PeepholeLSTMCell(...));
// https://github.com/tensorflow/tensorflow/blob/r2.2/tensorflow/python/keras/layers/recurrent.py,
// class PeepholeLSTMCell). LSTMCell's weights plus three diagonal peephole weights, created after
// them (weight order: kernel, recurrent_kernel, bias, input_gate_peephole_weights,
// forget_gate_peephole_weights, output_gate_peephole_weights), each (U,).
//
// Gate order i, f, c, o (blocks of U); p_i, p_f, p_o the peephole weights:
//   z   = x_t·K + h_{t−1}·R + b                               (B × 4U)
//   i = ρ(z_i + p_i ⊙ c_{t−1})   f = ρ(z_f + p_f ⊙ c_{t−1})   c~ = σ(z_c)
//   c_t = f ⊙ c_{t−1} + i ⊙ c~
//   o = ρ(z_o + p_o ⊙ c_t)                                    (the NEW cell state)
//   h_t = o ⊙ σ(c_t)                                          ρ = recurrent_activation, σ = activation
// Z holds the pre-activations with the peephole terms, so the 'z' and 'gateGrad' taps are those of
// the gate inputs; gateGrad·Kᵀ is still ∂L/∂x_t.
// Backward, bottom-up (dZ_g = gradient of gate g's pre-activation):
//   dZ_o = dh ⊙ σ(c_t) ⊙ ρ'            dc = dc_in + dh ⊙ o ⊙ σ'(c_t) + dZ_o ⊙ p_o
//   dZ_i = dc ⊙ c~ ⊙ ρ'   dZ_f = dc ⊙ c_{t−1} ⊙ ρ'   dZ_c = dc ⊙ i ⊙ σ'
//   dc_{t−1} = dc ⊙ f + dZ_i ⊙ p_i + dZ_f ⊙ p_f
//   dp_i += Σ_b dZ_i ⊙ c_{t−1}   dp_f += Σ_b dZ_f ⊙ c_{t−1}   dp_o += Σ_b dZ_o ⊙ c_t
//   dh_{t−1} = dZ·Rᵀ   dR += h_{t−1}ᵀ·dZ   db += Σ_b dZ
// Step Jacobian of s = (h, c) (x' = the gate's activation slope at its pre-activation):
//   dz = v_h·R;  dz_i += p_i⊙v_c;  dz_f += p_f⊙v_c
//   dc' = f'⊙c_{t−1}⊙dz_f + f⊙v_c + i'⊙c~⊙dz_i + i⊙c~'⊙dz_c;   dz_o += p_o⊙dc'
//   dh' = o'⊙σ(c_t)⊙dz_o + o⊙σ'(c_t)⊙dc'
//   and Jᵀ runs the same lines backwards.
// The per-step contributions to kernel, recurrent_kernel and bias are the plain x_tᵀδ, h_{t−1}ᵀδ, δ.
//
// Keras note: Keras adds ((x·K + h·R) + b) + p ⊙ c; we add ((x·K + b) + h·R) + p ⊙ c. Float32
// rounding order only.

import type { RecurrentSpec } from '../../model/types.js';
import { activation, type ActFn } from '../activations.js';
import type { Kernels } from '../kernels-js.js';
import { copyTo, type Arr } from '../tensor.js';
import { accumulateRows, fusedParams, gateSlopes } from './common.js';
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

const PI = 'input_gate_peephole_weights',
  PF = 'forget_gate_peephole_weights',
  PO = 'output_gate_peephole_weights';

export const peepholeLstm: CellDef = {
  kind: 'PeepholeLSTM',
  // No layer class of its own: Keras runs it as RNN(PeepholeLSTMCell(...)).
  layerClasses: {},
  cellClasses: ['PeepholeLSTMCell'],
  scope: 'peephole_lstm_cell',
  gates: [
    { name: 'i', activation: 'recurrent_activation' },
    { name: 'f', activation: 'recurrent_activation' },
    { name: 'c', activation: 'activation' },
    { name: 'o', activation: 'recurrent_activation' },
  ],
  states: ['h', 'c'],
  memory: { gate: 'f', label: 'forget gate', keep: 'a' },
  params: (spec) => [
    ...fusedParams(spec, 4),
    ...[PI, PF, PO].map((name) => ({
      name,
      shape: [spec.units],
      hint: `units=${spec.units} (one peephole weight per unit)`,
    })),
  ],

  step(spec: RecurrentSpec): CellStep {
    const rho: ActFn = activation(spec.recurrentActivation);
    const sig: ActFn = activation(spec.activation);
    let scratch: Arr | null = null;
    const tmpOf = (U: number, like: Arr): Arr => {
      if (!scratch || scratch.length < U || scratch.constructor !== like.constructor) {
        scratch = like instanceof Float32Array ? new Float32Array(U) : new Float64Array(U);
      }
      return scratch;
    };
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
          ho = k * B * U,
          hn = (k + 1) * B * U;
        const { Z, A, H, C, S } = s;
        const pi = p.extra[PI]!,
          pf = p.extra[PF]!,
          po = p.extra[PO]!;
        copyTo(Z, zo, s.P, t * B * GU, B * GU);
        kern.gemm(false, false, B, GU, U, H, ho, U, p.R, 0, GU, 1, Z, zo, GU);
        for (let b = 0; b < B; b++) {
          const r = zo + b * GU,
            cp = ho + b * U,
            cn = hn + b * U;
          for (let u = 0; u < U; u++) {
            Z[r + u] += pi[u]! * C[cp + u]!;
            Z[r + U + u] += pf[u]! * C[cp + u]!;
          }
          rho.forward(Z, r, A, r, U); // i
          rho.forward(Z, r + U, A, r + U, U); // f
          sig.forward(Z, r + 2 * U, A, r + 2 * U, U); // c~
          for (let u = 0; u < U; u++) C[cn + u] = A[r + U + u]! * C[cp + u]! + A[r + u]! * A[r + 2 * U + u]!;
          for (let u = 0; u < U; u++) Z[r + 3 * U + u] += po[u]! * C[cn + u]!;
          rho.forward(Z, r + 3 * U, A, r + 3 * U, U); // o
          sig.forward(C, cn, S, ho + b * U, U);
          for (let u = 0; u < U; u++) H[cn + u] = A[r + 3 * U + u]! * S[ho + b * U + u]!;
        }
      },

      // ∂L/∂c_t in total: the carried bs.dc plus both paths into h_t (σ(c_t) and o's peephole).
      totalDc(p: CellParams, s: SeqBuffers, bs: BackState, k: number, b: number, out: Arr, oo: number) {
        const { B, U } = s,
          GU = 4 * U;
        const r = k * B * GU + b * GU,
          ho = k * B * U + b * U,
          hn = (k + 1) * B * U + b * U;
        const dO = tmpOf(U, out);
        for (let u = 0; u < U; u++) dO[u] = bs.dh[b * U + u]! * s.S[ho + u]!;
        rho.backward(s.Z, r + 3 * U, s.A, r + 3 * U, dO, 0, dO, 0, U);
        for (let u = 0; u < U; u++) out[oo + u] = bs.dh[b * U + u]! * s.A[r + 3 * U + u]!;
        sig.backward(s.C, hn, s.S, ho, out, oo, out, oo, U);
        const po = p.extra[PO]!;
        for (let u = 0; u < U; u++) out[oo + u] = out[oo + u]! + bs.dc[b * U + u]! + dO[u]! * po[u]!;
      },

      backwardStep(kern: Kernels, p: CellParams, g: CellGrads, s: SeqBuffers, bs: BackState, k: number) {
        const { B, U } = s,
          GU = 4 * U;
        const zo = k * B * GU,
          ho = k * B * U,
          hn = (k + 1) * B * U;
        const { Z, A, C, S } = s;
        const { dh, dc, dZ, tmp } = bs;
        const pi = p.extra[PI]!,
          pf = p.extra[PF]!,
          po = p.extra[PO]!;
        const dpi = g.dExtra[PI]!,
          dpf = g.dExtra[PF]!,
          dpo = g.dExtra[PO]!;
        for (let b = 0; b < B; b++) {
          const r = zo + b * GU,
            rb = b * GU,
            ub = b * U;
          // o first: its pre-activation gradient also reaches c_t through the peephole.
          for (let u = 0; u < U; u++) dZ[rb + 3 * U + u] = dh[ub + u]! * S[ho + ub + u]!;
          rho.backward(Z, r + 3 * U, A, r + 3 * U, dZ, rb + 3 * U, dZ, rb + 3 * U, U);
          // dc += dh ⊙ o ⊙ σ'(c_t) + dZ_o ⊙ p_o
          for (let u = 0; u < U; u++) tmp[ub + u] = dh[ub + u]! * A[r + 3 * U + u]!;
          sig.backward(C, hn + ub, S, ho + ub, tmp, ub, tmp, ub, U);
          for (let u = 0; u < U; u++) {
            const dcu = dc[ub + u]! + tmp[ub + u]! + dZ[rb + 3 * U + u]! * po[u]!;
            dZ[rb + u] = dcu * A[r + 2 * U + u]!; // dI
            dZ[rb + U + u] = dcu * C[ho + ub + u]!; // dF
            dZ[rb + 2 * U + u] = dcu * A[r + u]!; // dC~
            dc[ub + u] = dcu * A[r + U + u]!; // through f; the peepholes are added below
          }
          rho.backward(Z, r, A, r, dZ, rb, dZ, rb, U);
          rho.backward(Z, r + U, A, r + U, dZ, rb + U, dZ, rb + U, U);
          sig.backward(Z, r + 2 * U, A, r + 2 * U, dZ, rb + 2 * U, dZ, rb + 2 * U, U);
          for (let u = 0; u < U; u++) {
            const cp = C[ho + ub + u]!,
              di = dZ[rb + u]!,
              df = dZ[rb + U + u]!;
            dc[ub + u] = dc[ub + u]! + di * pi[u]! + df * pf[u]!;
            dpi[u] += di * cp;
            dpf[u] += df * cp;
            dpo[u] += dZ[rb + 3 * U + u]! * C[hn + ub + u]!;
          }
        }
        kern.gemm(true, false, U, GU, B, s.H, ho, U, dZ, 0, GU, 1, g.dR, 0, GU);
        if (g.db) accumulateRows(g.db, 0, dZ, B, GU);
        kern.gemm(false, true, B, U, GU, dZ, 0, GU, p.R, 0, GU, 0, dh, 0, U);
      },
    };
  },

  jacobian(spec: RecurrentSpec, env: JacobianEnv): StepJacobian {
    const { S, U } = env,
      GU = 4 * U,
      dim = 2 * U;
    const byR = env.rProduct(false, U, GU, 0),
      byRT = env.rProduct(true, GU, U, 0);
    const sl = gateSlopes(peepholeLstm, spec, env),
      D = sl.D;
    const sigAct = activation(spec.activation);
    const A = env.taps.gates!,
      Cp = env.taps.cPrev!,
      Ct = env.taps.c!;
    const pi = env.params.extra[PI]!,
      pf = env.params.extra[PF]!,
      po = env.params.extra[PO]!;
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
            const vc = X[x + U + j]!;
            const zi = DZ[d + j]! + pi[j]! * vc,
              zf = DZ[d + U + j]! + pf[j]! * vc;
            const dcn =
              D[d + U + j]! * zf * Cp[ho + j]! +
              A[go + U + j]! * vc +
              D[d + j]! * zi * A[go + 2 * U + j]! +
              A[go + j]! * D[d + 2 * U + j]! * DZ[d + 2 * U + j]!;
            const zo = DZ[d + 3 * U + j]! + po[j]! * dcn;
            Out[x + j] = D[d + 3 * U + j]! * zo * SC[i * U + j]! + A[go + 3 * U + j]! * DSC[i * U + j]! * dcn;
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
            const dzo = D[d + 3 * U + j]! * Y[x + j]! * SC[i * U + j]!;
            const dcn = Y[x + U + j]! + Y[x + j]! * A[go + 3 * U + j]! * DSC[i * U + j]! + dzo * po[j]!;
            DZ[d + 3 * U + j] = dzo;
            DZ[d + U + j] = D[d + U + j]! * dcn * Cp[ho + j]!;
            DZ[d + j] = D[d + j]! * dcn * A[go + 2 * U + j]!;
            DZ[d + 2 * U + j] = A[go + j]! * D[d + 2 * U + j]! * dcn;
            Out[x + j] = 0;
            Out[x + U + j] = A[go + U + j]! * dcn + pi[j]! * DZ[d + j]! + pf[j]! * DZ[d + U + j]!;
          }
        }
        byRT.mul(DZ, 0, GU, 1, Out, 0, dim);
      },
    };
  },
};
