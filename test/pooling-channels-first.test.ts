// GlobalAverage/GlobalMaxPooling1D with data_format='channels_first' (the pooling of the Keras
// time-series Transformer example, found in a real Keras 3.10 file: docs/layers-attention-crf-vision.md,
// 'Real files'): the config is read, the last axis is reduced, the gradient matches float64 finite
// differences, and a mask is refused.

import { describe, expect, test } from 'vitest';
import { buildModel } from '../src/model/build.js';
import { ModelError } from '../src/model/errors.js';
import type { LayerSpec } from '../src/model/types.js';
import { ctx64, mask, randTensor, rng } from './helpers/layer-fd.js';
import { base, expectGrad, impl } from './helpers/layer-cases.js';
import { sequential, VERSION } from './model-helpers.js';

type Pool = Extract<LayerSpec, { type: 'GlobalPooling1D' }>;
const pool = (mode: 'avg' | 'max'): Pool => ({
  ...base(mode === 'avg' ? 'GlobalAveragePooling1D' : 'GlobalMaxPooling1D'),
  type: 'GlobalPooling1D',
  mode,
  channelsFirst: true,
});

describe('GlobalPooling1D channels_first', () => {
  test('a Keras 3 config is read and its output shape is (batch, axis 1)', () => {
    const cfg = sequential(
      'keras3',
      [null, 7, 32],
      [
        {
          class_name: 'GlobalAveragePooling1D',
          config: { name: 'gap', data_format: 'channels_first', keepdims: false },
        },
      ],
    );
    const m = buildModel(cfg, { kerasVersion: VERSION.keras3, format: 'config', source: 't' });
    const i = m.layers.findIndex((l) => l.name === 'gap');
    expect(m.layers[i]).toMatchObject({ type: 'GlobalPooling1D', mode: 'avg', channelsFirst: true });
    const node = m.nodes.find((n) => n.layer === i)!;
    expect(m.tensors[node.outputs[0]!]!.shape).toEqual([null, 7]);
  });

  for (const mode of ['avg', 'max'] as const) {
    test(`${mode}: reduces the last axis (direct sums)`, () => {
      const x = randTensor([2, 3, 5], rng(mode === 'avg' ? 21 : 22));
      const y = impl('GlobalPooling1D').forward(ctx64(), pool(mode), [], [x], [null]).outputs[0]!;
      expect(y.shape).toEqual([2, 3]);
      for (let b = 0; b < 2; b++) {
        for (let a = 0; a < 3; a++) {
          const row = Array.from(x.data.slice((b * 3 + a) * 5, (b * 3 + a + 1) * 5));
          const want = mode === 'avg' ? row.reduce((s, v) => s + v, 0) / 5 : Math.max(...row);
          expect(y.data[b * 3 + a]).toBeCloseTo(want, 14);
        }
      }
    });
    test(`${mode}: gradient against float64 finite differences`, () => {
      expectGrad({
        impl: impl('GlobalPooling1D'),
        layer: pool(mode),
        inputs: [randTensor([2, 4, 3], rng(mode === 'avg' ? 23 : 24))],
      });
    });
  }

  test('a mask is refused with the reason', () => {
    const m = mask(2, 4, [
      [1, 1, 1, 0],
      [1, 1, 0, 0],
    ]);
    const run = () => impl('GlobalPooling1D').forward(ctx64(), pool('avg'), [], [randTensor([2, 4, 3], rng(25))], [m]);
    expect(run).toThrow(ModelError);
    expect(run).toThrow(/channels_first.*mask/);
  });
});
