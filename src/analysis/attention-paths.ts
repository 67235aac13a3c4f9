// How much of ∂L/∂h_t reaches a recurrent layer's output through attention, and how much
// through the recurrence: an attention path can carry the gradient to early steps that the
// recurrence no longer reaches (docs/analysis-schema.md#attention).
//
// For each recurrent layer whose sequence output h is read by an attention-type layer, per
// sample and input step t, ∂L/∂h_t (the dh tap, total) splits into
//   attention   Σ of ∂L/∂h_t as the attention layers reading h pass it back
//   other       the same from h's other readers (Dense, pooling, …) and from the loss itself
//   recurrence  dh − attention − other: what arrives at h_t from step t+1 through the cell.
// The direct parts are seen as the engine's graph backward passes them (GradObserver), in the
// analysis's own gradient pass. Bidirectional layers with merge_mode 'concat' split into their
// halves; other merge modes are not split. At a masked step h_t is the carried state, which is
// also the output there, so the direct gradient of that position is h_t's; when the output there
// is 0 instead (zero_output_for_mask, always in a Bidirectional) it reaches no state.

import type { ModelSpec } from '../model/types.js';
import type { GradObserver } from '../engine/graph.js';
import type { TapStore } from '../engine/taps.js';
import type { Tensor } from '../engine/tensor.js';
import type { AttentionSplit } from './schema.js';
import { addNorms, series } from './step-series.js';

/** Layer types that attend over a sequence (model/attention-config.ts; AdditiveAttention is an 'Attention'). */
export const ATTENTION_TYPES: ReadonlySet<string> = new Set(['Attention', 'MultiHeadAttention', 'Dot']);

interface Half {
  /** RecurrentAnalysis id. */
  id: string;
  direction: 'forward' | 'backward' | null;
  /** Columns [c0, c0 + units) of h. */
  c0: number;
  units: number;
  /** The output at a masked step is 0 (Keras zero_output_for_mask): nothing given to it reaches h. */
  zeroMasked: boolean;
}

/** One recurrent sequence output read by attention. */
export interface PathWatch {
  tensor: number;
  layer: string;
  /** Output position p holds input step T−1−p (go_backwards layer returning sequences). */
  reversed: boolean;
  /** The attention-type nodes that read the tensor, and their layers' names. */
  attentionNodes: Set<number>;
  consumers: string[];
  halves: Half[];
}

/** The recurrent sequence outputs the model's attention-type layers read directly. */
export function attentionWatches(model: ModelSpec): PathWatch[] {
  const byTensor = new Map<number, PathWatch>();
  model.nodes.forEach((node, n) => {
    const att = model.layers[node.layer]!;
    if (!ATTENTION_TYPES.has(att.type)) return;
    for (const t of node.inputs) {
      const producer = model.nodes.find((p) => p.outputs[0] === t);
      const l = producer ? model.layers[producer.layer]! : null;
      let w = byTensor.get(t);
      if (!w && l?.type === 'Recurrent' && l.rnn.returnSequences) {
        const half: Half = {
          id: l.name,
          direction: null,
          c0: 0,
          units: l.rnn.units,
          zeroMasked: l.rnn.zeroOutputForMask,
        };
        w = {
          tensor: t,
          layer: l.name,
          reversed: l.rnn.goBackwards,
          attentionNodes: new Set(),
          consumers: [],
          halves: [half],
        };
      } else if (!w && l?.type === 'Bidirectional' && l.mergeMode === 'concat' && l.forward.returnSequences) {
        const halves: Half[] = [
          {
            id: `${l.name}/forward`,
            direction: 'forward',
            c0: 0,
            units: l.forward.units,
            zeroMasked: l.forward.zeroOutputForMask,
          },
          {
            id: `${l.name}/backward`,
            direction: 'backward',
            c0: l.forward.units,
            units: l.backward.units,
            zeroMasked: l.backward.zeroOutputForMask,
          },
        ];
        w = { tensor: t, layer: l.name, reversed: false, attentionNodes: new Set(), consumers: [], halves };
      }
      if (!w) continue;
      byTensor.set(t, w);
      w.attentionNodes.add(n);
      if (!w.consumers.includes(att.name)) w.consumers.push(att.name);
    }
  });
  return [...byTensor.values()];
}

/** The direct gradients of one pass: per watched tensor, Σ from its attention readers and from the rest. */
export class DirectGrads {
  readonly att = new Map<number, Float64Array>();
  readonly other = new Map<number, Float64Array>();
  private readonly watched: Map<number, PathWatch>;

  constructor(watches: PathWatch[]) {
    this.watched = new Map(watches.map((w) => [w.tensor, w]));
  }

  readonly observe: GradObserver = (id: number, g: Tensor, from: number | null): void => {
    const w = this.watched.get(id);
    if (!w) return;
    const into = from !== null && w.attentionNodes.has(from) ? this.att : this.other;
    let a = into.get(id);
    if (!a) into.set(id, (a = new Float64Array(g.data.length)));
    for (let i = 0; i < a.length; i++) a[i] += g.data[i]!;
  };
}

/** One half's split of ∂L/∂h of a batch, each (B, T, units) in input order. */
export interface SplitHalf {
  id: string;
  layer: string;
  direction: 'forward' | 'backward' | null;
  consumers: string[];
  batch: number;
  steps: number;
  units: number;
  attention: Float64Array;
  other: Float64Array;
  recurrence: Float64Array;
  /** The dh tap (total ∂L/∂h_t) the split was taken from. */
  total: ArrayLike<number>;
}

/** Splits the dh taps of a pass (taps: dh) by the direct gradients it observed. */
export function splitPass(watches: PathWatch[], direct: DirectGrads, taps: TapStore): SplitHalf[] {
  const out: SplitHalf[] = [];
  for (const w of watches) {
    for (const h of w.halves) {
      const tp = taps.get(w.layer, h.direction);
      const dh = tp?.data.dh;
      if (!tp || !dh) continue;
      const B = tp.batch,
        T = tp.steps,
        U = h.units,
        width = w.halves.reduce((s, x) => s + x.units, 0);
      const att = new Float64Array(B * T * U),
        other = new Float64Array(B * T * U),
        rec = new Float64Array(B * T * U);
      const a = direct.att.get(w.tensor),
        o = direct.other.get(w.tensor);
      for (let b = 0; b < B; b++)
        for (let p = 0; p < T; p++) {
          const t = w.reversed ? T - 1 - p : p;
          const src = (b * T + p) * width + h.c0,
            dst = (b * T + t) * U;
          const reaches = !(h.zeroMasked && tp.mask && !tp.mask[b * T + t]);
          for (let j = 0; j < U; j++) {
            att[dst + j] = a && reaches ? a[src + j]! : 0;
            other[dst + j] = o && reaches ? o[src + j]! : 0;
            rec[dst + j] = dh[dst + j]! - att[dst + j]! - other[dst + j]!;
          }
        }
      out.push({
        id: h.id,
        layer: w.layer,
        direction: h.direction,
        consumers: w.consumers,
        batch: B,
        steps: T,
        units: U,
        attention: att,
        other,
        recurrence: rec,
        total: dh,
      });
    }
  }
  return out;
}

interface Norms {
  sq: Float64Array;
  per: number[][];
}

/** The three parts' per-step norms over the batches of a run (scaled as steps.ts scales the dh tap). */
export interface PathAccumulator {
  id: string;
  consumers: string[];
  T: number;
  attention: Norms;
  recurrence: Norms;
  other: Norms;
}

const PARTS = ['attention', 'recurrence', 'other'] as const;

/** Adds one batch's split (batch mean loss L_b) to the accumulators of a run over N samples. */
export function accumulatePaths(accs: PathAccumulator[], split: SplitHalf[], N: number): void {
  for (const s of split) {
    let acc = accs.find((a) => a.id === s.id);
    if (!acc) {
      const norms = (): Norms => ({ sq: new Float64Array(s.steps), per: [] });
      acc = { id: s.id, consumers: s.consumers, T: s.steps, attention: norms(), recurrence: norms(), other: norms() };
      accs.push(acc);
    }
    for (const k of PARTS) addNorms(acc[k].sq, acc[k].per, s[k], s.batch, s.steps, s.units, s.batch, N);
  }
}

/** Merges the accumulators of a later batch range into `into` (per-sample rows appended in order). */
export function mergePaths(into: PathAccumulator[], from: PathAccumulator[]): void {
  for (const f of from) {
    const mine = into.find((a) => a.id === f.id);
    if (!mine) {
      into.push(f);
      continue;
    }
    for (const k of PARTS) {
      for (let t = 0; t < mine.T; t++) mine[k].sq[t] += f[k].sq[t]!;
      mine[k].per.push(...f[k].per);
    }
  }
}

export function finishPaths(acc: PathAccumulator): AttentionSplit {
  return {
    consumers: [...acc.consumers],
    viaAttention: series(acc.attention.sq, acc.attention.per, acc.T),
    viaRecurrence: series(acc.recurrence.sq, acc.recurrence.per, acc.T),
    viaOther: series(acc.other.sq, acc.other.per, acc.T),
  };
}
