// The gradient pool's merge (pool.ts): the shares of a batch, each computed as one thread would,
// into the result of the whole batch. Per-sample arrays are laid at their samples' offsets;
// gradient-valued results are weighted by the share's part of the batch (B_j/B), the parameter
// gradients summed in share order in float64 and rounded once.

import { EngineError } from '../model/errors.js';
import { GRADIENT_TAPS, type ResponseMeta, type WireArray } from './pool-wire.js';
import type { GradResult } from './run.js';
import { TapStore, type LayerTaps, type TapName } from './taps.js';
import type { Arr, Tensor } from './tensor.js';

export type Share =
  | { samples: number; r: GradResult }
  | { samples: number; wire: { meta: ResponseMeta; arrays: WireArray[] } };

const mismatch = (what: string): EngineError =>
  new EngineError(`The gradient pool's worker returned ${what} unlike this thread's; this is a bug in rnnscope.`);

/** A worker's arrays in the structure of this thread's result `like`. */
function unwire(like: GradResult, samples: number, meta: ResponseMeta, arrays: WireArray[]): GradResult {
  let k = 0;
  const next = (n: number): WireArray => {
    const a = arrays[k++];
    if (!a || a.length !== n) throw mismatch(`array ${k - 1} with ${a?.length} elements (expected ${n})`);
    return a;
  };
  const B0 = like.perSample.length;
  const per = (len: number): number => (len / B0) * samples;
  const perSample = next(samples) as Float64Array;
  const outputs = like.outputs.map((o) => ({
    shape: [samples, ...o.shape.slice(1)],
    data: next(per(o.data.length)) as Arr,
  }));
  // Copied out of the shared buffer: the merge sums them in a JavaScript loop (see viewOf).
  const grads = like.grads.map((gs) => gs.map((g) => ({ shape: g.shape, data: next(g.data.length).slice() as Arr })));
  if (meta.dInputsNull?.length !== like.dInputs.length) throw mismatch('a different number of input gradients');
  const dInputs = like.dInputs.map((d, i) => {
    if ((d === null) !== meta.dInputsNull![i]) throw mismatch(`input gradient ${i}`);
    return d ? { shape: [samples, ...d.shape.slice(1)], data: next(per(d.data.length)) as Arr } : null;
  });
  const taps = new TapStore();
  const wt = meta.taps ?? [];
  if (!meta.placed && wt.length !== like.taps.layers.length) throw mismatch('taps of a different number of layers');
  (meta.placed ? [] : like.taps.layers).forEach((l, i) => {
    const w = wt[i]!;
    const keys = Object.keys(l.data) as TapName[];
    if (w.layer !== l.layer || w.direction !== l.direction || w.keys.join() !== keys.join() || w.mask !== !!l.mask)
      throw mismatch(`taps of layer '${w.layer}'`);
    const data: LayerTaps['data'] = {};
    for (const key of keys) data[key] = next(per(l.data[key]!.length)) as Arr;
    const mask = l.mask ? (next(per(l.mask.length)) as Uint8Array) : null;
    taps.record({ ...l, batch: samples, data, mask });
  });
  if (k !== arrays.length) throw mismatch(`${arrays.length} arrays (expected ${k})`);
  return { loss: meta.loss!, perSample, outputs, grads, dInputs, taps };
}

/**
 * The shares (in sample order, the first computed on this thread) merged into one batch's result;
 * `placed`: the whole batch's taps, already in place and weighted (pool-place.ts).
 */
export function mergeShares(shares: Share[], B: number, placed: LayerTaps[] | null = null): GradResult {
  const first = shares[0]!;
  if (!('r' in first)) throw mismatch('no share of its own');
  const rs = shares.map((s) => ('r' in s ? s.r : unwire(first.r, s.samples, s.wire.meta, s.wire.arrays)));
  const w = shares.map((s) => s.samples / B);
  const like = first.r;
  const cat = <T extends Arr | Uint8Array>(parts: T[], scale: boolean): T => {
    const out = new (parts[0]!.constructor as new (n: number) => T)(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    parts.forEach((p, j) => {
      // A worker's share comes weighted already (pool-worker.ts); this thread's is weighted here.
      if (scale && j === 0 && w[0] !== 1) for (let i = 0; i < p.length; i++) out[at + i] = p[i]! * w[0]!;
      else out.set(p as never, at);
      at += p.length;
    });
    return out;
  };
  const catT = (ts: Tensor[], scale: boolean): Tensor => ({
    shape: [B, ...ts[0]!.shape.slice(1)],
    data: cat(
      ts.map((t) => t.data),
      scale,
    ),
  });
  const grads = like.grads.map((gs, li) =>
    gs.map((g, pi) => {
      const sum = new Float64Array(g.data.length);
      rs.forEach((r, j) => {
        const d = r.grads[li]![pi]!.data;
        for (let i = 0; i < sum.length; i++) sum[i] += w[j]! * d[i]!;
      });
      const data = new (g.data.constructor as new (n: number) => Arr)(sum.length);
      data.set(sum);
      return { shape: g.shape, data };
    }),
  );
  const taps = new TapStore();
  for (const l of placed ?? []) taps.record(l);
  (placed ? [] : like.taps.layers).forEach((l, i) => {
    const parts = rs.map((r) => r.taps.layers[i]!);
    const data: LayerTaps['data'] = {};
    for (const key of Object.keys(l.data) as TapName[])
      data[key] = cat(
        parts.map((p) => p.data[key]!),
        GRADIENT_TAPS.has(key),
      );
    const mask = l.mask
      ? cat(
          parts.map((p) => p.mask!),
          false,
        )
      : null;
    taps.record({ ...l, batch: B, data, mask });
  });
  return {
    loss: rs.reduce((s, r, j) => s + w[j]! * r.loss, 0),
    perSample: cat(
      rs.map((r) => r.perSample),
      false,
    ),
    outputs: like.outputs.map((_, i) =>
      catT(
        rs.map((r) => r.outputs[i]!),
        false,
      ),
    ),
    grads,
    dInputs: like.dInputs.map((d, i) =>
      d
        ? catT(
            rs.map((r) => r.dInputs[i]!),
            true,
          )
        : null,
    ),
    taps,
  };
}
