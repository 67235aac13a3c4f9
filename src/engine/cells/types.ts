// What a recurrent cell is: the one definition (CellDef) each file of this folder exports and
// index.ts registers. Every stage reads it: the model stage (config classes and options, parameter
// layouts, saved layouts, weight scopes, state count), the sequence loop (recurrent.ts: the step),
// the taps, the analysis (gate activations, the step Jacobian's JVP/VJP, per-step contribution
// operands) and the report (gate and state names). Nobody switches on the cell's kind.
//
// This folder is the one part of the engine the model stage imports: it is a leaf (it imports model
// types and errors and the engine's activation and tensor primitives only), so the stages still form
// no import cycle. docs/cells.md lists the files a new cell touches.
//
// Buffers of the sequence loop (per call, allocated once for all T steps; nothing per step):
// the input projection P = X·K (+ input bias) of all steps is one product before the loop (as
// cuDNN does), so a step only does the recurrent product. k = processing step (0..T−1), the cell
// consumes x at input position t = goBackwards ? T−1−k : k. H (and C) have T+1 slots of B×U: slot 0
// the initial state, slot k+1 the state after step k (after masking: masked samples carry slot k).

import type { RecurrentSpec } from '../../model/types.js';
import type { BuildContext, ConfigReader } from '../../model/config-reader.js';
import type { Kernels } from '../kernels-js.js';
import type { LayerTaps, TapName } from '../taps.js';
import type { Arr } from '../tensor.js';

/** A gate, in Keras's order of the fused kernel columns, and which config activation it applies. */
export interface GateDef {
  name: string;
  activation: 'activation' | 'recurrent_activation';
}

/** One parameter in Keras layout, in Keras weight (creation) order. */
export interface ParamDef {
  /** Keras weight name: kernel, recurrent_kernel, bias, input_gate_peephole_weights, ... */
  name: string;
  shape: number[];
  /** Why this shape, for "Weight 'lstm/kernel' has shape …; expected … (4 × units=32)." */
  hint: string;
}

/** A Keras layer class that runs this cell (LSTM, CuDNNLSTM, ...). */
export interface LayerClass {
  /** CuDNNLSTM / CuDNNGRU: tanh and sigmoid fixed, always a bias, weights in cuDNN layout. */
  cudnn?: boolean;
  /** ConvLSTM1D/2D/3D: the number of spatial axes of a frame. */
  convRank?: number;
}

export interface CellParams {
  /** kernel (I, G·U) */
  K: Arr;
  /** recurrent_kernel (U, G·U) */
  R: Arr;
  /** bias as Keras stores it: (G·U,) or GRU reset_after (2, 3U); null when use_bias = false */
  b: Arr | null;
  /** Further parameters by Keras name (peephole weights). */
  extra: Record<string, Arr>;
}

export interface CellGrads {
  dK: Arr;
  dR: Arr;
  db: Arr | null;
  dExtra: Record<string, Arr>;
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
  /** Cell states (T+1, B, U) for cells with a state 'c'; empty otherwise. */
  C: Arr;
  /** A per-step quantity the cell keeps (sWidth·U per sample), e.g. activation(c_t) or GRU's h_{t−1}·R_h + b_h. */
  S: Arr;
}

export interface BackState {
  /** ∂L/∂h of the state after the current step (B×U); the cell overwrites it with ∂L/∂h_{k−1}. */
  dh: Arr;
  /** ∂L/∂c likewise (cells with a state 'c'). */
  dc: Arr;
  /** Written by the cell: gradient of the gate pre-activations (B×G·U), Keras gate order. It is also the
   * gradient of this step's input projection P[t] (the input side of every gate), which the loop turns into dK and dX.
   *  */
  dZ: Arr;
  /** Scratch (B×U). */
  tmp: Arr;
}

/** The forward and backward step of one cell, for one layer's spec. */
export interface CellStep {
  readonly G: number;
  readonly hasC: boolean;
  /** Width of S per step in units of U (0 or 1). */
  readonly sWidth: number;
  /** The tap S is recorded as (GRU reset_after: 'rh'), or null. */
  readonly sTap: TapName | null;
  /** The input-side bias added into P after P = X·K, or null. */
  inputBias(p: CellParams): Arr | null;
  /**
   * Cells that own their products (ConvLSTM: convolutions): P[0..rows·G·U) = the input side of `rows` input rows
   * X[xOff..] (rows × I), without the bias; absent: P = X·K, one product.
   */
  project?(kern: Kernels, p: CellParams, X: Arr, xOff: number, rows: number, P: Arr): void;
  /** The backward of project: dK += ∂L/∂K, and dX[0..rows·I) = ∂L/∂X from dP (rows × G·U). */
  projectBack?(kern: Kernels, p: CellParams, X: Arr, xOff: number, rows: number, dP: Arr, dK: Arr, dX: Arr): void;
  /** Computes step k into Z[k], A[k], H[k+1] (and C[k+1], S[k]) from P[t] and H[k] (C[k]). Masking is applied by the
   * loop afterwards. */
  forwardStep(kern: Kernels, p: CellParams, s: SeqBuffers, k: number, t: number): void;
  /**
   * Backprop through step k for all samples: reads bs.dh (and bs.dc) = gradients of the state after step k,
   * writes bs.dZ (gradient of the pre-activations in Keras gate order, the 'gateGrad' tap),
   * accumulates dR, db and dExtra, and overwrites bs.dh / bs.dc with the gradients of the previous state.
   */
  backwardStep(kern: Kernels, p: CellParams, g: CellGrads, s: SeqBuffers, bs: BackState, k: number): void;
  /**
   * Cells with a state 'c', for the 'dc' tap: the total derivative ∂L/∂c_t (bs.dc plus the paths through
   * h_t at the same step) for sample b at step k, written to out[oo..oo+U). Called before backwardStep.
   */
  totalDc?(p: CellParams, s: SeqBuffers, bs: BackState, k: number, b: number, out: Arr, oo: number): void;
}

/** C[S×n] = beta·C + A[S×k]·op(R block): a product with (part of) the recurrent kernel. */
export interface RProduct {
  mul(A: Arr, aOff: number, lda: number, beta: 0 | 1, C: Arr, cOff: number, ldc: number): void;
}

/** What the step-Jacobian analysis gives a cell: S probed samples, their forward taps, the weights. */
export interface JacobianEnv {
  S: number;
  U: number;
  /** Forward taps of the probed samples, (S', T, ·); `row(i)` is sample i's row at the current step. */
  taps: LayerTaps['data'];
  params: CellParams;
  /** Products of S rows with op(R[:, rOff..rOff+n)) (trans: with its transpose, k = n, n = U). */
  rProduct(trans: boolean, k: number, n: number, rOff: number): RProduct;
  mk(n: number): Arr;
  /** The run's kernels, for cells that own their products. */
  kern: Kernels;
}

/** J_t = ∂s_t/∂s_{t−1} for the probed samples at one step (s = the cell's states side by side). */
export interface StepJacobian {
  /** State width in units of U (1 for [h], 2 for [h, c]). */
  readonly dim: number;
  /** Prepares step-local derivatives; row(i) = the tap row of probed sample i at this step. */
  at(row: (i: number) => number): void;
  /** Out = J·X for every sample (rows of dim·U). */
  jvp(X: Arr, Out: Arr): void;
  /** Out = Jᵀ·Y. */
  vjp(Y: Arr, Out: Arr): void;
}

/**
 * The per-step contributions to the parameter gradient are products of a left operand (x_t, h_{t−1})
 * with a right one (the gate pre-activation gradient δ_t) per gate block. A cell whose recurrent
 * product is not h_{t−1}·R names the one gate block where it differs (`block`) and gives, per batch,
 * that block's recurrent-side left operand (GRU reset_before: r ⊙ h_{t−1}) or right operand (GRU
 * reset_after: δ_h ⊙ r, also the recurrent bias row's). Both (B, T, U).
 */
export interface ContributionOperands {
  block: number;
  operands(spec: RecurrentSpec, taps: LayerTaps): { left: Arr | null; right: Arr | null };
}

/** A keep gate (CellDef.memory): the kept fraction of the state is `keep(a)` for the gate's activation a. */
export interface MemoryGate {
  gate: string;
  /** Plain name for messages: "forget gate", "update gate". */
  label: string;
  /** 'a': the activation is the kept fraction; '1-a': its complement is. */
  keep: 'a' | '1-a';
}

/** Fused step kernels of cells-*.as: LSTM, GRU in either reset form, SimpleRNN (with tanh and sigmoid). */
export type WasmStepKind = 'lstm' | 'gru-after' | 'gru-before' | 'simple-rnn';

export interface CellDef {
  /** RecurrentSpec.kind, shown in the report. */
  readonly kind: string;
  /** Keras layer classes that run this cell. */
  readonly layerClasses: Readonly<Record<string, LayerClass>>;
  /** Keras cell classes RNN(cell) may hold. */
  readonly cellClasses: readonly string[];
  /** The cell's name scope in stored weight names (lstm_cell, …; Keras 3 uses `cell`). */
  readonly scope: string;
  readonly gates: readonly GateDef[];
  /** State names, in Keras order ([h] or [h, c]). */
  readonly states: readonly string[];
  /** Keras 1 per-gate arrays (W_g, U_g, b_g per gate) in the saved gate order; absent when Keras 1 had none. */
  readonly keras1Gates?: readonly string[];
  /** cuDNN bias (2·G·U,): summed into one (G·U,) bias, or kept as the (2, G·U) rows of a reset_after bias. */
  readonly cudnnBias?: 'sum' | 'rows';
  /**
   * The state is a feature map (ConvLSTM): the config has no units; units and inputDim follow from the input's
   * shape at the first call (RecurrentSpec.conv), and the layer's tensors keep their spatial axes.
   */
  readonly convolutional?: boolean;
  /** The recurrent_activation a config without one means, when it is not the writer's LSTM default. */
  defaultRecurrentActivation?(family: string): string;
  /** Options beyond the common ones, read from the cell's config (GRU reset_after). */
  readOptions?(r: ConfigReader, ctx: BuildContext, cls: LayerClass): Partial<RecurrentSpec>;
  params(spec: RecurrentSpec): ParamDef[];
  step(spec: RecurrentSpec): CellStep;
  jacobian(spec: RecurrentSpec, env: JacobianEnv): StepJacobian;
  /** Where the per-step contributions' recurrent product differs from h_{t−1}·R (ContributionOperands); absent when
   * nowhere. */
  readonly contributions?: ContributionOperands;
  /** The gate whose activation is the fraction of the state kept per step (LSTM forget gate f: c_t = f ⊙ c_{t−1} + …;
   * Keras GRU update gate z: h_t = z ⊙ h_{t−1} + …), read by the analysis's memory estimate; absent when none. */
  readonly memory?: MemoryGate;
  /**
   * The fused WebAssembly step kernel (src/engine/wasm/cells-*.as) that runs this spec, or null where
   * only the JavaScript step does (other activations); absent: no fused kernel (PeepholeLSTM).
   */
  wasmStep?(spec: RecurrentSpec): WasmStepKind | null;
  /** The forms of this cell the oracle tests must each cover (GRU: reset_after true and false); default one. */
  readonly forms?: readonly { name: string; options: Partial<RecurrentSpec> }[];
}
