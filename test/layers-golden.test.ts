// Forward values and output masks of the non-recurrent layers against PyTorch
// (test/fixtures/goldens/basic-layers.json, written by
// scripts/golden_basic_layers.py): float64 runs against torch float64, float32
// runs against torch float32.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { LayerSpec } from '../src/model/types.js';
import { basicLayerImpl } from '../src/engine/layers/registry-basic.js';
import type { Ctx } from '../src/engine/layer.js';
import { jsKernels } from '../src/engine/kernels.js';
import type { DType, Mask, Tensor } from '../src/engine/tensor.js';

interface Arr {
  shape: number[];
  data: number[];
}
interface GoldenCase {
  title: string;
  layer: LayerSpec;
  inputs: Arr[];
  masks: ({ b: number; t: number; data: number[] } | null)[];
  params: Arr[];
  outputs64: Arr[];
  outputs32: Arr[];
  outMasks: (number[] | null)[];
}

const golden = JSON.parse(readFileSync(new URL('./fixtures/goldens/basic-layers.json', import.meta.url), 'utf8')) as {
  cases: GoldenCase[];
};

function tensor(dtype: DType, a: Arr): Tensor {
  return { shape: a.shape, data: dtype === 'float32' ? Float32Array.from(a.data) : Float64Array.from(a.data) };
}

function run(dtype: DType, c: GoldenCase) {
  const ctx: Ctx = { dtype, kernels: jsKernels, taps: null, sink: { record() {} } };
  const masks: (Mask | null)[] = c.masks.map((m) =>
    m === null ? null : { b: m.b, t: m.t, data: Uint8Array.from(m.data) },
  );
  return basicLayerImpl(c.layer)!.forward(
    ctx,
    c.layer,
    c.params.map((p) => tensor(dtype, p)),
    c.inputs.map((x) => tensor(dtype, x)),
    masks,
  );
}

/** max |a − b| / max(1, |b|) */
function err(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return Number.isNaN(m) ? Infinity : m;
}

describe('forward vs torch', () => {
  it('has cases for every non-recurrent layer type', () => {
    const types = new Set(golden.cases.map((c) => c.layer.type));
    for (const t of [
      'Dense',
      'TimeDistributed',
      'Embedding',
      'Masking',
      'Conv1D',
      'Pooling1D',
      'GlobalPooling1D',
      'BatchNormalization',
      'LayerNormalization',
      'Activation',
      'RepeatVector',
      'Flatten',
      'Reshape',
      'Permute',
      'Merge',
    ]) {
      expect(types.has(t as LayerSpec['type']), t).toBe(true);
    }
  });
  for (const c of golden.cases) {
    it(c.title, () => {
      const r64 = run('float64', c);
      const r32 = run('float32', c);
      expect(r64.outputs.length).toBe(c.outputs64.length);
      c.outputs64.forEach((want, k) => {
        expect(r64.outputs[k].shape).toEqual(want.shape);
        expect(r32.outputs[k].data).toBeInstanceOf(Float32Array);
        expect(err(r64.outputs[k].data, want.data), 'float64').toBeLessThan(1e-12);
        expect(err(r32.outputs[k].data, c.outputs32[k].data), 'float32').toBeLessThan(1e-6);
      });
      c.outMasks.forEach((want, k) => {
        const got = r64.masks[k];
        if (want === null) expect(got).toBeNull();
        else expect(got === null ? null : Array.from(got.data)).toEqual(want);
      });
    });
  }
});
