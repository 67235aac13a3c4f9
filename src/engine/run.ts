// The engine's entry points: predict, and loss + gradients (+ taps) for a batch.
//
//   materializeParams(model, dtype) ─► graphForward ─► computeLoss per output ─► graphBackward
//                                                                               └► taps (TapStore)

import type { LossConfig, ModelSpec } from '../model/types.js';
import { EngineError, fmtShape } from '../model/errors.js';
import type { Ctx } from './layer.js';
import { kernels as activeKernels, type Kernels } from './kernels.js';
import { computeLoss } from './losses.js';
import type { LossFlavor } from './loss-config.js';
import { graphBackward, graphForward, materializeParams, type Params } from './graph.js';
import { TapStore, type TapRequest } from './taps.js';
import { alloc, type DType, type Tensor } from './tensor.js';

export interface RunOptions {
  dtype?: DType;
  /** Which per-step quantities to record (default none: no cost). */
  taps?: TapRequest | null;
  kernels?: Kernels;
}

function makeCtx(opts: RunOptions): Ctx {
  return { dtype: opts.dtype ?? 'float32', kernels: opts.kernels ?? activeKernels(), taps: opts.taps ?? null, sink: new TapStore() };
}

/** Converts caller inputs (any numeric arrays) to the run's dtype and checks them against the model's input shapes. */
export function toInputs(model: ModelSpec, inputs: Tensor[] | { shape: number[]; data: ArrayLike<number> }[], dtype: DType): Tensor[] {
  if (inputs.length !== model.inputs.length) {
    throw new EngineError(`Model '${model.name}' has ${model.inputs.length} input(s) (${model.inputNames.join(', ')}); got ${inputs.length} array(s).`);
  }
  return inputs.map((x, i) => {
    const want = model.tensors[model.inputs[i]!]!.shape;
    const ok = x.shape.length === want.length && want.every((d, j) => d === null || j === 0 || d === x.shape[j]);
    if (!ok) throw new EngineError(`Input '${model.inputNames[i]}' has shape ${fmtShape(x.shape)}; the model expects ${fmtShape(want)}.`);
    if ((dtype === 'float32' && x.data instanceof Float32Array) || (dtype === 'float64' && x.data instanceof Float64Array)) return x as Tensor;
    const data = alloc(dtype, x.data.length);
    data.set(x.data);
    return { shape: [...x.shape], data };
  });
}

/** Forward pass only: the model's outputs. */
export function predict(model: ModelSpec, inputs: Tensor[], opts: RunOptions & { params?: Params } = {}): Tensor[] {
  const ctx = makeCtx(opts);
  const params = opts.params ?? materializeParams(model, ctx.dtype);
  const fwd = graphForward(ctx, model, params, toInputs(model, inputs, ctx.dtype));
  return model.outputs.map((id) => fwd.values[id]!);
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

/** Loss and gradients for one batch: Keras sum_over_batch_size of every output's loss, summed over outputs. */
export function lossAndGrads(model: ModelSpec, inputs: Tensor[], targets: Tensor[], opts: LossOptions): GradResult {
  if (opts.losses.length !== model.outputs.length) {
    throw new EngineError(`Model '${model.name}' has ${model.outputs.length} output(s); got ${opts.losses.length} loss(es).`);
  }
  if (targets.length !== model.outputs.length) {
    throw new EngineError(`Model '${model.name}' has ${model.outputs.length} output(s) (${model.outputNames.join(', ')}); got ${targets.length} target array(s).`);
  }
  const ctx = makeCtx(opts);
  const params = opts.params ?? materializeParams(model, ctx.dtype);
  const xs = toInputs(model, inputs, ctx.dtype);
  const fwd = graphForward(ctx, model, params, xs);
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
  const back = graphBackward(ctx, model, params, fwd, dOutputs);
  return {
    loss, perSample,
    outputs: model.outputs.map((id) => fwd.values[id]!),
    grads: back.dParams, dInputs: back.dInputs, taps: ctx.sink as TapStore,
  };
}

/** Gradients for a caller-supplied output gradient (custom objectives, Jacobian probes). */
export function gradsFromOutputs(model: ModelSpec, inputs: Tensor[], dOutputs: (Tensor | null)[] | ((outputs: Tensor[]) => (Tensor | null)[]), opts: RunOptions & { params?: Params } = {}) {
  const ctx = makeCtx(opts);
  const params = opts.params ?? materializeParams(model, ctx.dtype);
  const fwd = graphForward(ctx, model, params, toInputs(model, inputs, ctx.dtype));
  const outputs = model.outputs.map((id) => fwd.values[id]!);
  const d = typeof dOutputs === 'function' ? dOutputs(outputs) : dOutputs;
  const back = graphBackward(ctx, model, params, fwd, d);
  return { outputs, grads: back.dParams, dInputs: back.dInputs, taps: ctx.sink as TapStore };
}
