// Forward values of the 2-D layers, TimeDistributed around them, the attention
// layers and Dot against PyTorch, and the keras_contrib CRF (viterbi, marginals,
// crf_loss and its gradients) against an independent numpy / torch-autograd
// forward-algorithm CRF (test/fixtures/goldens/extra-layers.json, written by
// scripts/golden_extra_layers.py). float64 runs against torch float64, float32 runs
// against torch float32.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { LayerSpec } from '../src/model/types.js';
import { basicLayerImpl } from '../src/engine/layers/registry-basic.js';
import type { Ctx } from '../src/engine/layer.js';
import { jsKernels } from '../src/engine/kernels.js';
import { computeLoss } from '../src/engine/losses.js';
import type { DType, Mask, Tensor } from '../src/engine/tensor.js';

interface Arr {
  shape: number[];
  data: number[];
}
interface GoldenCase {
  title: string;
  layer: LayerSpec;
  inputs: Arr[];
  params: Arr[];
  masks: ({ b: number; t: number; data: number[] } | null)[];
  outputs64: Arr[];
  outputs32: Arr[];
  outMasks: (number[] | null)[];
}
interface CrfCase {
  title: string;
  layer: Extract<LayerSpec, { type: 'CRF' }>;
  x: Arr;
  params: Arr[];
  mask: number[] | null;
  tags: number[];
  loss: number;
  perSample: number[];
  dx: Arr;
  dparams: Arr[];
  viterbi: Arr;
  marginal: Arr;
}

const golden = JSON.parse(readFileSync(new URL('./fixtures/goldens/extra-layers.json', import.meta.url), 'utf8')) as {
  cases: GoldenCase[];
  crf: CrfCase[];
};

const tensor = (dtype: DType, a: Arr): Tensor => ({
  shape: a.shape,
  data: dtype === 'float32' ? Float32Array.from(a.data) : Float64Array.from(a.data),
});
const ctxOf = (dtype: DType): Ctx => ({ dtype, kernels: jsKernels, taps: null, sink: { record() {} } });

function err(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return Number.isNaN(m) || a.length !== b.length ? Infinity : m;
}

describe('forward vs torch', () => {
  it('has cases for every added layer type', () => {
    const types = new Set(golden.cases.map((c) => c.layer.type));
    for (const t of [
      'Conv2D',
      'Pooling2D',
      'GlobalPooling2D',
      'ZeroPadding2D',
      'TimeDistributed',
      'Attention',
      'MultiHeadAttention',
      'Dot',
    ])
      expect(types.has(t as LayerSpec['type']), t).toBe(true);
  });
  for (const c of golden.cases) {
    it(c.title, () => {
      for (const dtype of ['float64', 'float32'] as const) {
        const masks: (Mask | null)[] = c.masks.map((m) =>
          m === null ? null : { b: m.b, t: m.t, data: Uint8Array.from(m.data) },
        );
        const r = basicLayerImpl(c.layer)!.forward(
          ctxOf(dtype),
          c.layer,
          c.params.map((p) => tensor(dtype, p)),
          c.inputs.map((x) => tensor(dtype, x)),
          masks,
        );
        const want = dtype === 'float64' ? c.outputs64 : c.outputs32;
        expect(r.outputs.length).toBe(want.length);
        want.forEach((w, k) => {
          expect(r.outputs[k].shape).toEqual(w.shape);
          expect(err(r.outputs[k].data, w.data), dtype).toBeLessThan(dtype === 'float64' ? 1e-12 : 1e-5);
        });
        c.outMasks.forEach((w, k) => expect(r.masks[k] === null ? null : Array.from(r.masks[k]!.data)).toEqual(w));
      }
    });
  }
});

describe('keras_contrib CRF vs an independent forward-algorithm CRF', () => {
  for (const c of golden.crf) {
    it(c.title, () => {
      const B = c.x.shape[0],
        T = c.x.shape[1],
        F = c.layer.units;
      const mask: Mask | null = c.mask === null ? null : { b: B, t: T, data: Uint8Array.from(c.mask) };
      for (const testMode of ['viterbi', 'marginal'] as const) {
        const layer = { ...c.layer, testMode };
        const r = basicLayerImpl(layer)!.forward(
          ctxOf('float64'),
          layer,
          c.params.map((p) => tensor('float64', p)),
          [tensor('float64', c.x)],
          [mask],
        );
        expect(
          err(r.outputs[0].data, testMode === 'viterbi' ? c.viterbi.data : c.marginal.data),
          testMode,
        ).toBeLessThan(1e-12);
      }
      // crf_loss (join): loss, per-sample values and every gradient against torch autograd.
      const layer = c.layer;
      const params = c.params.map((p) => tensor('float64', p));
      const x = tensor('float64', c.x);
      const impl = basicLayerImpl(layer)!;
      const fwd = impl.forward(ctxOf('float64'), layer, params, [x], [mask]);
      const yTrue: Tensor = layer.sparseTarget
        ? { shape: [B, T], data: Float64Array.from(c.tags) }
        : {
            shape: [B, T, F],
            data: Float64Array.from(c.tags.flatMap((k) => Array.from({ length: F }, (_, j) => (j === k ? 1 : 0)))),
          };
      const l = computeLoss(
        { name: 'crf_loss', fromLogits: false, labelSmoothing: 0 },
        'keras2',
        fwd.outputs[0],
        yTrue,
        fwd.masks[0],
      );
      expect(Math.abs(l.loss - c.loss)).toBeLessThan(1e-12);
      expect(err(l.perSample, c.perSample)).toBeLessThan(1e-12);
      const dParams = params.map((p) => ({ shape: p.shape, data: new Float64Array(p.data.length) }));
      const [dx] = impl.backward(
        ctxOf('float64'),
        layer,
        params,
        fwd.cache,
        [{ shape: fwd.outputs[0].shape, data: l.dPred }],
        dParams,
      );
      expect(err(dx!.data, c.dx.data), 'dx').toBeLessThan(1e-12);
      c.dparams.forEach((g, k) => expect(err(dParams[k].data, g.data), `param ${k}`).toBeLessThan(1e-12));
    });
  }
});
