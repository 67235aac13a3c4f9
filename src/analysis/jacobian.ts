// Largest singular value of the step Jacobian J_t = ∂s_t/∂s_{t−1} (s = h, or (h, c) for LSTM),
// per sample, by power iteration on JᵀJ using Jacobian–vector products (no dense Jacobian).
// Pascanu, Mikolov & Bengio (2013): where σ_max stays below 1 gradients vanish, above 1 they can explode.
//
// The products are written out per cell from the forward quantities recorded as taps
// (pre-activations z, gate activations a, h_{t−1}, c_{t−1}, c_t, GRU r_h):
//   SimpleRNN  J v = σ'(z) ⊙ (v·R)                                   Jᵀu = (σ'(z) ⊙ u)·Rᵀ
//   LSTM       dz = v_h·R;  dc' = f' c⊙dz_f + f⊙v_c + i'⊙g⊙dz_i + i⊙g'⊙dz_c;  dh' = o'⊙σ(c')⊙dz_o + o⊙σ'(c')⊙dc'
//   GRU        after:  dz = v·R; d~ = σ'⊙(r'⊙dz_r⊙r_h + r⊙dz_h); dh' = z'⊙dz_z⊙(h − h~) + z⊙v + (1 − z)⊙d~
//              before: dz_zr = v·R_zr; d~ = σ'⊙((r'⊙dz_r⊙h + r⊙v)·R_h); dh' likewise
// (x' = derivative of the gate's activation at its pre-activation.) A step where the sample is masked
// carries its state: J = I, σ = 1.

import type { RecurrentSpec } from '../model/types.js';
import { activation } from '../engine/activations.js';
import type { LayerTaps } from '../engine/taps.js';

export interface JacobianResult {
  /** sigma[n][t]: σ_max for sample n (of the probed ones) at input position t; NaN where undefined (first processed step). */
  sigma: Float64Array[];
  samples: number[];
  iterations: number;
}

/** f'(z) for every element of a (B,T,width) block, from pre-activations and activations. */
function derivs(spec: RecurrentSpec, taps: LayerTaps): Float64Array {
  const { batch: B, steps: T, units: U } = taps;
  const z = taps.data.z!, a = taps.data.gates!;
  const G = z.length / (B * T * U);
  const out = new Float64Array(z.length);
  const ones = new Float64Array(U).fill(1);
  const gateAct = (g: number) => {
    if (spec.kind === 'SimpleRNN') return spec.activation;
    if (spec.kind === 'LSTM') return g === 2 ? spec.activation : spec.recurrentActivation;
    return g === 2 ? spec.activation : spec.recurrentActivation;
  };
  const fns = Array.from({ length: G }, (_, g) => activation(gateAct(g)));
  const tmpOut = new Float64Array(U);
  for (let r = 0; r < B * T; r++) {
    for (let g = 0; g < G; g++) {
      const o = r * G * U + g * U;
      fns[g]!.backward(z, o, a, o, ones, 0, tmpOut, 0, U);
      out.set(tmpOut, o);
    }
  }
  return out;
}

export function stepJacobianNorms(spec: RecurrentSpec, R: ArrayLike<number>, taps: LayerTaps, samples: number[], iterations: number, seed = 1): JacobianResult {
  const { steps: T, units: U } = taps;
  const G = spec.kind === 'LSTM' ? 4 : spec.kind === 'GRU' ? 3 : 1, GU = G * U;
  const D = derivs(spec, taps);
  const A = taps.data.gates!, Hp = taps.data.hPrev!;
  const sigAct = activation(spec.activation);
  const lstm = spec.kind === 'LSTM';
  const dim = lstm ? 2 * U : U;
  // LSTM: σ(c_t) and σ'(c_t).
  const sc = new Float64Array(U), dsc = new Float64Array(U), ones = new Float64Array(U).fill(1);
  const dz = new Float64Array(GU), tmp = new Float64Array(U);
  const v = new Float64Array(dim), u = new Float64Array(dim), w = new Float64Array(dim);
  let s = seed >>> 0;
  const rnd = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296 - 0.5; };
  const sigma: Float64Array[] = [];

  for (const n of samples) {
    const out = new Float64Array(T).fill(NaN);
    for (let i = 0; i < dim; i++) v[i] = rnd();
    normalize(v);
    for (let k = 1; k < T; k++) {
      const t = spec.goBackwards ? T - 1 - k : k;
      const bt = n * T + t;
      if (taps.mask && !taps.mask[bt]) { out[t] = 1; continue; }
      const go = bt * GU, ho = bt * U;
      if (lstm) {
        sigAct.forward(taps.data.c!, ho, sc, 0, U);
        sigAct.backward(taps.data.c!, ho, sc, 0, ones, 0, dsc, 0, U);
      }
      const jvp = (x: Float64Array, y: Float64Array): void => {
        if (spec.kind === 'GRU' && !spec.resetAfter) {
          matvec(x, 0, U, R, GU, 0, 2 * U, dz);
          for (let j = 0; j < U; j++) tmp[j] = D[go + U + j]! * dz[U + j]! * Hp[ho + j]! + A[go + U + j]! * x[j]!;
          matvec(tmp, 0, U, R, GU, 2 * U, U, dz, 2 * U);
        } else matvec(x, 0, U, R, GU, 0, GU, dz);
        for (let j = 0; j < U; j++) {
          if (spec.kind === 'SimpleRNN') y[j] = D[go + j]! * dz[j]!;
          else if (lstm) {
            const dcn = D[go + U + j]! * dz[U + j]! * taps.data.cPrev![ho + j]! + A[go + U + j]! * x[U + j]!
              + D[go + j]! * dz[j]! * A[go + 2 * U + j]! + A[go + j]! * D[go + 2 * U + j]! * dz[2 * U + j]!;
            y[j] = D[go + 3 * U + j]! * dz[3 * U + j]! * sc[j]! + A[go + 3 * U + j]! * dsc[j]! * dcn;
            y[U + j] = dcn;
          } else {
            const zz = A[go + j]!, hh = A[go + 2 * U + j]!;
            const dcand = spec.resetAfter
              ? D[go + 2 * U + j]! * (D[go + U + j]! * dz[U + j]! * taps.data.rh![ho + j]! + A[go + U + j]! * dz[2 * U + j]!)
              : D[go + 2 * U + j]! * dz[2 * U + j]!;
            y[j] = D[go + j]! * dz[j]! * (Hp[ho + j]! - hh) + zz * x[j]! + (1 - zz) * dcand;
          }
        }
      };
      const vjp = (y: Float64Array, x: Float64Array): void => {
        // Transpose of jvp, line by line in reverse.
        x.fill(0);
        dz.fill(0);
        for (let j = 0; j < U; j++) {
          if (spec.kind === 'SimpleRNN') dz[j] = D[go + j]! * y[j]!;
          else if (lstm) {
            const dcn = y[U + j]! + y[j]! * A[go + 3 * U + j]! * dsc[j]!;
            dz[3 * U + j] = D[go + 3 * U + j]! * y[j]! * sc[j]!;
            dz[U + j] = D[go + U + j]! * dcn * taps.data.cPrev![ho + j]!;
            x[U + j] = A[go + U + j]! * dcn;
            dz[j] = D[go + j]! * dcn * A[go + 2 * U + j]!;
            dz[2 * U + j] = A[go + j]! * D[go + 2 * U + j]! * dcn;
          } else {
            const zz = A[go + j]!, hh = A[go + 2 * U + j]!;
            dz[j] = D[go + j]! * y[j]! * (Hp[ho + j]! - hh);
            x[j] = zz * y[j]!;
            const dcand = (1 - zz) * y[j]! * D[go + 2 * U + j]!;
            if (spec.resetAfter) {
              dz[U + j] = D[go + U + j]! * dcand * taps.data.rh![ho + j]!;
              dz[2 * U + j] = A[go + U + j]! * dcand;
            } else dz[2 * U + j] = dcand;
          }
        }
        if (spec.kind === 'GRU' && !spec.resetAfter) {
          matvecT(dz, 2 * U, R, GU, 2 * U, U, tmp); // tmp = dcand·R_hᵀ  (gradient of r ⊙ h)
          for (let j = 0; j < U; j++) {
            dz[U + j] = D[go + U + j]! * tmp[j]! * Hp[ho + j]!;
            x[j] += A[go + U + j]! * tmp[j]!;
          }
          matvecTAdd(dz, 0, R, GU, 0, 2 * U, x);
        } else matvecTAdd(dz, 0, R, GU, 0, GU, x);
      };
      let sig = 0;
      for (let it = 0; it < iterations; it++) {
        jvp(v, u);
        vjp(u, w);
        const nw = norm(w);
        if (!(nw > 0)) { sig = 0; break; }
        for (let i = 0; i < dim; i++) v[i] = w[i]! / nw;
        sig = Math.sqrt(nw);
      }
      jvp(v, u);
      out[t] = Math.max(sig, norm(u));
    }
    sigma.push(out);
  }
  return { sigma, samples, iterations };
}

function norm(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s);
}

function normalize(x: Float64Array): void {
  const n = norm(x) || 1;
  for (let i = 0; i < x.length; i++) x[i] = x[i]! / n;
}

/** out[oo + j] = Σ_i x[xo + i] · R[i, c0 + j] for j < n (R row-major with row length ld, U rows). */
function matvec(x: ArrayLike<number>, xo: number, rows: number, R: ArrayLike<number>, ld: number, c0: number, n: number, out: Float64Array, oo = 0): void {
  for (let j = 0; j < n; j++) out[oo + j] = 0;
  for (let i = 0; i < rows; i++) {
    const xi = x[xo + i]!;
    if (xi === 0) continue;
    const r = i * ld + c0;
    for (let j = 0; j < n; j++) out[oo + j] += xi * R[r + j]!;
  }
}

/** out[i] = Σ_j y[yo + j] · R[i, c0 + j] (i < out.length rows). */
function matvecT(y: ArrayLike<number>, yo: number, R: ArrayLike<number>, ld: number, c0: number, n: number, out: Float64Array): void {
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    const r = i * ld + c0;
    for (let j = 0; j < n; j++) s += y[yo + j]! * R[r + j]!;
    out[i] = s;
  }
}

/** out[i] += Σ_j y[yo + j] · R[i, c0 + j] for the first `rows(R)` = out's first U entries. */
function matvecTAdd(y: ArrayLike<number>, yo: number, R: ArrayLike<number>, ld: number, c0: number, n: number, out: Float64Array): void {
  const U = R.length / ld;
  for (let i = 0; i < U; i++) {
    let s = 0;
    const r = i * ld + c0;
    for (let j = 0; j < n; j++) s += y[yo + j]! * R[r + j]!;
    out[i] = out[i]! + s;
  }
}
