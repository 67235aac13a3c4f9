// Every layer type and option, in the spellings of Keras 1, Keras 2 / tf.keras,
// Keras 3 and TF.js: the LayerSpec fields read, the output shapes, the
// parameter shapes (Keras layout) and the Keras parameter count.
// Shape oracle for Conv1D / pooling lengths: PyTorch run on zeros
// (test/fixtures/model-goldens/conv_lengths.json, gen_goldens.py).

import { describe, expect, test } from 'vitest';
import { buildModel, savedWeightLayout } from '../src/model/build.js';
import { countParams } from '../src/model/summary.js';
import type { LayerSpec, ModelSpec, Shape } from '../src/model/types.js';
import { GOLDENS, readJson, sequential, VERSION, type Writer } from './model-helpers.js';

function build(w: Writer | string, cfg: unknown): ModelSpec {
  return buildModel(cfg, { kerasVersion: (VERSION as Record<string, string>)[w] ?? w, format: 'config', source: 't' });
}

interface One {
  m: ModelSpec;
  spec: LayerSpec;
  out: Shape[];
  params: [string, number[], boolean][];
}

function one(w: Writer, input: (number | null)[], cls: string, config: Record<string, unknown>, version?: string): One {
  const m = build(version ?? w, sequential(w, input, [{ class_name: cls, config: { name: 'l', ...config } }]));
  const i = m.layers.findIndex((x) => x.name === 'l');
  const node = m.nodes.find((n) => n.layer === i)!;
  return {
    m,
    spec: m.layers[i]!,
    out: node.outputs.map((t) => m.tensors[t]!.shape),
    params: m.params[i]!.map((p) => [p.name, p.shape, p.trainable]),
  };
}

/** Functional Input → layer with every output tensor as a model output (Keras 2 or Keras 3 node spelling). */
function fnOne(
  w: 'keras2' | 'keras3',
  version: string,
  input: (number | null)[],
  cls: string,
  config: Record<string, unknown>,
  nOut: number,
): One {
  const kt = { class_name: '__keras_tensor__', config: { shape: input, dtype: 'float32', keras_history: ['x', 0, 0] } };
  const m = build(version, {
    class_name: w === 'keras3' ? 'Functional' : 'Model',
    config: {
      name: 'f',
      input_layers: [['x', 0, 0]],
      output_layers: Array.from({ length: nOut }, (_, k) => ['l', 0, k]),
      layers: [
        {
          class_name: 'InputLayer',
          name: 'x',
          config: { name: 'x', [w === 'keras3' ? 'batch_shape' : 'batch_input_shape']: input },
          inbound_nodes: [],
        },
        {
          class_name: cls,
          name: 'l',
          config: { name: 'l', ...config },
          inbound_nodes:
            w === 'keras3' ? [{ args: [kt], kwargs: { training: false, mask: null } }] : [[['x', 0, 0, {}]]],
        },
      ],
    },
  });
  const node = m.nodes.find((n) => n.layer === 1)!;
  return {
    m,
    spec: m.layers[1]!,
    out: node.outputs.map((t) => m.tensors[t]!.shape),
    params: m.params[1]!.map((p) => [p.name, p.shape, p.trainable]),
  };
}

const ALL: Writer[] = ['keras1', 'keras2', 'keras3', 'tfjs'];
const K2UP: Writer[] = ['keras2', 'keras3', 'tfjs'];

describe('input shapes', () => {
  test('InputLayer batch_shape / batch_input_shape / input_shape / Keras 1 input_dim + input_length', () => {
    const shapes = (cfg: unknown, v = '2.2.4') => build(v, cfg).tensors[0]!.shape;
    expect(
      shapes(sequential('keras3', [null, 7, 3], [{ class_name: 'Dense', config: { units: 2 } }]), '3.10.0'),
    ).toEqual([null, 7, 3]);
    expect(
      shapes(
        {
          class_name: 'Sequential',
          config: [{ class_name: 'LSTM', config: { name: 'a', output_dim: 4, input_dim: 3, input_length: 9 } }],
        },
        '1.2.2',
      ),
    ).toEqual([null, 9, 3]);
    expect(
      shapes(
        {
          class_name: 'Sequential',
          config: [{ class_name: 'LSTM', config: { name: 'a', output_dim: 4, input_dim: 3, input_length: null } }],
        },
        '1.2.2',
      ),
    ).toEqual([null, null, 3]);
    expect(
      shapes(
        {
          class_name: 'Sequential',
          config: [{ class_name: 'Dense', config: { name: 'a', output_dim: 4, input_dim: 3 } }],
        },
        '1.2.2',
      ),
    ).toEqual([null, 3]);
    expect(
      shapes(
        {
          class_name: 'Sequential',
          config: [{ class_name: 'Embedding', config: { name: 'a', input_dim: 30, output_dim: 4, input_length: 11 } }],
        },
        '1.2.2',
      ),
    ).toEqual([null, 11]);
    expect(
      shapes({
        class_name: 'Sequential',
        config: {
          name: 's',
          layers: [
            { class_name: 'InputLayer', config: { name: 'i', input_shape: [5, 2] } },
            { class_name: 'Dense', config: { name: 'd', units: 1 } },
          ],
        },
      }),
    ).toEqual([null, 5, 2]);
    // A fixed batch size is dropped.
    expect(
      shapes({
        class_name: 'Sequential',
        config: [{ class_name: 'Dense', config: { name: 'a', units: 4, batch_input_shape: [25, 3] } }],
      }),
    ).toEqual([null, 3]);
    // Keras 3 Sequential without an InputLayer but with build_input_shape; int inputs.
    const m = build('3.10.0', {
      class_name: 'Sequential',
      config: {
        name: 's',
        layers: [{ class_name: 'Dense', config: { name: 'd', units: 1 } }],
        build_input_shape: [null, 4],
      },
    });
    expect([m.tensors[0]!.shape, m.inputNames]).toEqual([[null, 4], ['d_input']]);
    expect(
      build('2.2.4', {
        class_name: 'Model',
        config: {
          name: 'f',
          layers: [
            {
              class_name: 'InputLayer',
              name: 'i',
              config: { name: 'i', batch_input_shape: [null, 3], dtype: 'int32' },
              inbound_nodes: [],
            },
          ],
          input_layers: [['i', 0, 0]],
          output_layers: [['i', 0, 0]],
        },
      }).tensors[0]!.dtype,
    ).toBe('int32');
  });
});

describe('core layers', () => {
  for (const w of ALL) {
    test(`Dense (${w})`, () => {
      const cfg =
        w === 'keras1'
          ? { output_dim: 5, activation: 'relu', bias: false }
          : { units: 5, activation: 'relu', use_bias: false };
      const r = one(w, [null, 3], 'Dense', cfg);
      expect(r.spec).toEqual({
        name: 'l',
        className: 'Dense',
        type: 'Dense',
        units: 5,
        activation: { name: 'relu', negativeSlope: 0, maxValue: null, threshold: 0 },
        useBias: false,
      });
      expect([r.out, r.params]).toEqual([[[null, 5]], [['kernel', [3, 5], true]]]);
    });
  }

  for (const w of K2UP) {
    test(`Dense on rank 3, Embedding, Masking, Activation, Dropout family (${w})`, () => {
      expect(one(w, [null, 4, 3], 'Dense', { units: 2 }).out).toEqual([[null, 4, 2]]);
      const e = one(w, [null, 6], 'Embedding', { input_dim: 10, output_dim: 3, mask_zero: true, input_length: 6 });
      expect([e.spec, e.out, e.params]).toEqual([
        { name: 'l', className: 'Embedding', type: 'Embedding', inputDim: 10, outputDim: 3, maskZero: true },
        [[null, 6, 3]],
        [['embeddings', [10, 3], true]],
      ]);
      expect(one(w, [null, 4, 3], 'Masking', { mask_value: -1 }).spec).toMatchObject({
        type: 'Masking',
        maskValue: -1,
      });
      expect(one(w, [null, 4, 3], 'Activation', { activation: 'softmax' }).spec).toMatchObject({
        type: 'Activation',
        activation: { name: 'softmax', axis: -1 },
      });
      for (const cls of [
        'Dropout',
        'SpatialDropout1D',
        'GaussianNoise',
        'GaussianDropout',
        'AlphaDropout',
        'ActivityRegularization',
      ]) {
        const r = one(w, [null, 4, 3], cls, { rate: 0.5, stddev: 0.1 });
        expect([r.spec.type, r.out, r.params]).toEqual(['Identity', [[null, 4, 3]], []]);
      }
    });
  }

  test('activation layers keep their options', () => {
    const act = (cls: string, cfg: Record<string, unknown>, w: Writer = 'keras2') =>
      (one(w, [null, 3], cls, cfg).spec as { activation: unknown }).activation;
    expect(act('ReLU', { max_value: 6, negative_slope: 0.1, threshold: 0.5 })).toEqual({
      name: 'relu',
      maxValue: 6,
      negativeSlope: 0.1,
      threshold: 0.5,
    });
    expect(act('LeakyReLU', { alpha: 0.25 })).toEqual({ name: 'leaky_relu', negativeSlope: 0.25 });
    expect(act('LeakyReLU', { negative_slope: 0.1 }, 'keras3')).toEqual({ name: 'leaky_relu', negativeSlope: 0.1 });
    expect(act('LeakyReLU', {})).toEqual({ name: 'leaky_relu', negativeSlope: 0.3 });
    expect(act('ELU', { alpha: 0.5 })).toEqual({ name: 'elu', alpha: 0.5 });
    expect(act('Softmax', { axis: 1 })).toEqual({ name: 'softmax', axis: 1 });
    expect(act('ThresholdedReLU', { theta: 2 })).toEqual({
      name: 'relu',
      maxValue: null,
      negativeSlope: 0,
      threshold: 2,
    });
  });

  test('RepeatVector, Flatten, Reshape (-1), Permute', () => {
    expect(one('keras2', [null, 3], 'RepeatVector', { n: 4 }).out).toEqual([[null, 4, 3]]);
    expect(one('keras2', [null, 4, 3], 'Flatten', {}).out).toEqual([[null, 12]]);
    expect(one('keras3', [null, 4, 3], 'Reshape', { target_shape: [2, -1] }).out).toEqual([[null, 2, 6]]);
    expect(one('keras1', [null, 4, 3], 'Reshape', { target_shape: [12] }).out).toEqual([[null, 12]]);
    const p = one('tfjs', [null, 4, 3], 'Permute', { dims: [2, 1] });
    expect([p.spec, p.out]).toEqual([
      { name: 'l', className: 'Permute', type: 'Permute', dims: [2, 1] },
      [[null, 3, 4]],
    ]);
  });

  test('TimeDistributed(Dense) and Keras 1 TimeDistributedDense', () => {
    for (const w of K2UP) {
      const r = one(w, [null, 5, 3], 'TimeDistributed', {
        layer: { class_name: 'Dense', config: { name: 'inner', units: 2, activation: 'tanh' } },
      });
      expect([r.spec, r.out, r.params]).toEqual([
        {
          name: 'l',
          className: 'TimeDistributed',
          type: 'TimeDistributed',
          inner: {
            name: 'inner',
            className: 'Dense',
            type: 'Dense',
            units: 2,
            activation: { name: 'tanh' },
            useBias: true,
          },
        },
        [[null, 5, 2]],
        [
          ['kernel', [3, 2], true],
          ['bias', [2], true],
        ],
      ]);
      expect(r.m.params[1]!.map((p) => p.key)).toEqual(['l/kernel', 'l/bias']);
    }
    const k1 = one('keras1', [null, 5, 3], 'TimeDistributedDense', { output_dim: 2 });
    expect([k1.spec.type, k1.out, k1.params.map((p) => p[1])]).toEqual([
      'TimeDistributed',
      [[null, 5, 2]],
      [[3, 2], [2]],
    ]);
    expect(savedWeightLayout(k1.m, 1, 'keras1').map((x) => x.name)).toEqual(['W', 'b']);
  });

  test('BatchNormalization: gamma/beta trainable, moving statistics not; axis as list; center/scale', () => {
    for (const w of ALL) {
      const r = one(
        w,
        [null, 4, 3],
        'BatchNormalization',
        w === 'keras1'
          ? { mode: 0, axis: -1, epsilon: 1e-3 }
          : { axis: w === 'keras2' ? [2] : -1, epsilon: 0.01, momentum: 0.9 },
      );
      expect(r.spec).toMatchObject({
        type: 'BatchNormalization',
        axis: w === 'keras2' ? 2 : -1,
        center: true,
        scale: true,
        epsilon: w === 'keras1' ? 1e-3 : 0.01,
      });
      expect(r.params).toEqual([
        ['gamma', [3], true],
        ['beta', [3], true],
        ['moving_mean', [3], false],
        ['moving_variance', [3], false],
      ]);
      expect(countParams(r.m)).toEqual({ trainable: 6, nonTrainable: 6, total: 12 });
    }
    const k1 = one('keras1', [null, 3], 'BatchNormalization', { mode: 0 });
    expect(savedWeightLayout(k1.m, 1, 'keras1').map((x) => x.name)).toEqual([
      'gamma',
      'beta',
      'running_mean',
      'running_std',
    ]);
    expect(one('keras3', [null, 4, 3], 'BatchNormalization', { center: false, axis: 1 }).params).toEqual([
      ['gamma', [4], true],
      ['moving_mean', [4], false],
      ['moving_variance', [4], false],
    ]);
  });

  test('LayerNormalization: axis int or list', () => {
    expect(one('keras3', [null, 4, 3], 'LayerNormalization', { axis: -1, epsilon: 1e-5 }).params).toEqual([
      ['gamma', [3], true],
      ['beta', [3], true],
    ]);
    const r = one('keras2', [null, 4, 3], 'LayerNormalization', { axis: [1, 2], scale: false });
    expect([r.spec, r.params]).toEqual([
      {
        name: 'l',
        className: 'LayerNormalization',
        type: 'LayerNormalization',
        axis: [1, 2],
        epsilon: 1e-3,
        center: true,
        scale: false,
      },
      [['beta', [4, 3], true]],
    ]);
  });
});

describe('Conv1D and pooling', () => {
  const rows: [string, number, number, number, number, string, number][] = readJson(`${GOLDENS}conv_lengths.json`);

  test(`output lengths equal PyTorch's on ${rows.length} (L, k, stride, dilation, padding) cases`, () => {
    for (const [kind, L, k, s, d, pad, n] of rows) {
      const cfg =
        kind === 'conv'
          ? { filters: 2, kernel_size: [k], strides: [s], dilation_rate: [d], padding: pad }
          : { pool_size: [k], strides: [s], padding: pad };
      const build1 = () => one('keras2', [null, L, 3], kind === 'conv' ? 'Conv1D' : 'MaxPooling1D', cfg);
      if (n === 0) expect(build1).toThrow(/steps for padding='valid'/);
      else expect(build1().out).toEqual([[null, n, kind === 'conv' ? 2 : 3]]);
    }
  });

  test('Conv1D spellings: Keras 1 Convolution1D / AtrousConvolution1D, Keras 2/3 lists or ints', () => {
    const k1 = one('keras1', [null, 10, 4], 'Convolution1D', {
      nb_filter: 6,
      filter_length: 3,
      border_mode: 'same',
      subsample_length: 2,
      activation: 'relu',
    });
    expect(k1.spec).toMatchObject({
      type: 'Conv1D',
      filters: 6,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      dilationRate: 1,
      useBias: true,
    });
    expect([k1.out, k1.params]).toEqual([
      [[null, 5, 6]],
      [
        ['kernel', [3, 4, 6], true],
        ['bias', [6], true],
      ],
    ]);
    expect(
      one('keras1', [null, 10, 4], 'AtrousConvolution1D', { nb_filter: 2, filter_length: 3, atrous_rate: 2 }).out,
    ).toEqual([[null, 6, 2]]);
    const k3 = one('keras3', [null, 10, 4], 'Conv1D', {
      filters: 2,
      kernel_size: 3,
      strides: 1,
      padding: 'causal',
      dilation_rate: 2,
      groups: 1,
      use_bias: false,
      data_format: 'channels_last',
    });
    expect([k3.out, k3.params]).toEqual([[[null, 10, 2]], [['kernel', [3, 4, 2], true]]]);
  });

  test('pooling spellings: pool_length / stride (Keras 1), strides null, average, global', () => {
    expect(
      one('keras1', [null, 10, 4], 'MaxPooling1D', { pool_length: 3, stride: null, border_mode: 'valid' }).spec,
    ).toMatchObject({ type: 'Pooling1D', mode: 'max', poolSize: 3, strides: 3 });
    expect(
      one('keras2', [null, 10, 4], 'AveragePooling1D', { pool_size: [2], strides: null, padding: 'same' }).out,
    ).toEqual([[null, 5, 4]]);
    expect(
      one('keras3', [null, 10, 4], 'GlobalAveragePooling1D', { data_format: 'channels_last', keepdims: false }).out,
    ).toEqual([[null, 4]]);
    expect(one('tfjs', [null, 10, 4], 'GlobalMaxPooling1D', {}).spec).toMatchObject({
      type: 'GlobalPooling1D',
      mode: 'max',
    });
  });
});

describe('recurrent layers', () => {
  const hs = (slope: number) => ({ name: 'hard_sigmoid', hardSigmoidSlope: slope });

  test('defaults for missing keys follow the writer version (docs/keras-versions.md)', () => {
    const ra = (v: string) => {
      const r = one('keras2', [null, 4, 3], 'LSTM', { units: 2 }, v).spec;
      return r.type === 'Recurrent' ? r.rnn.recurrentActivation : null;
    };
    expect(ra('1.2.2')).toEqual(hs(0.2));
    expect(ra('2.1.3')).toEqual(hs(0.2));
    expect(ra('2.3.1')).toEqual({ name: 'sigmoid' });
    expect(ra('2.2.4-tf')).toEqual({ name: 'sigmoid' });
    expect(ra('2.13.1')).toEqual({ name: 'sigmoid' });
    expect(ra('3.10.0')).toEqual({ name: 'sigmoid' });
    expect(ra('tfjs-layers 4.22.0')).toEqual(hs(0.2));
    const gru = (v: string) => one('keras2', [null, 4, 3], 'GRU', { units: 2 }, v);
    for (const [v, after] of [
      ['2.2.4', false],
      ['2.13.1', true],
      ['3.0.0', true],
      ['tfjs-layers 4.22.0', false],
    ] as const) {
      const r = gru(v);
      expect(r.spec.type === 'Recurrent' && r.spec.rnn.resetAfter).toBe(after);
      expect(r.params[2]).toEqual(['bias', after ? [2, 6] : [6], true]);
    }
  });

  test('"hard_sigmoid" means slope 1/6 only when Keras 3 wrote it', () => {
    for (const w of ALL) {
      const r = one(
        w,
        [null, 4, 3],
        'GRU',
        w === 'keras1'
          ? { output_dim: 2, inner_activation: 'hard_sigmoid' }
          : { units: 2, recurrent_activation: 'hard_sigmoid', activation: 'hard_sigmoid' },
      );
      if (r.spec.type !== 'Recurrent') throw new Error('not recurrent');
      expect(r.spec.rnn.recurrentActivation).toEqual(hs(w === 'keras3' ? 1 / 6 : 0.2));
    }
  });

  for (const w of ALL) {
    test(`LSTM / GRU / SimpleRNN fields and shapes (${w})`, () => {
      const units = (n: number) => (w === 'keras1' ? { output_dim: n } : { units: n });
      const l = one(w, [null, 7, 3], 'LSTM', {
        ...units(4),
        activation: 'relu',
        return_sequences: true,
        go_backwards: true,
        unroll: true,
        implementation: 2,
        dropout: 0.5,
        recurrent_dropout: 0.5,
        dropout_W: 0.1,
        consume_less: 'gpu',
      });
      if (l.spec.type !== 'Recurrent') throw new Error('not recurrent');
      expect(l.spec.rnn).toMatchObject({
        kind: 'LSTM',
        units: 4,
        inputDim: 3,
        returnSequences: true,
        goBackwards: true,
        returnState: false,
        stateful: false,
        useBias: true,
      });
      expect(l.spec.rnn.activation.name).toBe('relu');
      expect([l.out, l.params]).toEqual([
        [[null, 7, 4]],
        [
          ['kernel', [3, 16], true],
          ['recurrent_kernel', [4, 16], true],
          ['bias', [16], true],
        ],
      ]);
      expect(l.m.warnings).toEqual([]);
      const s = one(w, [null, 7, 3], 'SimpleRNN', {
        ...units(5),
        activation: 'linear',
        ...(w === 'keras1' ? { bias: false } : { use_bias: false }),
      });
      expect([s.out, s.params]).toEqual([
        [[null, 5]],
        [
          ['kernel', [3, 5], true],
          ['recurrent_kernel', [5, 5], true],
        ],
      ]);
      if (w === 'keras2' || w === 'keras3') {
        const g = fnOne(
          w,
          VERSION[w],
          [null, 7, 3],
          'GRU',
          { units: 2, return_state: true, return_sequences: true },
          2,
        );
        expect(g.out).toEqual([
          [null, 7, 2],
          [null, 2],
        ]);
        expect(g.m.outputs.map((t) => g.m.tensors[t]!.shape)).toEqual([
          [null, 7, 2],
          [null, 2],
        ]);
      }
    });
  }

  test('return_state outputs, stateful warning, zero_output_for_mask', () => {
    const r = fnOne(
      'keras3',
      '3.10.0',
      [null, 7, 3],
      'LSTM',
      { units: 4, return_state: true, stateful: true, zero_output_for_mask: true },
      3,
    );
    expect(r.out).toEqual([
      [null, 4],
      [null, 4],
      [null, 4],
    ]);
    expect(r.spec.type === 'Recurrent' && r.spec.rnn.zeroOutputForMask).toBe(true);
    expect(r.m.warnings).toEqual([
      {
        code: 'stateful',
        message:
          "Layer 'l' is stateful; rnnscope starts every batch from a zero state, while Keras would carry the state over from the previous batch.",
        count: 1,
      },
    ]);
  });

  test('CuDNNLSTM / CuDNNGRU run as LSTM (tanh, sigmoid) / GRU(reset_after=True); Keras counts the cuDNN bias', () => {
    const l = one('keras2', [null, 7, 3], 'CuDNNLSTM', { units: 4, return_sequences: true }, '2.1.5');
    expect(l.spec).toMatchObject({
      className: 'CuDNNLSTM',
      type: 'Recurrent',
      rnn: { kind: 'LSTM', activation: { name: 'tanh' }, recurrentActivation: { name: 'sigmoid' }, useBias: true },
    });
    expect(l.params.map((p) => p[1])).toEqual([[3, 16], [4, 16], [16]]);
    expect(savedWeightLayout(l.m, 1, 'keras2')).toEqual([
      { name: 'kernel', shape: [3, 16] },
      { name: 'recurrent_kernel', shape: [4, 16] },
      { name: 'bias', shape: [32] },
    ]);
    // Keras: 3·16 + 4·16 + 8·4 = 144.
    expect(countParams(l.m).total).toBe(144);
    const g = one('keras2', [null, 7, 3], 'CuDNNGRU', { units: 4 }, '2.1.5');
    expect(g.spec).toMatchObject({
      className: 'CuDNNGRU',
      rnn: { kind: 'GRU', resetAfter: true, recurrentActivation: { name: 'sigmoid' } },
    });
    expect([g.params[2], countParams(g.m).total]).toEqual([['bias', [2, 12], true], 3 * 12 + 4 * 12 + 24]);
    // textgenrnn's rnn_bidirectional option: Bidirectional(CuDNNLSTM).
    const b = one(
      'keras2',
      [null, 7, 3],
      'Bidirectional',
      { layer: { class_name: 'CuDNNLSTM', config: { name: 'c', units: 4 } } },
      '2.1.5',
    );
    expect(savedWeightLayout(b.m, 1, 'keras2').map((x) => x.shape.join('x'))).toEqual([
      '3x16',
      '4x16',
      '32',
      '3x16',
      '4x16',
      '32',
    ]);
    expect(countParams(b.m).total).toBe(2 * 144);
  });

  test('RNN with one built-in cell = the matching layer', () => {
    const r = one('keras3', [null, 7, 3], 'RNN', {
      return_sequences: false,
      cell: {
        module: 'keras.layers',
        class_name: 'GRUCell',
        config: { units: 4, activation: 'tanh', recurrent_activation: 'sigmoid', reset_after: false },
        registered_name: null,
      },
    });
    expect(r.spec).toMatchObject({
      className: 'RNN',
      type: 'Recurrent',
      rnn: { kind: 'GRU', units: 4, inputDim: 3, resetAfter: false },
    });
    expect(r.out).toEqual([[null, 4]]);
  });

  test('Keras 1 LSTM saved layout: 12 per-gate arrays i, c, f, o (fused W, U, b for consume_less=gpu)', () => {
    const cpu = one('keras1', [null, 7, 3], 'LSTM', { output_dim: 4, consume_less: 'cpu' });
    expect(
      savedWeightLayout(cpu.m, 1, 'keras1')
        .map((x) => `${x.name}:${x.shape.join('x')}`)
        .join(' '),
    ).toBe('W_i:3x4 U_i:4x4 b_i:4 W_c:3x4 U_c:4x4 b_c:4 W_f:3x4 U_f:4x4 b_f:4 W_o:3x4 U_o:4x4 b_o:4');
    const gpu = one('keras1', [null, 7, 3], 'LSTM', { output_dim: 4, consume_less: 'gpu' });
    expect(savedWeightLayout(gpu.m, 1, 'keras1').map((x) => x.name)).toEqual(['W', 'U', 'b']);
    expect(savedWeightLayout(cpu.m, 1, 'keras2').map((x) => x.name)).toEqual(['kernel', 'recurrent_kernel', 'bias']);
  });
});

describe('Bidirectional', () => {
  const inner = (w: Writer, extra: Record<string, unknown> = {}) => ({
    class_name: 'LSTM',
    config: {
      name: w === 'keras3' ? 'forward_lstm' : 'lstm',
      ...(w === 'keras1' ? { output_dim: 4 } : { units: 4 }),
      return_sequences: true,
      ...extra,
    },
  });

  test('merge modes → output shapes; params forward then backward', () => {
    for (const [mode, last] of [
      ['concat', 8],
      ['sum', 4],
      ['mul', 4],
      ['ave', 4],
    ] as const) {
      const r = one('keras2', [null, 6, 3], 'Bidirectional', { layer: inner('keras2'), merge_mode: mode });
      expect(r.out).toEqual([[null, 6, last]]);
    }
    const r = one('keras2', [null, 6, 3], 'Bidirectional', { layer: inner('keras2') });
    expect(r.m.params[1]!.map((p) => `${p.key}:${p.shape.join('x')}`)).toEqual([
      'l/forward/kernel:3x16',
      'l/forward/recurrent_kernel:4x16',
      'l/forward/bias:16',
      'l/backward/kernel:3x16',
      'l/backward/recurrent_kernel:4x16',
      'l/backward/bias:16',
    ]);
  });

  test('sublayer names, go_backwards, and zero_output_for_mask forcing per writer (docs/masking.md)', () => {
    const expectations: [Writer | string, string, string, boolean][] = [
      ['keras1', 'forward_lstm', 'backward_lstm', false],
      ['keras2', 'forward_lstm', 'backward_lstm', false],
      ['tfjs', 'forward_lstm', 'backward_lstm', false],
      ['keras3', 'forward_lstm', 'backward_lstm', true],
    ];
    for (const [w, fwd, bwd, forced] of expectations) {
      const back =
        w === 'keras3'
          ? {
              backward_layer: {
                module: 'keras.layers',
                class_name: 'LSTM',
                config: { ...inner('keras3').config, name: 'backward_lstm', go_backwards: true },
                registered_name: null,
              },
            }
          : {};
      const r = one(w as Writer, [null, 6, 3], 'Bidirectional', {
        layer: inner(w as Writer),
        merge_mode: 'concat',
        ...back,
      });
      if (r.spec.type !== 'Bidirectional') throw new Error('not bidirectional');
      expect([
        r.spec.forwardName,
        r.spec.backwardName,
        r.spec.forward.goBackwards,
        r.spec.backward.goBackwards,
      ]).toEqual([fwd, bwd, false, true]);
      expect([r.spec.forward.zeroOutputForMask, r.spec.backward.zeroOutputForMask]).toEqual([forced, forced]);
    }
    // tf.keras forces too, and prefixes a user backward layer's name.
    const tk = one(
      'keras2',
      [null, 6, 3],
      'Bidirectional',
      {
        layer: inner('keras2'),
        backward_layer: {
          class_name: 'GRU',
          config: { name: 'gru_b', units: 4, return_sequences: true, go_backwards: true },
        },
      },
      '2.13.1',
    );
    if (tk.spec.type !== 'Bidirectional') throw new Error('not bidirectional');
    expect([
      tk.spec.backwardName,
      tk.spec.backward.kind,
      tk.spec.forward.zeroOutputForMask,
      tk.spec.backward.resetAfter,
    ]).toEqual(['backward_gru_b', 'GRU', true, true]);
    expect(tk.m.params[1]!.map((p) => p.shape.join('x'))).toEqual(['3x16', '4x16', '16', '3x12', '4x12', '2x12']);
  });

  test('return_state and merge_mode=None outputs; input shape on the wrapper or on the inner layer', () => {
    const cfg = {
      class_name: 'Model',
      config: {
        name: 'm',
        input_layers: [['x', 0, 0]],
        output_layers: [
          ['bi', 0, 0],
          ['bi', 0, 1],
          ['bi', 0, 2],
          ['bi', 0, 3],
          ['bi', 0, 4],
          ['bi', 0, 5],
        ],
        layers: [
          {
            class_name: 'InputLayer',
            name: 'x',
            config: { name: 'x', batch_input_shape: [null, 6, 3] },
            inbound_nodes: [],
          },
          {
            class_name: 'Bidirectional',
            name: 'bi',
            config: {
              name: 'bi',
              merge_mode: null,
              layer: { class_name: 'LSTM', config: { name: 'lstm', units: 4, return_state: true } },
            },
            inbound_nodes: [[['x', 0, 0, {}]]],
          },
        ],
      },
    };
    const m = build('2.13.1', cfg);
    expect(m.outputs.map((t) => m.tensors[t]!.shape)).toEqual([
      [null, 4],
      [null, 4],
      [null, 4],
      [null, 4],
      [null, 4],
      [null, 4],
    ]);
    const onInner = build('2.2.4', {
      class_name: 'Sequential',
      config: [
        {
          class_name: 'Bidirectional',
          config: {
            name: 'b',
            layer: { class_name: 'GRU', config: { name: 'g', units: 2, batch_input_shape: [null, 5, 7] } },
          },
        },
      ],
    });
    expect(onInner.tensors[0]!.shape).toEqual([null, 5, 7]);
  });
});
