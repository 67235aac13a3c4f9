// SimpleRNN cell (Keras SimpleRNNCell; docs/formats.md). One gate, "h".
//   z   = (x_t·K + b) + h_{t−1}·R
//   h_t = σ(z)                                   σ = activation
// Backward:
//   dz = dh ⊙ σ'(z)     dh_{t−1} = dz·Rᵀ     dR += h_{t−1}ᵀ·dz     db += Σ_b dz
// (dz is also the gradient of the input projection P; the loop turns it into dK and dX.)
// Step Jacobian: J v = σ'(z) ⊙ (v·R)     Jᵀu = (σ'(z) ⊙ u)·Rᵀ

import type { RecurrentSpec } from '../../model/types.js';
import { activation } from '../activations.js';
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

export const simpleRnn: CellDef = {
  kind: 'SimpleRNN',
  layerClasses: { SimpleRNN: {} },
  cellClasses: ['SimpleRNNCell'],
  scope: 'simple_rnn_cell',
  gates: [{ name: 'h', activation: 'activation' }],
  states: ['h'],
  params: (spec) => fusedParams(spec, 1),
  wasmStep: (spec) => (spec.activation.name === 'tanh' ? 'simple-rnn' : null),

  step(spec: RecurrentSpec): CellStep {
    const sig = activation(spec.activation);
    return {
      G: 1,
      hasC: false,
      sWidth: 0,
      sTap: null,
      inputBias: (p) => p.b,

      forwardStep(kern: Kernels, p: CellParams, s: SeqBuffers, k: number, t: number) {
        const { B, U } = s;
        const zo = k * B * U,
          hn = (k + 1) * B * U;
        copyTo(s.Z, zo, s.P, t * B * U, B * U);
        kern.gemm(false, false, B, U, U, s.H, zo, U, p.R, 0, U, 1, s.Z, zo, U);
        for (let b = 0; b < B; b++) sig.forward(s.Z, zo + b * U, s.A, zo + b * U, U);
        copyTo(s.H, hn, s.A, zo, B * U);
      },

      backwardStep(kern: Kernels, p: CellParams, g: CellGrads, s: SeqBuffers, bs: BackState, k: number) {
        const { B, U } = s;
        const zo = k * B * U;
        for (let b = 0; b < B; b++) sig.backward(s.Z, zo + b * U, s.A, zo + b * U, bs.dh, b * U, bs.dZ, b * U, U);
        kern.gemm(true, false, U, U, B, s.H, zo, U, bs.dZ, 0, U, 1, g.dR, 0, U);
        if (g.db) accumulateRows(g.db, 0, bs.dZ, B, U);
        kern.gemm(false, true, B, U, U, bs.dZ, 0, U, p.R, 0, U, 0, bs.dh, 0, U);
      },
    };
  },

  jacobian(spec: RecurrentSpec, env: JacobianEnv): StepJacobian {
    const { S, U } = env;
    const byR = env.rProduct(false, U, U, 0),
      byRT = env.rProduct(true, U, U, 0);
    const sl = gateSlopes(simpleRnn, spec, env),
      D = sl.D;
    const DZ: Arr = env.mk(S * U);
    return {
      dim: 1,
      at: sl.at,
      jvp(X, Out) {
        byR.mul(X, 0, U, 0, DZ, 0, U);
        for (let i = 0; i < S * U; i++) Out[i] = D[i]! * DZ[i]!;
      },
      vjp(Y, Out) {
        for (let i = 0; i < S * U; i++) DZ[i] = D[i]! * Y[i]!;
        byRT.mul(DZ, 0, U, 0, Out, 0, U);
      },
    };
  },
};
