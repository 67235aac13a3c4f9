// Taps of a split gradient (pool.ts) recorded straight into the result: one fixed-size
// SharedArrayBuffer per call holds every tap of the whole batch, (B, T, width) row-major, so a
// share of samples [lo, hi) is one contiguous range of each array. Each thread's engine records its
// taps into its range (run.ts `place`, taps.ts TapPlacer) and weights the gradient-valued ones there;
// nothing is copied out of a worker or concatenated.
//
//   first call (layout unknown): copy path (pool-merge.ts) ─► layoutOf(merged taps)
//   later calls: allocPlaced(layout, B) ─► placerFor(share) on each thread ─► settle(share's taps)
//
// The layout (layers, tap names, elements per sample) is learnt from the first result of the same
// model, request, dtype and input shapes: the engine records the same taps for the same call.

import { GRADIENT_TAPS } from './pool-wire.js';
import type { LayerTaps, TapName, TapPlacer, TapStore } from './taps.js';
import type { Arr } from './tensor.js';

export interface PlacedLayer {
  layer: string;
  direction: 'forward' | 'backward' | null;
  kind: string;
  steps: number;
  units: number;
  inputDim: number;
  /** Tap names in recording order, with elements per sample. */
  taps: [TapName, number][];
}

export type TapLayout = PlacedLayer[];

/** One call's result arrays: a tap's whole-batch array starts at byte `at` of `buf`. */
export interface Placement {
  buf: SharedArrayBuffer;
  f64: boolean;
  /** Per layer, per tap (layout order): byte offset of the whole-batch array. */
  at: number[][];
}

/** The layout of a merged result's taps, or null when it cannot be placed (masks, mixed dtypes). */
export function layoutOf(taps: TapStore, B: number): TapLayout | null {
  const out: TapLayout = [];
  let f64: boolean | null = null;
  for (const l of taps.layers) {
    if (l.mask || l.batch !== B) return null;
    const list: [TapName, number][] = [];
    for (const [name, a] of Object.entries(l.data) as [TapName, Arr][]) {
      const is64 = a instanceof Float64Array;
      if ((f64 ??= is64) !== is64 || a.length % B) return null;
      list.push([name, a.length / B]);
    }
    const { layer, direction, kind, steps, units, inputDim } = l;
    out.push({ layer, direction, kind, steps, units, inputDim, taps: list });
  }
  return out.length ? out : null;
}

/** Zeroed result arrays for a batch of B samples (f64: float64 run). */
export function allocPlaced(layout: TapLayout, B: number, f64: boolean): Placement {
  const bytes = f64 ? 8 : 4;
  let end = 0;
  const at = layout.map((l) =>
    l.taps.map(([, per]) => {
      const a = end;
      end += (B * per * bytes + 7) & ~7;
      return a;
    }),
  );
  return { buf: new SharedArrayBuffer(Math.max(8, end)), f64, at };
}

function view(p: Placement, at: number, lo: number, hi: number, per: number): Arr {
  const bytes = p.f64 ? 8 : 4;
  const n = (hi - lo) * per;
  return p.f64 ? new Float64Array(p.buf, at + lo * per * bytes, n) : new Float32Array(p.buf, at + lo * per * bytes, n);
}

/** The engine's placer for the share of samples [lo, hi): each known tap goes to its range of the result. */
export function placerFor(layout: TapLayout, p: Placement, lo: number, hi: number): TapPlacer {
  return (layer, direction, name, n) => {
    const li = layout.findIndex((l) => l.layer === layer && l.direction === direction);
    const ti = li < 0 ? -1 : layout[li]!.taps.findIndex(([k]) => k === name);
    if (ti < 0) return null;
    const per = layout[li]!.taps[ti]![1];
    return n === (hi - lo) * per ? view(p, p.at[li]![ti]!, lo, hi, per) : null;
  };
}

/**
 * After a share's run: its taps must be the layout's; those the engine did not record in place (dx
 * is the layer's own input gradient) are copied into their range, and the gradient-valued ones are
 * weighted by the share's part of the batch. Returns why the taps do not fit, or null.
 */
export function settle(
  layout: TapLayout,
  p: Placement,
  taps: TapStore,
  lo: number,
  hi: number,
  w: number,
): string | null {
  if (taps.layers.length !== layout.length) return `${taps.layers.length} layers with taps, expected ${layout.length}`;
  for (const [li, l] of layout.entries()) {
    const got = taps.layers[li]!;
    const names = Object.keys(got.data);
    if (
      got.layer !== l.layer ||
      got.direction !== l.direction ||
      got.mask ||
      names.join() !== l.taps.map(([k]) => k).join()
    )
      return `taps of layer '${got.layer}' unlike the first call's`;
    for (const [ti, [name, per]] of l.taps.entries()) {
      const a = got.data[name]!;
      const v = view(p, p.at[li]![ti]!, lo, hi, per);
      if (a.length !== v.length) return `tap ${name} of layer '${l.layer}' with ${a.length} elements`;
      const scale = GRADIENT_TAPS.has(name) && w !== 1;
      const placed = a.buffer === v.buffer && a.byteOffset === v.byteOffset;
      if (!placed && !scale) v.set(a);
      else if (scale) for (let i = 0; i < v.length; i++) v[i] = a[i]! * w;
    }
  }
  return null;
}

/** The whole batch's taps (after every share settled). */
export function placedLayers(layout: TapLayout, p: Placement, B: number): LayerTaps[] {
  return layout.map((l, li) => {
    const data: LayerTaps['data'] = {};
    l.taps.forEach(([name, per], ti) => {
      data[name] = view(p, p.at[li]![ti]!, 0, B, per);
    });
    const { layer, direction, kind, steps, units, inputDim } = l;
    return { layer, direction, kind, batch: B, steps, units, inputDim, data, mask: null };
  });
}
