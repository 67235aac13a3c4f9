// What the sequence loop (recurrent.ts) needs from a cell (lstm.ts, gru.ts, simple-rnn.ts).
//
// The loop works time-major: the input projection P = X·K (+ input bias) of all
// steps is one big product computed before the loop (as cuDNN does), so a cell
// step only does the recurrent product. Buffers are allocated once per call for
// all T steps; nothing is allocated per step.
//
// Indices: k = processing step (0..T-1), the cell consumes x at input position
// t = goBackwards ? T-1-k : k. State buffers H (and C) have T+1 slots of B×U:
// slot 0 is the (zero) initial state, slot k+1 the state after step k (after
// masking: masked samples carry slot k).

import type { RecurrentSpec } from '../../model/types.js';
import type { Kernels } from '../kernels.js';
import type { Arr, DType } from '../tensor.js';

export interface CellParams {
  /** kernel (I, G·U) */
  K: Arr;
  /** recurrent_kernel (U, G·U) */
  R: Arr;
  /** bias as Keras stores it: (G·U,) or GRU reset_after (2, 3U); null when use_bias = false */
  b: Arr | null;
}

export interface CellGrads {
  dK: Arr;
  dR: Arr;
  db: Arr | null;
}

/** Per-call buffers shared by the loop and the cell. */
export interface SeqBuffers {
  B: number;
  T: number;
  U: number;
  I: number;
  G: number;
  /** Input projection, time-major (T, B, G·U), input order t (includes the input-side bias). */
  P: Arr;
  /** Pre-activations per processing step (T, B, G·U). */
  Z: Arr;
  /** Gate activations per processing step (T, B, G·U). */
  A: Arr;
  /** Hidden states (T+1, B, U). */
  H: Arr;
  /** LSTM cell states (T+1, B, U); empty otherwise. */
  C: Arr;
  /** LSTM: activation(c_t) per step (T, B, U). GRU reset_after: h_{t−1}·R_h + b_h per step. Else empty. */
  S: Arr;
}

export interface BackState {
  /** ∂L/∂h of the state after the current step (B×U); the cell overwrites it with ∂L/∂h_{k−1}. */
  dh: Arr;
  /** LSTM: ∂L/∂c likewise. */
  dc: Arr;
  /** Written by the cell: gradient of the gate pre-activations (B×G·U), Keras gate order. It is also the
   *  gradient of this step's input projection P[t] (the input side of every gate), which the loop turns into dK and dX. */
  dZ: Arr;
  /** Scratch (B×U). */
  tmp: Arr;
}

export interface Cell {
  readonly G: number;
  readonly hasC: boolean;
  /** Bytes of S per step in units of U (0 or 1). */
  readonly sWidth: number;
  /** Adds the input-side bias into P after P = X·K (GRU reset_after: row 0; SimpleRNN/LSTM: Keras adds it after h·R, see each cell). */
  inputBias(p: CellParams): Arr | null;
  /** Computes step k into Z[k], A[k], H[k+1] (and C[k+1], S[k]) from P[t] and H[k] (C[k]). Masking is applied by the loop afterwards. */
  forwardStep(kern: Kernels, p: CellParams, s: SeqBuffers, k: number, t: number): void;
  /**
   * Backprop through step k for all samples: reads bs.dh (and bs.dc) = gradients of the state after step k,
   * writes bs.dZ (gradient of the pre-activations in Keras gate order, the 'gateGrad' tap),
   * accumulates dR and db, and overwrites bs.dh / bs.dc with the gradients of the previous state.
   */
  backwardStep(kern: Kernels, p: CellParams, g: CellGrads, s: SeqBuffers, bs: BackState, k: number): void;
  /**
   * LSTM only, for the 'dc' tap: the total derivative ∂L/∂c_t = bs.dc + bs.dh ⊙ o ⊙ σ'(c_t) (c_t also
   * feeds h_t = o ⊙ σ(c_t)) for sample b at step k, written to out[oo..oo+U). Call before backwardStep.
   */
  totalDc?(s: SeqBuffers, bs: BackState, k: number, b: number, out: Arr, oo: number): void;
}

export function newSeqBuffers(dtype: DType, spec: RecurrentSpec, cell: Cell, B: number, T: number): SeqBuffers {
  const U = spec.units, I = spec.inputDim, G = cell.G;
  const mk = (n: number): Arr => (dtype === 'float32' ? new Float32Array(n) : new Float64Array(n));
  return {
    B, T, U, I, G,
    P: mk(T * B * G * U),
    Z: mk(T * B * G * U),
    A: mk(T * B * G * U),
    H: mk((T + 1) * B * U),
    C: cell.hasC ? mk((T + 1) * B * U) : mk(0),
    S: cell.sWidth ? mk(T * B * U) : mk(0),
  };
}
