// Float64 central finite differences for one LayerImpl: the independent oracle
// for every backward in src/engine/layers.
//
// The scalar checked is L = Σ_outputs Σ w ⊙ y with fixed random weights w, so
// the analytic gradients are backward(dOutputs = w). dParams are pre-filled
// with random values and the increase is compared, which also checks that
// backward accumulates (+=) instead of overwriting. The step is
// h·max(1, |v|) with h = 1e-5: the truncation error (O(h²)) and the rounding
// error (O(ε·|L|/h)) both stay near 1e-10 for the O(1)-sized cases used here.
//
// Error of one array: max_i |analytic_i − fd_i| / max(‖fd‖∞, ‖analytic‖∞, 1e-3).

import type { LayerSpec } from '../../src/model/types.js';
import type { Ctx, LayerImpl } from '../../src/engine/layer.js';
import { jsKernels } from '../../src/engine/kernels.js';
import type { Mask, Tensor } from '../../src/engine/tensor.js';

/** Deterministic uniform numbers in [lo, hi) (mulberry32). */
export function rng(seed: number): (lo?: number, hi?: number) => number {
  let a = seed >>> 0;
  return (lo = -1, hi = 1) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return lo + (hi - lo) * u;
  };
}

/**
 * Central differences of loss() in each element of `data`, changed in place and restored: step h (1e-5), or
 * h·max(1, |v|) when `relative`; 0 where skip(i).
 */
export function centralDiff(
  data: Float64Array,
  loss: () => number,
  o: { h?: number; relative?: boolean; skip?: (i: number) => boolean } = {},
): Float64Array {
  const g = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    if (o.skip?.(i)) continue;
    const v = data[i]!;
    const h = (o.h ?? 1e-5) * (o.relative ? Math.max(1, Math.abs(v)) : 1);
    data[i] = v + h;
    const lp = loss();
    data[i] = v - h;
    const lm = loss();
    data[i] = v;
    g[i] = (lp - lm) / (2 * h);
  }
  return g;
}

export function randTensor(shape: number[], r: () => number): Tensor {
  let n = 1;
  for (const d of shape) n *= d;
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = r();
  return { shape, data };
}

export function mask(b: number, t: number, rows: number[][]): Mask {
  return { b, t, data: Uint8Array.from(rows.flat()) };
}

export function ctx64(): Ctx {
  return { dtype: 'float64', kernels: jsKernels, taps: null, sink: { record() {} } };
}

export interface LayerCase<L extends LayerSpec> {
  impl: LayerImpl<L>;
  layer: L;
  inputs: Tensor[];
  params?: Tensor[];
  masks?: (Mask | null)[];
  /** Parameters that are not trainable: backward must leave their gradient untouched. */
  frozen?: number[];
  /** Inputs that must get a null gradient (token ids). */
  noGrad?: number[];
  /** Input coordinates where the layer is not differentiable (e.g. masked steps): skipped by FD, analytic must be 0. */
  skip?: (input: number, index: number) => boolean;
  seed?: number;
}

export interface FdReport {
  /** worst error over every checked array */
  maxRelErr: number;
  /** error per array: "input 0", "param 1", ... */
  errors: Record<string, number>;
  /** number of coordinates differentiated */
  checked: number;
}

function relErr(a: ArrayLike<number>, n: ArrayLike<number>): number {
  let d = 0;
  let sa = 0;
  let sn = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - n[i]));
    sa = Math.max(sa, Math.abs(a[i]));
    sn = Math.max(sn, Math.abs(n[i]));
  }
  if (Number.isNaN(d)) return Infinity;
  return d / Math.max(sa, sn, 1e-3);
}

/** Runs the check; throws when the layer's output does not depend on a checked array at all (a check that cannot fail).
 * */
export function checkLayerGradients<L extends LayerSpec>(c: LayerCase<L>): FdReport {
  const ctx = ctx64();
  const params = c.params ?? [];
  const masks = c.masks ?? c.inputs.map(() => null);
  const r = rng(c.seed ?? 12345);
  const snapshot = [...c.inputs, ...params].map((t) => Float64Array.from(t.data));

  const first = c.impl.forward(ctx, c.layer, params, c.inputs, masks);
  const w = first.outputs.map((y) => randTensor([...y.shape], r));
  const loss = (): number => {
    const res = c.impl.forward(ctx, c.layer, params, c.inputs, masks);
    let s = 0;
    res.outputs.forEach((y, o) => {
      for (let i = 0; i < y.data.length; i++) s += w[o].data[i] * y.data[i];
    });
    return s;
  };

  const base = params.map((p) => randTensor([...p.shape], r));
  const dParams = base.map((b) => ({ shape: [...b.shape], data: Float64Array.from(b.data) }));
  const dInputs = c.impl.backward(ctx, c.layer, params, first.cache, w, dParams);

  [...c.inputs, ...params].forEach((t, i) => {
    if (t.data.some((v, j) => !Object.is(v, snapshot[i][j])))
      throw new Error(
        `forward/backward modified ${i < c.inputs.length ? `input ${i}` : `param ${i - c.inputs.length}`}`,
      );
  });
  if (dInputs.length !== c.inputs.length)
    throw new Error(`backward returned ${dInputs.length} input gradients for ${c.inputs.length} inputs`);

  const errors: Record<string, number> = {};
  let checked = 0;
  const fdOf = (t: Tensor, skip: ((i: number) => boolean) | null): Float64Array => {
    const g = centralDiff(t.data as Float64Array, loss, { relative: true, skip: skip ?? undefined });
    checked += t.data.length - (skip ? t.data.filter((_, i) => skip(i)).length : 0);
    return g;
  };
  const requireSignal = (name: string, fd: Float64Array): void => {
    if (!fd.some((v) => Math.abs(v) > 1e-6))
      throw new Error(`${name}: the loss does not depend on it; the case cannot test anything`);
  };

  c.inputs.forEach((x, k) => {
    const name = `input ${k}`;
    const dX = dInputs[k];
    if (c.noGrad?.includes(k)) {
      if (dX !== null) throw new Error(`${name}: expected a null gradient`);
      return;
    }
    if (dX === null) throw new Error(`${name}: backward returned null`);
    if (dX.shape.join() !== x.shape.join())
      throw new Error(`${name}: gradient shape [${dX.shape}] for input shape [${x.shape}]`);
    const skip = c.skip ? (i: number) => c.skip!(k, i) : null;
    const fd = fdOf(x, skip);
    requireSignal(name, fd);
    if (skip)
      for (let i = 0; i < fd.length; i++)
        if (skip(i) && dX.data[i] !== 0)
          throw new Error(`${name}[${i}]: expected 0 at a skipped coordinate, got ${dX.data[i]}`);
    errors[name] = relErr(dX.data, fd);
  });

  params.forEach((p, k) => {
    const name = `param ${k}`;
    const got = dParams[k].data.map((v, i) => v - base[k].data[i]);
    if (c.frozen?.includes(k)) {
      if (got.some((v) => v !== 0)) throw new Error(`${name}: non-trainable, expected its gradient untouched`);
      return;
    }
    const fd = fdOf(p, null);
    requireSignal(name, fd);
    errors[name] = relErr(got, fd);
  });

  return { maxRelErr: Math.max(0, ...Object.values(errors)), errors, checked };
}
