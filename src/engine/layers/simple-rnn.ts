// SimpleRNN cell (Keras SimpleRNNCell; keras-formats.md §4.5). One gate, "h".
//   z   = (x_t·K + b) + h_{t−1}·R
//   h_t = σ(z)
// Backward:
//   dz = dh ⊙ σ'(z)     dh_{t−1} = dz·Rᵀ     dR += h_{t−1}ᵀ·dz     db += Σ_b dz
// (dz is also the gradient of the input projection P; the loop turns it into dK and dX.)

import type { RecurrentSpec } from '../../model/types.js';
import { activation } from '../activations.js';
import type { Kernels } from '../kernels.js';
import { copyTo } from '../tensor.js';
import type { BackState, Cell, CellGrads, CellParams, SeqBuffers } from './cell.js';
import { accumulateRows } from './lstm.js';

export function simpleRnnCell(spec: RecurrentSpec): Cell {
  const sig = activation(spec.activation);
  return {
    G: 1,
    hasC: false,
    sWidth: 0,
    inputBias: (p) => p.b,

    forwardStep(kern: Kernels, p: CellParams, s: SeqBuffers, k: number, t: number) {
      const { B, U } = s;
      const zo = k * B * U, hn = (k + 1) * B * U;
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
}
