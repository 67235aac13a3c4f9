// The engine's entry points: predict, and loss + gradients (+ taps) for a batch.
//
//   check-args (options, shapes, buffers, values: every problem in one error)
//   ─► materializeParams(model, dtype) ─► graphForward ─► computeLoss per output ─► graphBackward
//                                                                                 └► taps (TapStore)

import type { LossConfig, ModelSpec } from '../model/types.js';
import type { Ctx } from './layer.js';
import { kernels as activeKernels, type Kernels } from './kernels.js';
import { computeLoss } from './losses.js';
import type { LossFlavor } from './loss-config.js';
import { graphBackward, graphForward, materializeParams, type GradObserver, type Params } from './graph.js';
import { TapStore, type TapPlacer, type TapRequest } from './taps.js';
import { openSeqScope } from './layers/recurrent-fused.js';
import { alloc, type DType, type Tensor } from './tensor.js';
import {
  checkArrays,
  checkOptions,
  checkOutputGrads,
  checkTargetsAgainstOutputs,
  problemsFor,
  runDType,
  type Entry,
} from './check-args.js';

export interface RunOptions {
  dtype?: DType;
  /** Which per-step quantities to record (default none: no cost). */
  taps?: TapRequest | null;
  kernels?: Kernels;
  /** Sees every gradient the backward pass passes to a tensor, by the node it comes from (graph.ts). */
  onGrad?: GradObserver;
}

function makeCtx(opts: RunOptions, place?: TapPlacer): Ctx {
  return {
    dtype: opts.dtype ?? 'float32',
    kernels: opts.kernels ?? activeKernels(),
    taps: opts.taps ?? null,
    sink: new TapStore(place),
  };
}

/** Caller inputs (any numeric arrays, already checked) in the run's dtype. */
export function toInputs(
  _model: ModelSpec,
  inputs: { shape: number[]; data: ArrayLike<number> }[],
  dtype: DType,
): Tensor[] {
  return inputs.map((x) => toRunDType(x, dtype));
}

/** Options and inputs of `entry` (and targets for lossAndGrads); throws DataError/UsageError listing every problem. */
function checkCall(entry: Entry, model: ModelSpec, inputs: unknown, opts: unknown, targets?: unknown): void {
  const p = problemsFor(entry, runDType(opts));
  checkOptions(p, entry, model, opts);
  const losses = typeof opts === 'object' && opts !== null ? (opts as { losses?: unknown }).losses : undefined;
  checkArrays(p, model, inputs, entry === 'lossAndGrads' ? { value: targets, losses } : undefined);
  p.throwIfAny();
}

/** Forward pass only: the model's outputs. */
export function predict(model: ModelSpec, inputs: Tensor[], opts: RunOptions & { params?: Params } = {}): Tensor[] {
  checkCall('predict', model, inputs, opts);
  const ctx = makeCtx(opts);
  const release = openSeqScope(ctx);
  try {
    const params = opts.params ?? materializeParams(model, ctx.dtype);
    const fwd = graphForward(ctx, model, params, toInputs(model, inputs, ctx.dtype));
    return model.outputs.map((id) => fwd.values[id]!);
  } finally {
    release();
  }
}

export interface GradResult {
  /** Mean loss over the batch (sum over outputs). */
  loss: number;
  /** Per-sample loss (sum over outputs). */
  perSample: Float64Array;
  outputs: Tensor[];
  /** Gradient of every parameter, same indexing and Keras layout as model.params. */
  grads: Params;
  /** Gradient of every model input (null for token ids). */
  dInputs: (Tensor | null)[];
  taps: TapStore;
}

export interface LossOptions extends RunOptions {
  /** One loss per model output. */
  losses: LossConfig[];
  flavor: LossFlavor;
  params?: Params;
}

/**
 * Loss and gradients for one batch: Keras sum_over_batch_size of every output's loss, summed over outputs.
 * `place` (the gradient pool's): arrays the taps are recorded into, where it has one.
 */
export function lossAndGrads(
  model: ModelSpec,
  inputs: Tensor[],
  targets: Tensor[],
  opts: LossOptions,
  place?: TapPlacer,
): GradResult {
  checkCall('lossAndGrads', model, inputs, opts, targets);
  const ctx = makeCtx(opts, place);
  // Sequence buffers in wasm memory (layers/recurrent-fused.ts) live until this returns; nothing
  // returned points into them (outputs, taps and gradients are ordinary arrays).
  const release = openSeqScope(ctx);
  try {
    return lossAndGradsIn(ctx, model, inputs, targets, opts);
  } finally {
    release();
  }
}

function lossAndGradsIn(
  ctx: Ctx,
  model: ModelSpec,
  inputs: Tensor[],
  targets: Tensor[],
  opts: LossOptions,
): GradResult {
  const params = opts.params ?? materializeParams(model, ctx.dtype);
  const xs = toInputs(model, inputs, ctx.dtype);
  const fwd = graphForward(ctx, model, params, xs);
  const late = problemsFor('lossAndGrads', ctx.dtype);
  checkTargetsAgainstOutputs(
    late,
    model,
    model.outputs.map((id) => fwd.values[id]!),
    targets,
    opts.losses,
  );
  late.throwIfAny();
  const B = xs[0]!.shape[0]!;
  let loss = 0;
  const perSample = new Float64Array(B);
  const dOutputs = model.outputs.map((id, i) => {
    const y = fwd.values[id]!;
    const r = computeLoss(opts.losses[i]!, opts.flavor, y, targets[i]!, fwd.masks[id] ?? null);
    loss += r.loss;
    for (let b = 0; b < B; b++) perSample[b] += r.perSample[b]!;
    return { shape: y.shape, data: r.dPred };
  });
  const back = graphBackward(ctx, model, params, fwd, dOutputs, opts.onGrad);
  return {
    loss,
    perSample,
    outputs: model.outputs.map((id) => fwd.values[id]!),
    grads: back.dParams,
    dInputs: back.dInputs,
    taps: ctx.sink as TapStore,
  };
}

/** Gradients for a caller-supplied output gradient (custom objectives, Jacobian probes). */
export function gradsFromOutputs(
  model: ModelSpec,
  inputs: Tensor[],
  dOutputs: (Tensor | null)[] | ((outputs: Tensor[]) => (Tensor | null)[]),
  opts: RunOptions & { params?: Params } = {},
) {
  checkCall('gradsFromOutputs', model, inputs, opts);
  const ctx = makeCtx(opts);
  const release = openSeqScope(ctx);
  try {
    return gradsFromOutputsIn(ctx, model, inputs, dOutputs, opts);
  } finally {
    release();
  }
}

function gradsFromOutputsIn(
  ctx: Ctx,
  model: ModelSpec,
  inputs: Tensor[],
  dOutputs: (Tensor | null)[] | ((outputs: Tensor[]) => (Tensor | null)[]),
  opts: RunOptions & { params?: Params },
) {
  const params = opts.params ?? materializeParams(model, ctx.dtype);
  const fwd = graphForward(ctx, model, params, toInputs(model, inputs, ctx.dtype));
  const outputs = model.outputs.map((id) => fwd.values[id]!);
  const given = typeof dOutputs === 'function' ? dOutputs(outputs) : dOutputs;
  const p = problemsFor('gradsFromOutputs', ctx.dtype);
  checkOutputGrads(p, model, outputs, given);
  p.throwIfAny();
  // Output gradients in the run's dtype (the backward pass adds them into its own buffers).
  const d = given.map((g) => (g ? toRunDType(g, ctx.dtype) : null));
  const back = graphBackward(ctx, model, params, fwd, d, opts.onGrad);
  return { outputs, grads: back.dParams, dInputs: back.dInputs, taps: ctx.sink as TapStore };
}

function toRunDType(t: { shape: number[]; data: ArrayLike<number> }, dtype: DType): Tensor {
  if (
    (dtype === 'float32' && t.data instanceof Float32Array) ||
    (dtype === 'float64' && t.data instanceof Float64Array)
  )
    return t as Tensor;
  const data = alloc(dtype, t.data.length);
  data.set(t.data);
  return { shape: [...t.shape], data };
}
