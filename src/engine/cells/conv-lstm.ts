// ConvLSTM cell (Keras ConvLSTM1D / ConvLSTM2D / ConvLSTM3D; docs/conv-lstm.md): LSTM's gates with
// convolutions in place of the two products, channels_last.
//   z   = conv(x_t, K; strides, padding, dilation) + conv(h_{t−1}, R; stride 1, 'same') + b   (gates i, f, c, o)
//   i, f, c~, o and c_t, h_t as in lstm.ts (the gate code is shared: lstmGatesForward / lstmGatesBackward)
// Kernel (…kernel_size, C, 4F), recurrent_kernel (…kernel_size, F, 4F), bias (4F,), F = filters.
//
// Layout: the sequence loop sees a sample's state (…outSpatial, F) flattened to U = positions·F (Keras's
// own order), and its pre-activations gate-major: G blocks of U, each (positions, F), so every per-step
// tap, the Jacobian's elementwise part and the analysis read them as they read a dense LSTM's.
// Products (im2col + one gemm per frame for all gates, (positions × 4F), moved to / from gate-major):
//   input     P = cols(x_t) · K                       dK += cols(x_t)ᵀ · dP,  dx_t = col2im(dP · Kᵀ)
//   recurrent Z += cols(h_{t−1}) · R                  dR += cols(h_{t−1})ᵀ · dZ, dh_{t−1} = col2im(dZ · Rᵀ)
//   bias      P_g[pos, :] += b_g                       db_g += Σ_{samples, positions} dZ_g
// The bias is added into P before the loop, (conv(x)+b) + conv(h), where Keras adds conv(x)+b and conv(h)
// after: different float32 rounding order only.

import type { ConvGeometry, RecurrentSpec } from '../../model/types.js';
import type { BuildContext, ConfigReader } from '../../model/config-reader.js';
import { activation, type ActFn } from '../activations.js';
import type { Kernels } from '../kernels-js.js';
import type { Arr } from '../tensor.js';
import { col2im, geomND, im2col, tapList, type GeomND, type TapList } from './conv-nd.js';
import { lstm, lstmGatesBackward, lstmGatesForward } from './lstm.js';
import type { CellDef, CellGrads, CellParams, CellStep, LayerClass, ParamDef, RProduct, SeqBuffers } from './types.js';

const G = 4;

/** The tuple option `key` of a rank-r layer: n, [n] or r integers ≥ min. */
function tuple(r: ConfigReader, key: string, rank: number, dflt: number | null, min = 1): number[] {
  const v = r.raw[key];
  if (v === undefined || v === null) {
    if (dflt === null) throw r.bad(key, `${rank} integer(s) ≥ ${min}`);
    return new Array(rank).fill(dflt);
  }
  const list =
    typeof v === 'number'
      ? new Array(rank).fill(v)
      : Array.isArray(v) && v.length === 1
        ? new Array(rank).fill(v[0])
        : v;
  if (
    !Array.isArray(list) ||
    list.length !== rank ||
    !list.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= min)
  )
    throw r.bad(key, `an integer ≥ ${min} or ${rank} of them`);
  return list as number[];
}

function readConv(r: ConfigReader, _ctx: BuildContext, cls: LayerClass): Partial<RecurrentSpec> {
  const rank = cls.convRank ?? 2;
  r.only('data_format', ['channels_last'], 'data_format=channels_last (frames shaped …, rows, cols, channels)');
  r.only('dim_ordering', ['tf', 'default'], "dim_ordering='tf' (channels last)");
  if (r.bool('stateful', false))
    throw r.unsupported('stateful', 'stateful=false (rnnscope starts every sequence from zero)');
  const padding = r.str(['padding', 'border_mode'], 'valid');
  if (padding !== 'valid' && padding !== 'same') throw r.unsupported('padding', 'valid, same');
  const k1 = r.has('nb_row') ? [r.int1('nb_row'), r.int1('nb_col')] : null;
  const conv: ConvGeometry = {
    rank,
    filters: r.int1(['filters', 'nb_filter']),
    kernelSize: k1 ?? tuple(r, 'kernel_size', rank, null),
    strides: tuple(r, r.has('subsample') ? 'subsample' : 'strides', rank, 1),
    padding,
    dilationRate: tuple(r, 'dilation_rate', rank, 1),
    inSpatial: [],
    outSpatial: [],
    channels: -1,
  };
  if (conv.strides.some((s) => s > 1) && conv.dilationRate.some((d) => d > 1))
    throw r.unsupported('dilation_rate', 'dilation_rate=1 when strides > 1 (Keras refuses both together)');
  return { conv, units: -1 };
}

/** Shapes of one call fixed: the input and recurrent convolutions' geometry. */
function geoms(c: ConvGeometry): { gi: GeomND; gr: GeomND } {
  const ones = c.kernelSize.map(() => 1);
  return {
    gi: geomND(c.inSpatial, c.channels, c.kernelSize, c.strides, c.dilationRate, c.padding),
    gr: geomND(c.outSpatial, c.filters, c.kernelSize, ones, ones, 'same'),
  };
}

/** The convolutions of one spec: frame-by-frame products on the given kernels. */
export class ConvProducts {
  readonly ti: TapList;
  readonly tr: TapList;
  readonly F: number;
  readonly U: number;
  readonly I: number;
  private scratch = new Map<unknown, Arr[]>();

  constructor(c: ConvGeometry) {
    const { gi, gr } = geoms(c);
    this.ti = tapList(gi);
    this.tr = tapList(gr);
    this.F = c.filters;
    this.U = gi.P * c.filters;
    this.I = gi.n[0] * gi.n[1] * gi.n[2] * gi.C;
  }

  /** Two column buffers of the larger geometry and one (positions × G·F) block, in the operands' float type. */
  private cols(like: Arr): [Arr, Arr, Arr] {
    const key = like.constructor;
    let s = this.scratch.get(key);
    if (!s) {
      const n = Math.max(this.ti.g.P * this.ti.g.K, this.tr.g.P * this.tr.g.K);
      const mk = (m: number): Arr => (like instanceof Float32Array ? new Float32Array(m) : new Float64Array(m));
      s = [mk(n), mk(n), mk(Math.max(this.ti.g.P, this.tr.g.P) * G * this.F)];
      this.scratch.set(key, s);
    }
    return s as [Arr, Arr, Arr];
  }

  /** Out[oOff..oOff + G·U) (gate-major) = (beta·Out +) conv(frame at x[xOff..], W). */
  forward(kern: Kernels, t: TapList, x: Arr, xOff: number, W: Arr, beta: 0 | 1, out: Arr, oOff: number): void {
    const { P, K } = t.g,
      F = this.F,
      U = this.U;
    const [cols, , pm] = this.cols(x);
    im2col(t, x, xOff, cols, 0);
    // One product for all gates, (positions × G·F), then into the gate-major layout.
    kern.gemm(false, false, P, G * F, K, cols, 0, K, W, 0, G * F, 0, pm, 0, G * F);
    for (let p = 0; p < P; p++)
      for (let g = 0; g < G; g++) {
        const a = p * G * F + g * F,
          o = oOff + g * U + p * F;
        if (beta === 0) for (let f = 0; f < F; f++) out[o + f] = pm[a + f]!;
        else for (let f = 0; f < F; f++) out[o + f] = out[o + f]! + pm[a + f]!;
      }
  }

  /**
   * Backward of forward(): dW += colsᵀ · dOut (when dW), and the frame's gradient dx[dxOff..] = (beta·dx +)
   * col2im(Σ_g dOut_g · W_gᵀ) (when dx).
   */
  backward(
    kern: Kernels,
    t: TapList,
    x: Arr,
    xOff: number,
    W: Arr,
    dOut: Arr,
    dOff: number,
    dW: Arr | null,
    dx: Arr | null,
    dxOff: number,
    beta: 0 | 1,
  ): void {
    const { P, K } = t.g,
      F = this.F,
      U = this.U;
    const [cols, dcols, pm] = this.cols(dOut);
    // dOut in positions × G·F: one product for dW and one for the columns' gradient.
    for (let p = 0; p < P; p++)
      for (let g = 0; g < G; g++) {
        const a = p * G * F + g * F,
          o = dOff + g * U + p * F;
        for (let f = 0; f < F; f++) pm[a + f] = dOut[o + f]!;
      }
    if (dW) {
      im2col(t, x, xOff, cols, 0);
      kern.gemm(true, false, K, G * F, P, cols, 0, K, pm, 0, G * F, 1, dW, 0, G * F);
    }
    if (!dx) return;
    kern.gemm(false, true, P, K, G * F, pm, 0, G * F, W, 0, G * F, 0, dcols, 0, K);
    const n = t.g.n[0] * t.g.n[1] * t.g.n[2] * t.g.C;
    if (beta === 0) dx.fill(0, dxOff, dxOff + n);
    col2im(t, dcols, 0, dx, dxOff);
  }
}

function paramsOf(spec: RecurrentSpec): ParamDef[] {
  const c = spec.conv!;
  const k = c.kernelSize.join(', '),
    F = c.filters;
  const out: ParamDef[] = [
    {
      name: 'kernel',
      shape: [...c.kernelSize, c.channels, G * F],
      hint: `kernel_size (${k}), channels, 4 × filters=${F}`,
    },
    {
      name: 'recurrent_kernel',
      shape: [...c.kernelSize, F, G * F],
      hint: `kernel_size (${k}), filters, 4 × filters=${F}`,
    },
  ];
  if (spec.useBias) out.push({ name: 'bias', shape: [G * F], hint: `4 × filters=${F}` });
  return out;
}

/** A small geometry the oracle tests cover (filters 2 except 3D's 1). */
function form(
  name: string,
  rank: number,
  kernelSize: number[],
  strides: number[],
  dilationRate: number[],
  padding: 'valid' | 'same',
  inSpatial: number[],
  channels: number,
): { name: string; options: Partial<RecurrentSpec> } {
  const filters = rank === 3 ? 1 : 2;
  const conv: ConvGeometry = {
    rank,
    filters,
    kernelSize,
    strides,
    padding,
    dilationRate,
    inSpatial,
    channels,
    outSpatial: geomND(inSpatial, channels, kernelSize, strides, dilationRate, padding).o.slice(3 - rank),
  };
  const size = (d: number[], c: number): number => d.reduce((a, n) => a * n, c);
  return { name, options: { conv, units: size(conv.outSpatial, filters), inputDim: size(inSpatial, channels) } };
}

export const convLstm: CellDef = {
  kind: 'ConvLSTM',
  layerClasses: { ConvLSTM2D: { convRank: 2 }, ConvLSTM1D: { convRank: 1 }, ConvLSTM3D: { convRank: 3 } },
  cellClasses: [],
  scope: 'conv_lstm_cell',
  gates: lstm.gates,
  states: ['h', 'c'],
  memory: { gate: 'f', label: 'forget gate', keep: 'a' },
  convolutional: true,
  readOptions: readConv,
  // hard_sigmoid in every Keras before 3 (tf.keras 2.x too, unlike its LSTM) and in TF.js, sigmoid in Keras 3
  // (docs/conv-lstm.md, 'Keras semantics').
  defaultRecurrentActivation: (family) => (family === 'keras3' ? 'sigmoid' : 'hard_sigmoid'),
  params: paramsOf,
  forms: [
    form('2D same', 2, [3, 2], [1, 1], [1, 1], 'same', [3, 4], 2),
    form('2D valid strided', 2, [2, 2], [2, 1], [1, 1], 'valid', [5, 3], 1),
    form('1D same dilated', 1, [2], [1], [2], 'same', [5], 2),
    form('3D valid', 3, [2, 2, 1], [1, 1, 1], [1, 1, 1], 'valid', [3, 2, 2], 1),
  ],

  step(spec: RecurrentSpec): CellStep {
    const rho: ActFn = activation(spec.recurrentActivation);
    const sig: ActFn = activation(spec.activation);
    const cp = new ConvProducts(spec.conv!);
    const base = lstm.step(spec);
    const U = cp.U,
      F = cp.F,
      I = cp.I;
    let biasOf: Arr | null = null,
      bias: Arr | null = null;
    return {
      G,
      hasC: true,
      sWidth: 1,
      sTap: null,
      inputBias(p) {
        if (!p.b) return null;
        if (biasOf !== p.b) {
          // (4F,) → gate-major (4, positions, F).
          const e = p.b instanceof Float32Array ? new Float32Array(G * U) : new Float64Array(G * U);
          for (let g = 0; g < G; g++) for (let o = 0; o < U; o += F) e.set(p.b.subarray(g * F, (g + 1) * F), g * U + o);
          biasOf = p.b;
          bias = e;
        }
        return bias;
      },
      project(kern, p, X, xOff, rows, P) {
        for (let r = 0; r < rows; r++) cp.forward(kern, cp.ti, X, xOff + r * I, p.K, 0, P, r * G * U);
      },
      projectBack(kern, p, X, xOff, rows, dP, dK, dX) {
        for (let r = 0; r < rows; r++) cp.backward(kern, cp.ti, X, xOff + r * I, p.K, dP, r * G * U, dK, dX, r * I, 0);
      },
      forwardStep(kern: Kernels, p: CellParams, s: SeqBuffers, k: number, t: number) {
        const B = s.B,
          GU = G * U;
        s.Z.set(s.P.subarray(t * B * GU, (t + 1) * B * GU), k * B * GU);
        for (let b = 0; b < B; b++) cp.forward(kern, cp.tr, s.H, (k * B + b) * U, p.R, 1, s.Z, (k * B + b) * GU);
        lstmGatesForward(rho, sig, s, k);
      },
      totalDc: base.totalDc,
      backwardStep(kern: Kernels, p: CellParams, g: CellGrads, s: SeqBuffers, bs, k: number) {
        const B = s.B,
          GU = G * U;
        lstmGatesBackward(rho, sig, s, bs, k);
        for (let b = 0; b < B; b++)
          cp.backward(kern, cp.tr, s.H, (k * B + b) * U, p.R, bs.dZ, b * GU, g.dR, bs.dh, b * U, 0);
        if (g.db) {
          const db = g.db,
            dZ = bs.dZ;
          for (let b = 0; b < B; b++)
            for (let q = 0; q < G; q++)
              for (let o = b * GU + q * U; o < b * GU + (q + 1) * U; o += F)
                for (let f = 0; f < F; f++) db[q * F + f] += dZ[o + f]!;
        }
      },
    };
  },

  jacobian(spec, env) {
    const cp = new ConvProducts(spec.conv!);
    const kern = env.kern;
    const U = cp.U,
      S = env.S;
    // The two products lstm.jacobian asks for: h·R (as the recurrent convolution) and dz·Rᵀ (its transpose).
    const rProduct = (trans: boolean): RProduct => ({
      mul(A, aOff, lda, beta, C, cOff, ldc) {
        for (let i = 0; i < S; i++) {
          if (!trans) cp.forward(kern, cp.tr, A, aOff + i * lda, env.params.R, beta, C, cOff + i * ldc);
          else cp.backward(kern, cp.tr, A, 0, env.params.R, A, aOff + i * lda, null, C, cOff + i * ldc, beta);
        }
      },
    });
    return lstm.jacobian(spec, { ...env, U, rProduct: (trans) => rProduct(trans) });
  },
};
