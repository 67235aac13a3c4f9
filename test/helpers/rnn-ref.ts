// An independent float64 forward pass of the Keras recurrent layers (SimpleRNN, LSTM, GRU,
// PeepholeLSTMCell and Bidirectional), written per sample and per step straight from the Keras
// equations and sharing no code with src/engine. A cell registered in src/engine/cells that this file
// does not implement makes every test that iterates the registry fail here until it is written. It is the oracle for
// the engine's per-step taps: the forward-recorded
// taps are compared with its intermediates, and each gradient tap with a central finite
// difference of a perturbation it applies at one step:
//
//   at 'x'  x_t[j] += eps           the cell input of this layer (this direction) only
//   at 'z'  z_t[j] += eps           a gate pre-activation, as soon as it is formed (GRU: the reset
//                                   gate's change reaches the candidate through r)
//   at 'c'  c_t[j] += eps           cell state after the step (after masking), before
//                                   h_t = o ⊙ σ(c_t) is formed (and, for the peephole LSTM, before
//                                   o sees c_t): the total derivative
//   at 'h'  h_t[j] += eps           state after the step (after masking), before it is emitted
//
// t is the input position (also for go_backwards). Masked steps (mask[b, t] = 0) carry h and c;
// the cell still computes its gates there (what the forward taps record).

import type { Activation, BidiMerge, ConvGeometry, RecurrentSpec } from '../../src/model/types.js';

export type PerturbAt = 'x' | 'z' | 'c' | 'h';
export interface Perturb {
  at: PerturbAt;
  b: number;
  t: number;
  j: number;
  eps: number;
}

export type RefTap = 'z' | 'gates' | 'hPrev' | 'cPrev' | 'c' | 'x' | 'rh';

export interface RefRun {
  /** (B, T, U) in processing order when return_sequences, else (B, U). */
  y: Float64Array;
  /** Final [h] or [h, c], each (B, U). */
  states: Float64Array[];
  /** Per-step intermediates, (B, T, width) in input order t: those the cell has (c, cPrev with a cell state, rh for GRU
   * reset_after). */
  rec: Partial<Record<RefTap, Float64Array>>;
}

/**
 * Weights in Keras layout: kernel (I, G·U), recurrent_kernel (U, G·U), bias (G·U) or GRU reset_after
 * (2, G·U); `extra` further weights by Keras name (PeepholeLSTMCell: input_gate_peephole_weights,
 * forget_gate_peephole_weights, output_gate_peephole_weights, each (U,)).
 */
export interface RefParams {
  K: ArrayLike<number>;
  R: ArrayLike<number>;
  b: ArrayLike<number> | null;
  extra?: Record<string, ArrayLike<number>>;
}

/** The cells this reference implements, with their gate count and whether they carry a cell state c. */
const REF_CELLS: Record<string, { G: number; c: boolean }> = {
  SimpleRNN: { G: 1, c: false },
  LSTM: { G: 4, c: true },
  GRU: { G: 3, c: false },
  PeepholeLSTM: { G: 4, c: true },
  ConvLSTM: { G: 4, c: true },
};

/**
 * ConvLSTM's products by direct summation (no im2col), in the engine's gate-major layout (gate, position,
 * filter): the input convolution of frame v (…inSpatial, C) with kernel W (…k, C, 4F) at the layer's
 * strides, padding and dilation, or the recurrent one of h (…outSpatial, F) at stride 1, 'same'.
 */
export function refConv(c: ConvGeometry, recurrent: boolean, v: number[], W: ArrayLike<number>): Float64Array {
  const r = c.rank,
    F = c.filters,
    G = 4;
  const n = recurrent ? c.outSpatial : c.inSpatial,
    C = recurrent ? F : c.channels;
  const s = recurrent ? n.map(() => 1) : c.strides,
    d = recurrent ? n.map(() => 1) : c.dilationRate;
  const pad = recurrent ? 'same' : c.padding;
  const o: number[] = [],
    lead: number[] = [];
  for (let a = 0; a < r; a++) {
    const e = (c.kernelSize[a]! - 1) * d[a]! + 1;
    const out = pad === 'valid' ? Math.ceil((n[a]! - e + 1) / s[a]!) : Math.ceil(n[a]! / s[a]!);
    o.push(out);
    lead.push(pad === 'valid' ? 0 : Math.floor(Math.max((out - 1) * s[a]! + e - n[a]!, 0) / 2));
  }
  const P = o.reduce((a, b) => a * b, 1),
    U = P * F;
  const nk = c.kernelSize.reduce((a, b) => a * b, 1);
  const out = new Float64Array(G * U);
  const unflat = (i: number, dims: readonly number[]): number[] => {
    const idx = new Array<number>(dims.length);
    for (let a = dims.length - 1; a >= 0; a--) {
      idx[a] = i % dims[a]!;
      i = Math.floor(i / dims[a]!);
    }
    return idx;
  };
  for (let pos = 0; pos < P; pos++) {
    const op = unflat(pos, o);
    for (let kk = 0; kk < nk; kk++) {
      const kp = unflat(kk, c.kernelSize);
      const ip = op.map((q, a) => q * s[a]! + kp[a]! * d[a]! - lead[a]!);
      if (ip.some((q, a) => q < 0 || q >= n[a]!)) continue;
      const flat = ip.reduce((acc, q, a) => acc * n[a]! + q, 0);
      for (let ch = 0; ch < C; ch++) {
        const xv = v[flat * C + ch]!;
        for (let g = 0; g < G; g++)
          for (let f = 0; f < F; f++) out[g * U + pos * F + f] += xv * W[(kk * C + ch) * G * F + g * F + f]!;
      }
    }
  }
  return out;
}

function refCell(s: RecurrentSpec): { G: number; c: boolean } {
  const c = REF_CELLS[s.kind];
  if (!c) throw new Error(`rnn-ref: no independent reference for the cell '${s.kind}'; write its equations here`);
  return c;
}

export const gateCount = (s: RecurrentSpec): number => refCell(s).G;
/** Does the reference's cell carry a cell state c (its taps dc, cPrev, c)? */
export const hasCellState = (s: RecurrentSpec): boolean => refCell(s).c;

function actFn(a: Activation): (v: number) => number {
  switch (a.name) {
    case 'tanh':
      return Math.tanh;
    case 'sigmoid':
      return (v) => 1 / (1 + Math.exp(-v));
    case 'hard_sigmoid': {
      const s = a.hardSigmoidSlope ?? 0.2;
      return (v) => Math.min(1, Math.max(0, s * v + 0.5));
    }
    case 'linear':
      return (v) => v;
    case 'relu':
      if ((a.maxValue ?? null) !== null || (a.negativeSlope ?? 0) !== 0 || (a.threshold ?? 0) !== 0)
        throw new Error('rnn-ref: relu options not implemented');
      return (v) => Math.max(0, v);
    case 'elu': {
      const al = a.alpha ?? 1;
      return (v) => (v > 0 ? v : al * (Math.exp(v) - 1));
    }
    case 'softsign':
      return (v) => v / (1 + Math.abs(v));
    default:
      throw new Error(`rnn-ref: activation ${a.name} not implemented`);
  }
}

/** One recurrent layer. x is (B, T, I); init the initial [h] or [h, c] (each (B, U)) or null for zeros. */
export function refRecurrent(
  s: RecurrentSpec,
  p: RefParams,
  x: ArrayLike<number>,
  B: number,
  T: number,
  mask: ArrayLike<number> | null,
  init: ArrayLike<number>[] | null,
  pert: Perturb | null = null,
): RefRun {
  const U = s.units,
    I = s.inputDim,
    G = gateCount(s),
    GU = G * U,
    withC = hasCellState(s);
  const rho = actFn(s.recurrentActivation),
    sig = actFn(s.activation);
  const afterBias = s.kind === 'GRU' && s.resetAfter;
  const rec: Partial<Record<RefTap, Float64Array>> = {
    z: new Float64Array(B * T * GU),
    gates: new Float64Array(B * T * GU),
    hPrev: new Float64Array(B * T * U),
    x: new Float64Array(B * T * I),
    ...(withC ? { cPrev: new Float64Array(B * T * U), c: new Float64Array(B * T * U) } : {}),
    ...(afterBias ? { rh: new Float64Array(B * T * U) } : {}),
  };
  const peep = (name: string): ArrayLike<number> => {
    const w = p.extra?.[name];
    if (!w) throw new Error(`rnn-ref: ${s.kind} needs the weight ${name}`);
    return w;
  };
  const y = new Float64Array(s.returnSequences ? B * T * U : B * U);
  const hOut = new Float64Array(B * U),
    cOut = new Float64Array(B * U);
  // Input-side bias (row 0 for reset_after); ConvLSTM's (4F,) bias is shared by every position.
  const cv = s.conv;
  const bx = (j: number): number => (p.b ? p.b[cv ? Math.floor(j / U) * cv.filters + ((j % U) % cv.filters) : j]! : 0);
  const bh = (j: number): number => (p.b && afterBias ? p.b[GU + j]! : 0);
  const hit = (at: PerturbAt, b: number, t: number, j: number): number =>
    pert && pert.at === at && pert.b === b && pert.t === t && pert.j === j ? pert.eps : 0;
  // (v·W)[g] = Σ_i v_i W[i, g] for all g (W row-major with GU columns).
  const vW = (v: number[], W: ArrayLike<number>): Float64Array => {
    const out = new Float64Array(GU);
    for (let i = 0; i < v.length; i++) for (let g = 0; g < GU; g++) out[g] += v[i]! * W[i * GU + g]!;
    return out;
  };

  for (let b = 0; b < B; b++) {
    let h = Array.from({ length: U }, (_, u) => (init?.[0] ? init[0][b * U + u]! : 0));
    let c = Array.from({ length: U }, (_, u) => (init?.[1] ? init[1][b * U + u]! : 0));
    for (let k = 0; k < T; k++) {
      const t = s.goBackwards ? T - 1 - k : k,
        bt = b * T + t;
      const valid = mask?.[bt] !== 0;
      const xt = Array.from({ length: I }, (_, i) => x[bt * I + i]! + hit('x', b, t, i));
      xt.forEach((v, i) => {
        rec.x![bt * I + i] = v;
      });
      h.forEach((v, u) => {
        rec.hPrev![bt * U + u] = v;
      });
      if (rec.cPrev)
        c.forEach((v, u) => {
          rec.cPrev![bt * U + u] = v;
        });
      const z = new Array<number>(GU).fill(0),
        a = new Array<number>(GU).fill(0);
      const xK = cv ? refConv(cv, false, xt, p.K) : vW(xt, p.K),
        hR = cv ? refConv(cv, true, h, p.R) : vW(h, p.R);
      let hNew: number[],
        cNew = c;
      if (s.kind === 'SimpleRNN') {
        for (let g = 0; g < U; g++) {
          z[g] = xK[g]! + bx(g) + hR[g]! + hit('z', b, t, g);
          a[g] = sig(z[g]!);
        }
        hNew = a.slice();
      } else if (s.kind === 'LSTM' || s.kind === 'ConvLSTM') {
        for (let g = 0; g < GU; g++) {
          z[g] = xK[g]! + hR[g]! + bx(g) + hit('z', b, t, g);
          a[g] = Math.floor(g / U) === 2 ? sig(z[g]!) : rho(z[g]!); // i, f, c~, o
        }
        cNew = Array.from({ length: U }, (_, u) => a[U + u]! * c[u]! + a[u]! * a[2 * U + u]!);
        hNew = []; // formed after the c perturbation below
      } else if (s.kind === 'PeepholeLSTM') {
        // tf.keras PeepholeLSTMCell: i and f see c_{t−1}; o sees c_t (formed below, after the c perturbation).
        const pi = peep('input_gate_peephole_weights'),
          pf = peep('forget_gate_peephole_weights');
        for (let g = 0; g < 3 * U; g++) {
          const u = g % U,
            gate = Math.floor(g / U);
          z[g] =
            xK[g]! +
            hR[g]! +
            bx(g) +
            (gate === 0 ? pi[u]! * c[u]! : gate === 1 ? pf[u]! * c[u]! : 0) +
            hit('z', b, t, g);
          a[g] = gate === 2 ? sig(z[g]!) : rho(z[g]!);
        }
        cNew = Array.from({ length: U }, (_, u) => a[U + u]! * c[u]! + a[u]! * a[2 * U + u]!);
        hNew = [];
      } else {
        // GRU, gates z, r, h~.
        for (let g = 0; g < 2 * U; g++) {
          z[g] = xK[g]! + bx(g) + hR[g]! + bh(g) + hit('z', b, t, g);
          a[g] = rho(z[g]!);
        }
        for (let u = 0; u < U; u++) {
          const g = 2 * U + u,
            r = a[U + u]!;
          if (afterBias) {
            const rh = hR[g]! + bh(g);
            rec.rh![bt * U + u] = rh;
            z[g] = xK[g]! + bx(g) + r * rh + hit('z', b, t, g);
          } else {
            // (r ⊙ h_{t−1})·R_h
            let rr = 0;
            for (let q = 0; q < U; q++) rr += a[U + q]! * h[q]! * p.R[q * GU + g]!;
            z[g] = xK[g]! + bx(g) + rr + hit('z', b, t, g);
          }
          a[g] = sig(z[g]!);
        }
        hNew = Array.from({ length: U }, (_, u) => a[u]! * h[u]! + (1 - a[u]!) * a[2 * U + u]!);
      }
      // The peephole LSTM's output gate o = ρ(z_o + p_o ⊙ c_t): c_t as the step computed it and perturbed,
      // or on a masked step the c_t the cell computed before the carry.
      const outGate = (cc: number[]): void => {
        if (s.kind !== 'PeepholeLSTM') return;
        const po = peep('output_gate_peephole_weights');
        for (let u = 0; u < U; u++) {
          const g = 3 * U + u;
          z[g] = xK[g]! + hR[g]! + bx(g) + po[u]! * cc[u]! + hit('z', b, t, g);
          a[g] = rho(z[g]!);
        }
      };
      if (!valid) {
        outGate(cNew);
        hNew = h.slice();
        cNew = c.slice();
      }
      cNew = cNew.map((v, u) => v + hit('c', b, t, u));
      if (valid) outGate(cNew);
      if (withC && valid) hNew = cNew.map((v, u) => a[3 * U + u]! * sig(v));
      hNew = hNew.map((v, u) => v + hit('h', b, t, u));
      z.forEach((v, g) => {
        rec.z![bt * GU + g] = v;
      });
      a.forEach((v, g) => {
        rec.gates![bt * GU + g] = v;
      });
      if (rec.c)
        cNew.forEach((v, u) => {
          rec.c![bt * U + u] = v;
        });
      if (s.returnSequences && !(!valid && s.zeroOutputForMask))
        hNew.forEach((v, u) => {
          y[(b * T + k) * U + u] = v;
        });
      h = hNew;
      c = cNew;
    }
    h.forEach((v, u) => {
      hOut[b * U + u] = v;
      if (!s.returnSequences) y[b * U + u] = v;
    });
    c.forEach((v, u) => {
      cOut[b * U + u] = v;
    });
  }
  return { y, states: withC ? [hOut, cOut] : [hOut], rec };
}

export interface RefBidi {
  forward: RecurrentSpec;
  backward: RecurrentSpec;
  mergeMode: BidiMerge;
}

/**
 * Bidirectional: each direction gets its own input (xf, xb) and perturbation, so a finite
 * difference can move one direction's input alone. Returns the layer outputs in the engine's
 * order (merged output(s), then forward states, then backward states when return_state) and both runs.
 */
export function refBidirectional(
  l: RefBidi,
  pf: RefParams,
  pb: RefParams,
  xf: ArrayLike<number>,
  xb: ArrayLike<number>,
  B: number,
  T: number,
  mask: ArrayLike<number> | null,
  init: ArrayLike<number>[] | null,
  pertF: Perturb | null,
  pertB: Perturb | null,
): { outputs: Float64Array[]; f: RefRun; b: RefRun } {
  const half = init ? init.length / 2 : 0;
  const f = refRecurrent(l.forward, pf, xf, B, T, mask, init ? init.slice(0, half) : null, pertF);
  const b = refRecurrent(l.backward, pb, xb, B, T, mask, init ? init.slice(half) : null, pertB);
  const U = l.forward.units,
    U2 = l.backward.units;
  let yb = b.y;
  if (l.forward.returnSequences) {
    yb = new Float64Array(b.y.length);
    for (let s = 0; s < B; s++)
      for (let k = 0; k < T; k++)
        for (let u = 0; u < U2; u++) yb[(s * T + (T - 1 - k)) * U2 + u] = b.y[(s * T + k) * U2 + u]!;
  }
  let merged: Float64Array[];
  if (l.mergeMode === null) merged = [f.y, yb];
  else if (l.mergeMode === 'concat') {
    const rows = f.y.length / U,
      out = new Float64Array(rows * (U + U2));
    for (let r = 0; r < rows; r++) {
      for (let u = 0; u < U; u++) out[r * (U + U2) + u] = f.y[r * U + u]!;
      for (let u = 0; u < U2; u++) out[r * (U + U2) + U + u] = yb[r * U2 + u]!;
    }
    merged = [out];
  } else {
    const m = l.mergeMode;
    merged = [f.y.map((v, i) => (m === 'sum' ? v + yb[i]! : m === 'mul' ? v * yb[i]! : (v + yb[i]!) / 2))];
  }
  return { outputs: [...merged, ...(l.forward.returnState ? [...f.states, ...b.states] : [])], f, b };
}

/** Σ_o Σ_i w_o[i] · out_o[i]. */
export function weighted(outputs: Float64Array[], w: ArrayLike<number>[]): number {
  let L = 0;
  outputs.forEach((o, j) => {
    for (let i = 0; i < o.length; i++) L += w[j]![i]! * o[i]!;
  });
  return L;
}
