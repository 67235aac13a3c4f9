// Per-step contributions of a ConvLSTM layer (engine/cells/conv-lstm.ts). Its kernel gradient is a sum
// over samples AND positions: C_t = Σ_n s_n Σ_pos cols(x_{t,n})[pos]ᵀ δ_{t,n}[pos] per gate block,
// (kernel positions × channels, filters); the recurrent kernel's likewise with cols(h_{t−1,n}) of the
// recurrent convolution; the bias's C_t = Σ_n s_n Σ_pos δ_{t,n}[pos]. So the dense contributions
// (contributions.ts) hold with each (sample, position) as one row: Σ_t C_t is the layer's gradient.
// The taps are gate-major per sample (gate, position, filter), so δ_g of one sample is a (positions ×
// filters) block and each product is one gemm.

import type { ConvGeometry } from '../model/types.js';
import { geomND, im2col, tapList, type TapList } from '../engine/cells/conv-nd.js';
import type { Kernels } from '../engine/kernels-js.js';
import type { Arr } from '../engine/tensor.js';
import type { Contributions, Operands } from './contributions.js';

export interface ConvOperands {
  ti: TapList;
  tr: TapList;
  F: number;
}

export function convOperands(c: ConvGeometry): ConvOperands {
  const ones = c.kernelSize.map(() => 1);
  return {
    ti: tapList(geomND(c.inSpatial, c.channels, c.kernelSize, c.strides, c.dilationRate, c.padding)),
    tr: tapList(geomND(c.outSpatial, c.filters, c.kernelSize, ones, ones, 'same')),
    F: c.filters,
  };
}

/** Adds one batch's s·C_t into the matrices of every step (matrix mode, the only one for ConvLSTM). */
export function addConvBatch(c: Contributions, cv: ConvOperands, op: Operands, kern: Kernels): void {
  const { T, G, biasRows: nb } = c,
    F = cv.F,
    GF = G * F;
  const P = cv.ti.g.P,
    Us = P * F,
    GUs = G * Us;
  const Xw = cv.ti.g.n[0] * cv.ti.g.n[1] * cv.ti.g.n[2] * cv.ti.g.C;
  const like = (n: number): Arr => (op.delta instanceof Float32Array ? new Float32Array(n) : new Float64Array(n));
  const cols = like(P * Math.max(c.I, c.Ur)),
    tmp = like(Math.max(c.I, c.Ur) * F);
  const side = (
    t: TapList,
    src: Arr,
    srcOff: number,
    K: number,
    dst: Float64Array,
    dOff: number,
    dOp: number,
  ): void => {
    im2col(t, src, srcOff, cols, 0);
    for (let g = 0; g < G; g++) {
      kern.gemm(true, false, K, F, P, cols, 0, K, op.delta, dOp + g * Us, F, 0, tmp, 0, F);
      for (let r = 0; r < K; r++)
        for (let f = 0; f < F; f++) dst[dOff + r * GF + g * F + f] += tmp[r * F + f]! * op.scale;
    }
  };
  for (let t = 0; t < T; t++)
    for (let b = 0; b < op.B; b++) {
      const bt = b * T + t,
        dOp = bt * GUs;
      side(cv.ti, op.x, bt * Xw, c.I, c.cK!, t * c.I * GF, dOp);
      side(cv.tr, op.hp, bt * Us, c.Ur, c.cR!, t * c.Ur * GF, dOp);
      if (nb && c.cB)
        for (let g = 0; g < G; g++)
          for (let o = dOp + g * Us; o < dOp + (g + 1) * Us; o += F)
            for (let f = 0; f < F; f++) c.cB[t * GF + g * F + f] += op.delta[o + f]! * op.scale;
    }
}
