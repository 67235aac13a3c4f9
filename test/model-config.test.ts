// Small config canonicalisers: writer versions, activations, losses.
// Oracle: the Keras / TF.js facts of docs/keras-versions.md ('hard_sigmoid', 'Defaults by version') and docs/losses.md.

import { describe, expect, test } from 'vitest';
import { writerProfile } from '../src/model/versions.js';
import { parseActivationConfig } from '../src/model/activation-config.js';
import { canonicalLossName, parseLosses, parseOptimizer } from '../src/model/loss-config.js';
import type { Warning } from '../src/model/types.js';

describe('writer profiles', () => {
  test.each([
    ['1', 'keras1', 0.2, 'hard_sigmoid', false, false],
    ['1.2.2', 'keras1', 0.2, 'hard_sigmoid', false, false],
    ['2.0.8', 'keras2', 0.2, 'hard_sigmoid', false, false],
    ['2.1.5', 'keras2', 0.2, 'hard_sigmoid', false, false],
    ['2.3.1', 'keras2', 0.2, 'sigmoid', false, false],
    ['2.2.4-tf', 'tf.keras', 0.2, 'sigmoid', true, true],
    ['2.4.0', 'tf.keras', 0.2, 'sigmoid', true, true],
    ['2.13.1', 'tf.keras', 0.2, 'sigmoid', true, true],
    ['3.0.0', 'keras3', 1 / 6, 'sigmoid', true, true],
    ['3.10.0', 'keras3', 1 / 6, 'sigmoid', true, true],
    ['keras v2.1.5', 'keras2', 0.2, 'hard_sigmoid', false, false],
    ['tfjs-layers 4.22.0', 'tfjs', 0.2, 'hard_sigmoid', false, false],
  ] as const)('%s', (v, family, slope, ra, resetAfter, forces) => {
    const p = writerProfile(v);
    expect([
      p.family,
      p.hardSigmoidSlope,
      p.defaultRecurrentActivation,
      p.defaultResetAfter,
      p.bidiForcesZeroOutput,
    ]).toEqual([family, slope, ra, resetAfter, forces]);
  });
});

describe('activations', () => {
  const p = (v: unknown, slope = 0.2) => parseActivationConfig(v, { hardSigmoidSlope: slope });
  test('names, aliases, camelCase, function envelopes', () => {
    expect(p(null)).toEqual({ name: 'linear' });
    expect(p('None')).toEqual({ name: 'linear' });
    expect(p('silu')).toEqual({ name: 'swish' });
    expect(p('hard_silu')).toEqual({ name: 'hard_swish', hardSigmoidSlope: 1 / 6 });
    expect(p('hardSigmoid')).toEqual({ name: 'hard_sigmoid', hardSigmoidSlope: 0.2 });
    expect(p('hard_sigmoid', 1 / 6)).toEqual({ name: 'hard_sigmoid', hardSigmoidSlope: 1 / 6 });
    expect(p('logSoftmax')).toEqual({ name: 'log_softmax', axis: -1 });
    expect(p('gelu')).toEqual({ name: 'gelu', approximate: false });
    expect(p('gelu_new')).toEqual({ name: 'gelu', approximate: true });
    expect(p('keras.activations.relu6')).toEqual({ name: 'relu6' });
    expect(
      p({ module: 'keras.activations', class_name: 'function', config: 'tanh', registered_name: 'function' }),
    ).toEqual({ name: 'tanh' });
    expect(p({ class_name: 'ReLU', config: { max_value: 6 } })).toEqual({
      name: 'relu',
      maxValue: 6,
      negativeSlope: 0,
      threshold: 0,
    });
    expect(p({ class_name: 'LeakyReLU', config: { alpha: 0.1 } })).toEqual({ name: 'leaky_relu', negativeSlope: 0.1 });
    expect(() => p('foo')).toThrow(/^Activation 'foo' is not supported; expected one of linear, relu, /);
  });
});

describe('losses', () => {
  test('canonical names', () => {
    for (const s of [
      'mse',
      'MSE',
      'mean_squared_error',
      'meanSquaredError',
      'MeanSquaredError',
      'keras.losses.mean_squared_error',
    ])
      expect(canonicalLossName(s)).toBe('mse');
    for (const s of ['bce', 'BCE', 'binary_crossentropy', 'binaryCrossentropy', 'BinaryCrossentropy'])
      expect(canonicalLossName(s)).toBe('binary_crossentropy');
    expect(canonicalLossName('sparseCategoricalCrossentropy')).toBe('sparse_categorical_crossentropy');
    expect(canonicalLossName('KLDivergence')).toBe('kl_divergence');
    expect(canonicalLossName('kullback_leibler_divergence')).toBe('kl_divergence');
    expect(canonicalLossName('logcosh')).toBe('log_cosh');
    expect(canonicalLossName('my_loss')).toBeNull();
  });

  test('forms: string, Loss object, function envelope, list, dict; unknown kept with a warning', () => {
    const w: Warning[] = [];
    expect(parseLosses({ loss: 'mae' }, ['a', 'b'], w)).toEqual([
      { name: 'mae', fromLogits: false, labelSmoothing: 0 },
      { name: 'mae', fromLogits: false, labelSmoothing: 0 },
    ]);
    expect(
      parseLosses(
        {
          loss: {
            module: 'keras.losses',
            class_name: 'BinaryCrossentropy',
            config: {
              name: 'binary_crossentropy',
              reduction: 'sum_over_batch_size',
              from_logits: true,
              label_smoothing: 0.1,
              axis: -1,
            },
            registered_name: null,
          },
        },
        ['o'],
        w,
      ),
    ).toEqual([{ name: 'binary_crossentropy', fromLogits: true, labelSmoothing: 0.1 }]);
    expect(
      parseLosses(
        {
          loss: {
            module: 'builtins',
            class_name: 'function',
            config: 'mean_squared_error',
            registered_name: 'function',
          },
        },
        ['o'],
        w,
      ),
    ).toEqual([{ name: 'mse', fromLogits: false, labelSmoothing: 0 }]);
    expect(parseLosses({ loss: ['mse', 'categoricalCrossentropy'] }, ['a', 'b'], w)!.map((l) => l.name)).toEqual([
      'mse',
      'categorical_crossentropy',
    ]);
    expect(parseLosses({ loss: { b: 'mae' } }, ['a', 'b'], w)!.map((l) => l.name)).toEqual(['none', 'mae']);
    expect(w).toEqual([]);
    expect(
      parseLosses(
        { loss: { class_name: 'SparseCategoricalCrossentropy', config: { reduction: 'sum', from_logits: true } } },
        ['o'],
        w,
      ),
    ).toEqual([{ name: 'sparse_categorical_crossentropy', fromLogits: true, labelSmoothing: 0 }]);
    expect(parseLosses({ loss: 'my_loss' }, ['o'], w)).toEqual([
      { name: 'my_loss', fromLogits: false, labelSmoothing: 0 },
    ]);
    expect(w.map((x) => x.code)).toEqual(['loss-reduction', 'unknown-loss']);
    expect(parseLosses(null, ['o'], w)).toBeNull();
    expect(parseLosses({ metrics: [] }, ['o'], w)).toBeNull();
  });

  test('optimizer', () => {
    expect(parseOptimizer({ optimizer_config: { class_name: 'RMSprop', config: { lr: 0.001 } } })).toEqual({
      className: 'RMSprop',
      config: { lr: 0.001 },
    });
    expect(
      parseOptimizer({
        optimizer: {
          module: 'keras.optimizers',
          class_name: 'Adam',
          config: { learning_rate: 0.001 },
          registered_name: null,
        },
      }),
    ).toEqual({ className: 'Adam', config: { learning_rate: 0.001 } });
    expect(parseOptimizer({ optimizer: 'sgd' })).toEqual({ className: 'sgd', config: {} });
    expect(parseOptimizer({})).toBeNull();
  });
});
