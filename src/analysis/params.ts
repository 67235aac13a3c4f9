// Per parameter tensor statistics, per gate block for recurrent weights, and the
// weight-value vs |gradient| density of every recurrent block (gate × group).

import type { ModelSpec, RecurrentSpec } from '../model/types.js';
import { cellOf } from '../engine/cells/index.js';
import type { Params } from '../engine/graph.js';
import {
  LOG10_GRAD_EDGES,
  type Density2D,
  type Histogram,
  type ParamGroup,
  type ParamStats,
  type TensorStats,
} from './schema.js';

const fin = (x: number): number | null => (Number.isFinite(x) ? x : null);

export function histogram(g: ArrayLike<number>, idx?: (i: number) => number, n = g.length): Histogram {
  const edges = LOG10_GRAD_EDGES as number[];
  const counts = new Array(edges.length - 1).fill(0);
  let zero = 0,
    underflow = 0,
    overflow = 0,
    nonFinite = 0;
  const lo = edges[0]!,
    step = edges[1]! - edges[0]!,
    hi = edges[edges.length - 1]!;
  for (let k = 0; k < n; k++) {
    const v = g[idx ? idx(k) : k]!;
    if (!Number.isFinite(v)) {
      nonFinite++;
      continue;
    }
    if (v === 0) {
      zero++;
      continue;
    }
    const l = Math.log10(Math.abs(v));
    if (l < lo) underflow++;
    else if (l >= hi) overflow++;
    else counts[Math.min(counts.length - 1, Math.floor((l - lo) / step))]++;
  }
  return { edges: [...edges], counts, zero, underflow, overflow, nonFinite };
}

export function tensorStats(
  w: ArrayLike<number>,
  g: ArrayLike<number>,
  idx?: (i: number) => number,
  n = g.length,
): TensorStats {
  let ww = 0,
    gg = 0,
    sa = 0,
    ma = 0,
    nan = 0,
    inf = 0;
  for (let k = 0; k < n; k++) {
    const i = idx ? idx(k) : k;
    const wv = w[i]!,
      gv = g[i]!;
    ww += wv * wv;
    if (Number.isNaN(gv)) {
      nan++;
      continue;
    }
    if (!Number.isFinite(gv)) {
      inf++;
      continue;
    }
    gg += gv * gv;
    const a = Math.abs(gv);
    sa += a;
    if (a > ma) ma = a;
  }
  const wn = Math.sqrt(ww),
    gn = Math.sqrt(gg);
  return {
    size: n,
    weightNorm: fin(wn),
    gradNorm: fin(gn),
    meanAbsGrad: fin(sa / Math.max(1, n)),
    maxAbsGrad: fin(ma),
    ratio: wn > 0 ? fin(gn / wn) : null,
    nan,
    inf,
    histogram: histogram(g, idx, n),
  };
}

/** Recurrent spec owning a param key, with its direction, or null. */
export function recurrentOf(
  model: ModelSpec,
  layerIndex: number,
  key: string,
): { spec: RecurrentSpec; direction: 'forward' | 'backward' | null } | null {
  const l = model.layers[layerIndex]!;
  if (l.type === 'Recurrent') return { spec: l.rnn, direction: null };
  if (l.type === 'Bidirectional')
    return key.includes('/backward/')
      ? { spec: l.backward, direction: 'backward' }
      : { spec: l.forward, direction: 'forward' };
  return null;
}

/**
 * Index function of gate block g's elements in a fused (…rows, G·U) weight: the leading axes are rows (bias (2, 3U)
 * has 2; a ConvLSTM kernel (…kernel_size, C, 4F) has kernel positions × C, blocks of U = F columns).
 */
/** Columns per gate block of a recurrent weight: units, or a ConvLSTM's filters. */
function gateWidth(shape: number[], spec: RecurrentSpec): number {
  return shape[shape.length - 1]! / cellOf(spec.kind).gates.length;
}

export function blockIndex(shape: number[], U: number, g: number): { n: number; idx: (k: number) => number } {
  const cols = shape[shape.length - 1]!;
  const rows = shape.slice(0, -1).reduce((a, d) => a * d, 1);
  return { n: rows * U, idx: (k) => Math.floor(k / U) * cols + g * U + (k % U) };
}

export function paramStats(model: ModelSpec, params: Params, grads: Params): ParamStats[] {
  const out: ParamStats[] = [];
  model.params.forEach((ps, li) =>
    ps.forEach((p, pi) => {
      const w = params[li]![pi]!.data,
        g = grads[li]![pi]!.data;
      const rec = recurrentOf(model, li, p.key);
      const isRecW = rec && ['kernel', 'recurrent_kernel', 'bias'].includes(p.name);
      out.push({
        key: p.key,
        layer: model.layers[li]!.name,
        direction: rec?.direction ?? null,
        name: p.name,
        shape: [...p.shape],
        trainable: p.trainable,
        ...tensorStats(w, g),
        blocks: isRecW
          ? cellOf(rec.spec.kind).gates.map(({ name: gate }, gi) => {
              const b = blockIndex(p.shape, gateWidth(p.shape, rec.spec), gi);
              return { gate, ...tensorStats(w, g, b.idx, b.n) };
            })
          : null,
      });
    }),
  );
  return out;
}

/** 2-D density of (weight value, log10|g|) for each recurrent block; the .npz dump keeps the full gradients (the
 * weights are the model file's). */
export function densities(
  model: ModelSpec,
  params: Params,
  grads: Params,
  layer: string,
  direction: 'forward' | 'backward' | null,
  nx = 40,
  ny = 40,
): Density2D[] {
  const li = model.layers.findIndex((l) => l.name === layer);
  const out: Density2D[] = [];
  model.params[li]!.forEach((p, pi) => {
    const rec = recurrentOf(model, li, p.key);
    if (!rec || rec.direction !== direction || !['kernel', 'recurrent_kernel', 'bias'].includes(p.name)) return;
    const w = params[li]![pi]!.data,
      g = grads[li]![pi]!.data;
    cellOf(rec.spec.kind).gates.forEach(({ name: gate }, gi) => {
      const b = blockIndex(p.shape, gateWidth(p.shape, rec.spec), gi);
      let wmin = Infinity,
        wmax = -Infinity,
        lmin = Infinity,
        lmax = -Infinity,
        zero = 0;
      for (let k = 0; k < b.n; k++) {
        const i = b.idx(k),
          gv = Math.abs(g[i]!);
        wmin = Math.min(wmin, w[i]!);
        wmax = Math.max(wmax, w[i]!);
        if (gv > 0 && Number.isFinite(gv)) {
          const l = Math.log10(gv);
          lmin = Math.min(lmin, l);
          lmax = Math.max(lmax, l);
        }
      }
      if (!(wmax > wmin)) {
        wmin -= 0.5;
        wmax += 0.5;
      }
      if (!(lmax > lmin)) {
        lmin = Number.isFinite(lmin) ? lmin - 0.5 : -8;
        lmax = Number.isFinite(lmax) ? lmax + 0.5 : 0;
      }
      const xEdges = Array.from({ length: nx + 1 }, (_, i) => wmin + ((wmax - wmin) * i) / nx);
      const yEdges = Array.from({ length: ny + 1 }, (_, i) => lmin + ((lmax - lmin) * i) / ny);
      const counts = Array.from({ length: ny }, () => new Array(nx).fill(0) as number[]);
      for (let k = 0; k < b.n; k++) {
        const i = b.idx(k),
          gv = Math.abs(g[i]!);
        if (!(gv > 0) || !Number.isFinite(gv)) {
          zero++;
          continue;
        }
        const xi = Math.min(nx - 1, Math.floor(((w[i]! - wmin) / (wmax - wmin)) * nx));
        const yi = Math.min(ny - 1, Math.floor(((Math.log10(gv) - lmin) / (lmax - lmin)) * ny));
        counts[yi]![xi]! += 1;
      }
      out.push({ gate, group: p.name as ParamGroup, xEdges, yEdges, counts, zeroGrad: zero, n: b.n });
    });
  });
  return out;
}
