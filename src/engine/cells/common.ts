// Pieces every cell definition shares: the fused parameter layout, the sequence buffers,
// bias row sums, and the gate slopes the step Jacobians start from.

import type { Activation, RecurrentSpec } from '../../model/types.js';
import { activation } from '../activations.js';
import type { Arr, DType } from '../tensor.js';
import type { CellDef, CellStep, JacobianEnv, ParamDef, SeqBuffers } from './types.js';

/** Keras's default gate activations (tanh, sigmoid), the ones the fused wasm steps implement. */
export function tanhSigmoid(spec: RecurrentSpec): boolean {
  return spec.activation.name === 'tanh' && spec.recurrentActivation.name === 'sigmoid';
}

/** The activation gate g applies. */
export function gateActivation(def: CellDef, spec: RecurrentSpec, g: number): Activation {
  return def.gates[g]!.activation === 'activation' ? spec.activation : spec.recurrentActivation;
}

export function newSeqBuffers(dtype: DType, spec: RecurrentSpec, cell: CellStep, B: number, T: number): SeqBuffers {
  const U = spec.units,
    I = spec.inputDim,
    G = cell.G;
  const mk = (n: number): Arr => (dtype === 'float32' ? new Float32Array(n) : new Float64Array(n));
  return {
    B,
    T,
    U,
    I,
    G,
    P: mk(T * B * G * U),
    Z: mk(T * B * G * U),
    A: mk(T * B * G * U),
    H: mk((T + 1) * B * U),
    C: cell.hasC ? mk((T + 1) * B * U) : mk(0),
    S: cell.sWidth ? mk(T * B * U) : mk(0),
  };
}

/** db[off..off+n) += Σ_b M[b, 0..n) for a B×n row-major block. */
export function accumulateRows(db: Arr, off: number, M: Arr, B: number, n: number, mOff = 0, ldm = n): void {
  for (let b = 0; b < B; b++) {
    const r = mOff + b * ldm;
    for (let j = 0; j < n; j++) db[off + j] += M[r + j];
  }
}

/** kernel (I, G·U), recurrent_kernel (U, G·U), bias (G·U,) unless given: the fused layout every cell shares. */
export function fusedParams(spec: RecurrentSpec, G: number, bias?: { shape: number[]; hint: string }): ParamDef[] {
  const U = spec.units,
    GU = G * U;
  const gu = G === 1 ? `units=${U}` : `${G} × units=${U}`;
  const out: ParamDef[] = [
    { name: 'kernel', shape: [spec.inputDim, GU], hint: gu },
    { name: 'recurrent_kernel', shape: [U, GU], hint: `units=${U}, ${gu}` },
  ];
  if (spec.useBias) out.push({ name: 'bias', ...(bias ?? { shape: [GU], hint: gu }) });
  return out;
}

/**
 * Slopes of every gate's activation at the probed samples' pre-activations, D (S, G·U):
 * D[i, g·U + j] = act_g'(z), refreshed by at(row) from the 'z' and 'gates' taps.
 */
export function gateSlopes(
  def: CellDef,
  spec: RecurrentSpec,
  env: JacobianEnv,
): { D: Arr; at(row: (i: number) => number): void } {
  const { S, U } = env,
    G = def.gates.length,
    GU = G * U;
  const fns = def.gates.map((_, g) => activation(gateActivation(def, spec, g)));
  const D = env.mk(S * GU),
    ones = env.mk(Math.max(U, 1)).fill(1);
  const Z = env.taps.z!,
    A = env.taps.gates!;
  return {
    D,
    at(row) {
      for (let i = 0; i < S; i++) {
        const go = row(i) * GU;
        for (let g = 0; g < G; g++) fns[g]!.backward(Z, go + g * U, A, go + g * U, ones, 0, D, i * GU + g * U, U);
      }
    },
  };
}
