// Runs a ModelSpec's DAG forward and backward.
//
//   inputs ─► node₀ ─► node₁ ─► … ─► outputs          (nodes are in topological order)
//   dInputs ◄─ … ◄─ backward(nodeᵢ, cacheᵢ, dOutᵢ) ◄─ dOutputs
//
// Gradients of a tensor that feeds several nodes are summed; parameter gradients
// of a layer called several times (shared layer) are summed by the layers
// themselves (they accumulate).

import type { LayerSpec, ModelSpec } from '../model/types.js';
import { EngineError } from '../model/errors.js';
import type { Ctx, LayerImpl } from './layer.js';
import { basicLayers } from './layers/registry-basic.js';
import { bidirectionalLayer, recurrentLayer } from './layers/rnn-layers.js';
import { addInto, alloc, type DType, type Mask, type Tensor } from './tensor.js';

/** Parameters of every layer (same indexing as model.params), in the run's dtype. */
export type Params = Tensor[][];

export function implFor(layer: LayerSpec): LayerImpl {
  if (layer.type === 'Recurrent') return recurrentLayer as LayerImpl;
  if (layer.type === 'Bidirectional') return bidirectionalLayer as LayerImpl;
  const impl = (basicLayers as Record<string, LayerImpl | undefined>)[layer.type];
  if (!impl) throw new EngineError(`Layer '${layer.name}' of type ${layer.type} has no engine implementation.`);
  return impl;
}

/** Copies the model's weights (float64) into arrays of the run's dtype. */
export function materializeParams(model: ModelSpec, dtype: DType): Params {
  return model.params.map((ps) =>
    ps.map((p) => {
      const w = model.weights.get(p.key);
      if (!w) throw new EngineError(`Weight '${p.key}' is not loaded; load the model's weights before running it.`);
      const data = alloc(dtype, w.data.length);
      data.set(w.data);
      return { shape: [...p.shape], data };
    }),
  );
}

export function zeroGrads(params: Params): Params {
  return params.map((ps) =>
    ps.map((p) => ({
      shape: [...p.shape],
      data: alloc(p.data instanceof Float32Array ? 'float32' : 'float64', p.data.length),
    })),
  );
}

export interface ForwardState {
  values: (Tensor | undefined)[];
  masks: (Mask | null)[];
  caches: unknown[];
}

export function graphForward(ctx: Ctx, model: ModelSpec, params: Params, inputs: Tensor[]): ForwardState {
  const values: (Tensor | undefined)[] = new Array(model.tensors.length);
  const masks: (Mask | null)[] = new Array(model.tensors.length).fill(null);
  model.inputs.forEach((id, i) => {
    values[id] = inputs[i];
  });
  const caches: unknown[] = [];
  for (const node of model.nodes) {
    const layer = model.layers[node.layer]!;
    // An InputLayer node has no inputs: its output is a model input, already set.
    if (node.inputs.length === 0) {
      caches.push(null);
      continue;
    }
    const ins = node.inputs.map((id) => {
      const v = values[id];
      if (!v)
        throw new EngineError(
          `Layer '${layer.name}' needs tensor ${id}, which nothing produced; the model graph is incomplete.`,
        );
      return v;
    });
    const r = implFor(layer).forward(
      ctx,
      layer,
      params[node.layer]!,
      ins,
      node.inputs.map((id) => masks[id] ?? null),
    );
    node.outputs.forEach((id, i) => {
      values[id] = r.outputs[i];
      masks[id] = r.masks[i] ?? null;
    });
    caches.push(r.cache);
  }
  return { values, masks, caches };
}

export interface BackwardResult {
  dParams: Params;
  /** Gradient of each model input (null for token-id inputs). */
  dInputs: (Tensor | null)[];
}

/**
 * Sees each gradient that reaches tensor `tensor` before it is summed with the others: from node `from`'s
 * backward (the node that read the tensor), or from the loss (`from` null). `grad` must not be kept or changed.
 */
export type GradObserver = (tensor: number, grad: Tensor, from: number | null) => void;

export function graphBackward(
  ctx: Ctx,
  model: ModelSpec,
  params: Params,
  fwd: ForwardState,
  dOutputs: (Tensor | null)[],
  onGrad?: GradObserver,
): BackwardResult {
  const grads: (Tensor | null)[] = new Array(model.tensors.length).fill(null);
  const add = (id: number, g: Tensor | null, from: number | null): void => {
    if (!g) return;
    onGrad?.(id, g, from);
    const cur = grads[id];
    if (!cur) grads[id] = { shape: g.shape, data: g.data.slice() };
    else addInto(cur.data, g.data);
  };
  model.outputs.forEach((id, i) => add(id, dOutputs[i] ?? null, null));
  const dParams = zeroGrads(params);
  for (let n = model.nodes.length - 1; n >= 0; n--) {
    const node = model.nodes[n]!;
    const dOut = node.outputs.map((id) => grads[id] ?? null);
    if (node.inputs.length === 0 || dOut.every((g) => g === null)) continue;
    const layer = model.layers[node.layer]!;
    const dIn = implFor(layer).backward(ctx, layer, params[node.layer]!, fwd.caches[n], dOut, dParams[node.layer]!);
    node.inputs.forEach((id, i) => add(id, dIn[i] ?? null, n));
  }
  return { dParams, dInputs: model.inputs.map((id) => grads[id] ?? null) };
}
