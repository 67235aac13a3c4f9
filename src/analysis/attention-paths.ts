// How much of ∂L/∂h_t reaches a recurrent layer's output through attention, and how
// much through the recurrence: the question a user of an attention-RNN asks about
// vanishing gradients (an attention path can carry the gradient to early steps that
// the recurrence no longer reaches).
//
// For each recurrent layer whose sequence output h feeds an attention-type layer
// (Attention, AdditiveAttention, MultiHeadAttention, Dot), per step t, averaged over
// the samples of the batch:
//   viaAttention  ‖Σ over attention consumers of ∂L/∂h_t as they return it‖
//   viaOther      ‖the same from the other consumers of h (Dense, pooling, …)‖
//   viaRecurrence ‖∂L/∂h_t (total, the dh tap) − the direct gradients above‖
//                 = what arrives at h_t from h_{t+1} (and c_{t+1}) through the cell
// The backward pass is the engine's, run node by node as graph.ts runs it, with the
// contribution of each consumer node to h kept apart instead of summed.
// Bidirectional layers with merge_mode 'concat' are split into their two halves
// (the forward half first); other merge modes are not split (no entry).

import type { LossConfig, ModelSpec } from '../model/types.js';
import type { Ctx } from '../engine/layer.js';
import { kernels, type Kernels } from '../engine/kernels.js';
import { graphForward, implFor, materializeParams, zeroGrads } from '../engine/graph.js';
import { computeLoss } from '../engine/losses.js';
import type { LossFlavor } from '../engine/loss-config.js';
import { TapStore } from '../engine/taps.js';
import { addInto, alloc, type Arr, type DType, type Tensor } from '../engine/tensor.js';

const ATTENTION_TYPES = new Set(['Attention', 'MultiHeadAttention', 'Dot']);

export interface AttentionPathSteps {
  layer: string;
  direction: 'forward' | 'backward' | null;
  /** The attention-type layers that read this layer's sequence output. */
  attentionConsumers: string[];
  viaAttention: number[];
  viaOther: number[];
  viaRecurrence: number[];
}

export interface AttentionPathOptions {
  losses: LossConfig[];
  flavor: LossFlavor;
  dtype?: DType;
  /** The run's kernels (default: kernels() when the call starts). */
  kernels?: Kernels;
}

/** Mean over samples of the per-step l2 norm of g (B, T, width) restricted to columns [c0, c0 + n). */
function stepNorms(g: Arr, B: number, T: number, width: number, c0: number, n: number): number[] {
  const out = new Array<number>(T).fill(0);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      let s = 0;
      const o = (b * T + t) * width + c0;
      for (let j = 0; j < n; j++) s += g[o + j]! * g[o + j]!;
      out[t]! += Math.sqrt(s) / B;
    }
  }
  return out;
}

export function attentionPaths(
  model: ModelSpec,
  inputs: Tensor[],
  targets: Tensor[],
  opts: AttentionPathOptions,
): AttentionPathSteps[] {
  const dtype = opts.dtype ?? 'float64';
  const sink = new TapStore();
  const ctx: Ctx = { dtype, kernels: opts.kernels ?? kernels(), taps: { dh: true }, sink };
  const params = materializeParams(model, dtype);
  const xs = inputs.map((x) => {
    const data = alloc(dtype, x.data.length);
    data.set(x.data);
    return { shape: [...x.shape], data };
  });
  const fwd = graphForward(ctx, model, params, xs);

  // Sequence outputs of recurrent layers that an attention-type layer reads.
  const watched = new Map<number, { node: number; attention: Set<number> }>();
  model.nodes.forEach((node, n) => {
    const layer = model.layers[node.layer]!;
    if (!ATTENTION_TYPES.has(layer.type)) return;
    for (const t of node.inputs) {
      const producer = model.nodes.findIndex((p) => p.outputs[0] === t);
      const pl = producer >= 0 ? model.layers[model.nodes[producer]!.layer]! : null;
      if (!pl || (pl.type !== 'Recurrent' && pl.type !== 'Bidirectional')) continue;
      if (!watched.has(t)) watched.set(t, { node: producer, attention: new Set() });
      watched.get(t)!.attention.add(n);
    }
  });
  if (watched.size === 0) return [];

  const grads: (Tensor | null)[] = new Array(model.tensors.length).fill(null);
  const viaAtt = new Map<number, Arr>();
  const viaOther = new Map<number, Arr>();
  const add = (id: number, g: Tensor | null, from: number | null): void => {
    if (!g) return;
    const cur = grads[id];
    if (!cur) grads[id] = { shape: g.shape, data: g.data.slice() };
    else addInto(cur.data, g.data);
    const w = watched.get(id);
    if (!w || from === null) return;
    const into = w.attention.has(from) ? viaAtt : viaOther;
    if (!into.has(id)) into.set(id, alloc(dtype, g.data.length));
    addInto(into.get(id)!, g.data);
  };
  model.outputs.forEach((id, i) => {
    const y = fwd.values[id]!;
    const r = computeLoss(opts.losses[i]!, opts.flavor, y, targets[i]!, fwd.masks[id] ?? null);
    add(id, { shape: y.shape, data: r.dPred }, null);
  });
  const dParams = zeroGrads(params);
  for (let n = model.nodes.length - 1; n >= 0; n--) {
    const node = model.nodes[n]!;
    const dOut = node.outputs.map((id) => grads[id] ?? null);
    if (node.inputs.length === 0 || dOut.every((g) => g === null)) continue;
    const layer = model.layers[node.layer]!;
    const dIn = implFor(layer).backward(ctx, layer, params[node.layer]!, fwd.caches[n], dOut, dParams[node.layer]!);
    node.inputs.forEach((id, i) => add(id, dIn[i] ?? null, n));
  }

  const out: AttentionPathSteps[] = [];
  for (const [id, w] of watched) {
    const layer = model.layers[model.nodes[w.node]!.layer]!;
    const [B, T, width] = fwd.values[id]!.shape as [number, number, number];
    const halves: { direction: 'forward' | 'backward' | null; c0: number; units: number }[] = [];
    if (layer.type === 'Recurrent') halves.push({ direction: null, c0: 0, units: layer.rnn.units });
    else if (layer.type === 'Bidirectional' && layer.mergeMode === 'concat') {
      halves.push(
        { direction: 'forward', c0: 0, units: layer.forward.units },
        { direction: 'backward', c0: layer.forward.units, units: layer.backward.units },
      );
    }
    const att = viaAtt.get(id) ?? alloc(dtype, B * T * width);
    const other = viaOther.get(id) ?? alloc(dtype, B * T * width);
    for (const h of halves) {
      const dh = sink.get(layer.name, h.direction)?.data.dh;
      if (!dh) continue;
      const rec = alloc(dtype, B * T * h.units);
      for (let r = 0; r < B * T; r++) {
        for (let j = 0; j < h.units; j++)
          rec[r * h.units + j] = dh[r * h.units + j]! - att[r * width + h.c0 + j]! - other[r * width + h.c0 + j]!;
      }
      out.push({
        layer: layer.name,
        direction: h.direction,
        attentionConsumers: [...w.attention].map((n) => model.layers[model.nodes[n]!.layer]!.name),
        viaAttention: stepNorms(att, B, T, width, h.c0, h.units),
        viaOther: stepNorms(other, B, T, width, h.c0, h.units),
        viaRecurrence: stepNorms(rec, B, T, h.units, 0, h.units),
      });
    }
  }
  return out;
}
