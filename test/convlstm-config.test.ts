// ConvLSTM1D/2D/3D and the 3-D layers in model configs: shapes and parameters per rank, padding, strides
// and dilation; recurrent_activation's default per writer (hard_sigmoid before Keras 3, sigmoid from
// Keras 3 on); and the refusals docs/conv-lstm.md lists, each one typed error naming what was found.

import { describe, expect, test } from 'vitest';
import { buildModel } from '../src/model/build.js';
import { ModelError } from '../src/model/errors.js';
import type { LayerSpec } from '../src/model/types.js';
import { sequential } from './model-helpers.js';

const build = (v: string, cfg: unknown) => buildModel(cfg, { kerasVersion: v, format: 'config', source: 'model.json' });
const shapeOf = (m: ReturnType<typeof build>, name: string) =>
  m.tensors[m.nodes.find((n) => m.layers[n.layer]!.name === name)!.outputs[0]!]!.shape;
const rec = (m: ReturnType<typeof build>, name: string) =>
  (m.layers.find((l) => l.name === name) as Extract<LayerSpec, { type: 'Recurrent' }>).rnn;
const layer = (class_name: string, config: Record<string, unknown>) => ({ class_name, config });
const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ModelError);
    return (e as Error).message;
  }
  throw new Error('expected a ModelError');
};

describe('ConvLSTM layers in configs', () => {
  test('ConvLSTM2D → MaxPooling3D → ConvLSTM2D(strides, same) → Conv3D: shapes, parameters, units', () => {
    const m = build(
      '2.10.0',
      sequential(
        'keras2',
        [null, 6, 20, 18, 3],
        [
          layer('ConvLSTM2D', { name: 'a', filters: 4, kernel_size: [3, 3], return_sequences: true }),
          layer('MaxPooling3D', { name: 'p', pool_size: [1, 2, 2], padding: 'same' }),
          layer('ConvLSTM2D', {
            name: 'b',
            filters: 2,
            kernel_size: 3,
            strides: [2, 1],
            padding: 'same',
            return_sequences: true,
          }),
          layer('Conv3D', { name: 'c', filters: 1, kernel_size: [3, 3, 3], padding: 'same', activation: 'sigmoid' }),
        ],
      ),
    );
    expect(shapeOf(m, 'a')).toEqual([null, 6, 18, 16, 4]);
    expect(shapeOf(m, 'p')).toEqual([null, 6, 9, 8, 4]);
    expect(shapeOf(m, 'b')).toEqual([null, 6, 5, 8, 2]);
    expect(shapeOf(m, 'c')).toEqual([null, 6, 5, 8, 1]);
    expect(m.params.flat().map((p) => [p.key, p.shape])).toEqual([
      ['a/kernel', [3, 3, 3, 16]],
      ['a/recurrent_kernel', [3, 3, 4, 16]],
      ['a/bias', [16]],
      ['b/kernel', [3, 3, 4, 8]],
      ['b/recurrent_kernel', [3, 3, 2, 8]],
      ['b/bias', [8]],
      ['c/kernel', [3, 3, 3, 2, 1]],
      ['c/bias', [1]],
    ]);
    expect([rec(m, 'a').units, rec(m, 'a').inputDim]).toEqual([18 * 16 * 4, 20 * 18 * 3]);
    // Keras 2 default recurrent_activation: hard_sigmoid with slope 0.2.
    expect(rec(m, 'a').recurrentActivation).toMatchObject({ name: 'hard_sigmoid', hardSigmoidSlope: 0.2 });
  });

  test('Keras 3 default recurrent_activation is sigmoid; ConvLSTM1D (dilated) and ConvLSTM3D shapes', () => {
    const m1 = build(
      '3.8.0',
      sequential(
        'keras3',
        [null, 5, 9, 2],
        [layer('ConvLSTM1D', { name: 'a', filters: 3, kernel_size: 2, dilation_rate: 2 })],
      ),
    );
    expect(rec(m1, 'a').recurrentActivation.name).toBe('sigmoid');
    expect(m1.outputs.map((o) => m1.tensors[o]!.shape)).toEqual([[null, 7, 3]]);
    expect(m1.params.flat().map((p) => p.shape)).toEqual([[2, 2, 12], [2, 3, 12], [12]]);
    const m3 = build(
      '3.8.0',
      sequential(
        'keras3',
        [null, 4, 5, 6, 7, 1],
        [layer('ConvLSTM3D', { name: 'a', filters: 2, kernel_size: [2, 3, 1], padding: 'valid' })],
      ),
    );
    expect(m3.outputs.map((o) => m3.tensors[o]!.shape)).toEqual([[null, 4, 4, 7, 2]]);
    expect(m3.params.flat()[0]!.shape).toEqual([2, 3, 1, 1, 8]);
  });

  test('refusals: channels_first, stateful, strides with dilation, Bidirectional(ConvLSTM2D), wrong rank', () => {
    const one = (cfg: Record<string, unknown>, shape = [null, 4, 8, 8, 2]) =>
      refusal(() =>
        build(
          '2.10.0',
          sequential('keras2', shape, [layer('ConvLSTM2D', { name: 'a', filters: 2, kernel_size: 3, ...cfg })]),
        ),
      );
    expect(one({ data_format: 'channels_first' })).toBe(
      `Layer 'a' (ConvLSTM2D) has data_format="channels_first"; rnnscope supports data_format=channels_last (frames shaped …, rows, cols, channels); re-save the model without this option.`,
    );
    expect(one({ stateful: true })).toBe(
      "Layer 'a' (ConvLSTM2D) has stateful=true; rnnscope supports stateful=false (rnnscope starts every sequence from zero); re-save the model without this option.",
    );
    expect(one({ strides: 2, dilation_rate: 2 })).toBe(
      "Layer 'a' (ConvLSTM2D) has dilation_rate=2; rnnscope supports dilation_rate=1 when strides > 1 (Keras refuses both together); re-save the model without this option.",
    );
    expect(one({}, [null, 4, 8, 2])).toBe(
      "Layer 'a' (ConvLSTM2D) receives shape (None, 4, 8, 2); expected rank 5 (batch, time, rows, cols, channels); the config is inconsistent; re-save the model.",
    );
    expect(one({ kernel_size: 9 })).toMatch(/expected frames at least as large as the kernel \(9×9\)/);
    const bidi = refusal(() =>
      build(
        '2.10.0',
        sequential(
          'keras2',
          [null, 4, 8, 8, 2],
          [
            layer('Bidirectional', {
              name: 'bi',
              layer: layer('ConvLSTM2D', { name: 'a', filters: 2, kernel_size: 3 }),
            }),
          ],
        ),
      ),
    );
    expect(bidi).toBe(
      "Layer 'bi' (Bidirectional) wraps a convolutional recurrent layer (ConvLSTM); rnnscope runs ConvLSTM layers on their own but not inside Bidirectional; analyse a model without the Bidirectional wrapper.",
    );
  });
});
