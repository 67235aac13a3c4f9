// Model configs with the added layers (LRCN TimeDistributed CNN stacks, attention
// after an LSTM, MultiHeadAttention called with value=, Dot, keras_contrib CRF):
// shapes, parameter specs, summary text, and refusals that list every blocker at once.

import { describe, expect, test } from 'vitest';
import { buildModel } from '../src/model/build.js';
import { ModelError } from '../src/model/errors.js';
import { SUPPORTED_LAYERS } from '../src/model/messages.js';
import { summary } from '../src/model/summary.js';
import { sequential } from './model-helpers.js';

const build = (v: string, cfg: unknown) => buildModel(cfg, { kerasVersion: v, format: 'config', source: 'model.json' });
const supported = SUPPORTED_LAYERS.join(', ');
const td = (inner: { class_name: string; config: Record<string, unknown> }, name: string) => ({
  class_name: 'TimeDistributed',
  config: { name, layer: inner },
});
const shapeOf = (m: ReturnType<typeof build>, name: string) =>
  m.tensors[m.nodes.find((n) => m.layers[n.layer]!.name === name)!.outputs[0]!]!.shape;

describe('LRCN: TimeDistributed around a 2-D CNN stack', () => {
  test('Keras 2 Sequential: shapes, parameter keys and counts', () => {
    const m = build(
      '2.2.4',
      sequential(
        'keras2',
        [null, 5, 16, 16, 3],
        [
          td(
            {
              class_name: 'Conv2D',
              config: {
                name: 'c1',
                filters: 4,
                kernel_size: [3, 3],
                padding: 'same',
                strides: [1, 1],
                activation: 'relu',
              },
            },
            'td_conv',
          ),
          td({ class_name: 'BatchNormalization', config: { name: 'bn', axis: -1 } }, 'td_bn'),
          td({ class_name: 'MaxPooling2D', config: { name: 'mp', pool_size: [2, 2] } }, 'td_pool'),
          td(
            {
              class_name: 'ZeroPadding2D',
              config: {
                name: 'zp',
                padding: [
                  [1, 0],
                  [0, 1],
                ],
              },
            },
            'td_zp',
          ),
          td({ class_name: 'SpatialDropout2D', config: { name: 'sd', rate: 0.2 } }, 'td_sd'),
          td(
            { class_name: 'Conv2D', config: { name: 'c2', filters: 2, kernel_size: 3, strides: 2, dilation_rate: 1 } },
            'td_conv2',
          ),
          td({ class_name: 'GlobalAveragePooling2D', config: { name: 'gap' } }, 'td_gap'),
          { class_name: 'LSTM', config: { name: 'lstm', units: 3 } },
          { class_name: 'Dense', config: { name: 'out', units: 2, activation: 'softmax' } },
        ],
      ),
    );
    expect(shapeOf(m, 'td_conv')).toEqual([null, 5, 16, 16, 4]);
    expect(shapeOf(m, 'td_pool')).toEqual([null, 5, 8, 8, 4]);
    expect(shapeOf(m, 'td_zp')).toEqual([null, 5, 9, 9, 4]);
    expect(shapeOf(m, 'td_conv2')).toEqual([null, 5, 4, 4, 2]);
    expect(shapeOf(m, 'td_gap')).toEqual([null, 5, 2]);
    const keys = m.params.flat().map((p) => `${p.key} ${p.shape.join('x')}${p.trainable ? '' : ' (frozen)'}`);
    expect(keys.slice(0, 8)).toEqual([
      'td_conv/kernel 3x3x3x4',
      'td_conv/bias 4',
      'td_bn/gamma 4',
      'td_bn/beta 4',
      'td_bn/moving_mean 4 (frozen)',
      'td_bn/moving_variance 4 (frozen)',
      'td_conv2/kernel 3x3x4x2',
      'td_conv2/bias 2',
    ]);
  });
  test('Keras 1 Convolution2D spelling (nb_filter, nb_row, nb_col, subsample, border_mode, dim_ordering tf)', () => {
    const m = build('1.2.2', {
      class_name: 'Sequential',
      config: [
        td(
          {
            class_name: 'Convolution2D',
            config: {
              name: 'c',
              nb_filter: 3,
              nb_row: 3,
              nb_col: 2,
              subsample: [2, 2],
              border_mode: 'valid',
              dim_ordering: 'tf',
              batch_input_shape: [null, 4, 9, 8, 1],
            },
          },
          'td',
        ),
      ],
    });
    expect(shapeOf(m, 'td')).toEqual([null, 4, 4, 4, 3]);
    expect(m.params[1]!.map((p) => p.shape)).toEqual([[3, 2, 1, 3], [3]]);
  });
});

describe('attention after an LSTM, MultiHeadAttention, Dot, CRF', () => {
  const node = (...names: string[]) => [names.map((n) => [n, 0, 0, {}])];
  test('tf.keras functional: Attention([lstm, lstm]) with return_attention_scores, MultiHeadAttention(q, value=v), Dot', () => {
    const cfg = {
      class_name: 'Functional',
      config: {
        name: 'm',
        input_layers: [['x', 0, 0]],
        output_layers: [
          ['att', 0, 0],
          ['att', 0, 1],
          ['mha', 0, 0],
          ['dot', 0, 0],
        ],
        layers: [
          {
            class_name: 'InputLayer',
            name: 'x',
            config: { name: 'x', batch_input_shape: [null, 7, 3] },
            inbound_nodes: [],
          },
          {
            class_name: 'LSTM',
            name: 'lstm',
            config: { name: 'lstm', units: 4, return_sequences: true },
            inbound_nodes: node('x'),
          },
          {
            class_name: 'Attention',
            name: 'att',
            config: { name: 'att', use_scale: true, score_mode: 'concat', dropout: 0.1 },
            inbound_nodes: [
              [
                ['lstm', 0, 0, { return_attention_scores: true }],
                ['lstm', 0, 0, { return_attention_scores: true }],
              ],
            ],
          },
          {
            class_name: 'MultiHeadAttention',
            name: 'mha',
            config: {
              name: 'mha',
              num_heads: 2,
              key_dim: 3,
              value_dim: null,
              use_bias: true,
              output_shape: null,
              attention_axes: null,
            },
            inbound_nodes: [[['lstm', 0, 0, { value: ['x', 0, 0] }]]],
          },
          {
            class_name: 'Dot',
            name: 'dot',
            config: { name: 'dot', axes: 2, normalize: true },
            inbound_nodes: node('lstm', 'lstm'),
          },
        ],
      },
    };
    const m = build('2.13.1', cfg);
    const outs = m.outputs.map((t) => m.tensors[t]!.shape);
    expect(outs).toEqual([
      [null, 7, 4],
      [null, 7, 7],
      [null, 7, 4],
      [null, 7, 7],
    ]);
    expect(m.params[2]!.map((p) => `${p.name} ${p.shape}`)).toEqual(['scale ', 'concat_score_weight ']);
    expect(m.params[3]!.map((p) => `${p.name} ${p.shape}`)).toEqual([
      'query/kernel 4,2,3',
      'query/bias 2,3',
      'key/kernel 3,2,3',
      'key/bias 2,3',
      'value/kernel 3,2,3',
      'value/bias 2,3',
      'attention_output/kernel 2,3,4',
      'attention_output/bias 4',
    ]);
  });
  test('BiLSTM-CRF (keras_contrib): parameters, crf_loss, summary names the library', () => {
    const m = buildModel(
      sequential(
        'keras2',
        [null, 6],
        [
          { class_name: 'Embedding', config: { name: 'emb', input_dim: 20, output_dim: 5, mask_zero: true } },
          {
            class_name: 'Bidirectional',
            config: {
              name: 'bi',
              layer: { class_name: 'LSTM', config: { name: 'l', units: 4, return_sequences: true } },
              merge_mode: 'concat',
            },
          },
          {
            class_name: 'CRF',
            config: {
              name: 'crf',
              units: 3,
              learn_mode: 'join',
              test_mode: 'viterbi',
              sparse_target: true,
              use_boundary: true,
              use_bias: true,
              activation: 'linear',
              input_dim: 8,
              unroll: false,
            },
          },
        ],
      ),
      { kerasVersion: '2.2.4', format: 'keras-h5', source: 'ner.h5', trainingConfig: { loss: 'crf_loss' } },
    );
    expect(m.params[3]!.map((p) => `${p.name} ${p.shape}`)).toEqual([
      'kernel 8,3',
      'chain_kernel 3,3',
      'bias 3',
      'left_boundary 3',
      'right_boundary 3',
    ]);
    expect(m.meta.loss).toEqual([{ name: 'crf_loss', fromLogits: false, labelSmoothing: 0 }]);
    expect(summary(m)).toContain('crf (CRF, keras_contrib)');
  });
});

describe('refusals', () => {
  const refusal = (fn: () => unknown): ModelError => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(ModelError);
      return e as ModelError;
    }
    throw new Error('expected a ModelError');
  };
  test('every blocker in one message: a Lambda, a Conv3DTranspose, a library attention layer and a project class', () => {
    const e = refusal(() =>
      build(
        '2.2.4',
        sequential(
          'keras2',
          [null, 5, 8, 8, 1],
          [
            { class_name: 'Conv3DTranspose', config: { name: 'deconv', filters: 2, kernel_size: [3, 3, 3] } },
            { class_name: 'Lambda', config: { name: 'lam', function: ['x'], function_type: 'lambda' } },
            { class_name: 'SeqSelfAttention', config: { name: 'ssa', units: 4 } },
            { class_name: 'Attention', config: { name: 'my_att' } },
          ],
        ),
      ),
    );
    expect(e.message).toBe(
      `The model has 4 layers rnnscope cannot rebuild: Layer 'deconv' (Conv3DTranspose) is not supported by rnnscope; Layer 'lam' (Lambda) holds Python code that cannot run here; Layer 'ssa' (SeqSelfAttention) comes from the keras-self-attention library, whose code is not in the file, so rnnscope cannot rebuild it; Layer 'my_att' (Attention) is not a Keras layer; replace or remove each of them (supported: ${supported}), then re-save the model.`,
    );
  });
  test("a library layer is not called the project's code; a CRF without keras_contrib's config is a project class", () => {
    expect(
      refusal(() =>
        build(
          '2.2.4',
          sequential('keras2', [null, 5, 3], [{ class_name: 'SeqSelfAttention', config: { name: 'ssa' } }]),
        ),
      ).message,
    ).toBe(
      `Layer 'ssa' (SeqSelfAttention) comes from the keras-self-attention library, whose code is not in the file, so rnnscope cannot rebuild it; rnnscope rebuilds Keras's own layers and keras_contrib's CRF (supported: ${supported}); replace it with built-in layers, or ask for support naming the library.`,
    );
    expect(
      refusal(() =>
        build(
          '2.2.4',
          sequential('keras2', [null, 5, 3], [{ class_name: 'CRF', config: { name: 'crf', num_tags: 3 } }]),
        ),
      ).message,
    ).toMatch(/^Layer 'crf' \(CRF\) is not a Keras layer; it is a class defined in Python outside Keras/);
  });
  test("Keras's Attention is told from a project's class of that name by the keys Keras writes", () => {
    const att = (config: Record<string, unknown>) =>
      build(
        '2.13.1',
        sequential('keras2', [null, 5, 3], [{ class_name: 'Attention', config: { name: 'att', ...config } }]),
      );
    // A config with score_mode alone is Keras's (a hand-trimmed config): it is parsed and refused for its one input,
    // not as a project's class; step_dim belongs to a project's own class.
    expect(refusal(() => att({ score_mode: 'concat' })).message).toMatch(
      /^Layer 'att' \(Attention\) receives 1 input; expected 2 or 3/,
    );
    expect(refusal(() => att({ step_dim: 5, bias: true })).message).toMatch(
      /^Layer 'att' \(Attention\) is not a Keras layer; it is a class defined in Python outside Keras/,
    );
    const mha = { class_name: 'MultiHeadAttention', config: { name: 'mha', num_heads: 2, d_model: 8 } };
    expect(refusal(() => build('2.13.1', sequential('keras2', [null, 5, 3], [mha]))).message).toMatch(
      /^Layer 'mha' \(MultiHeadAttention\) is not a Keras layer/,
    );
  });
  test('MultiHeadAttention over other axes, and Attention score_mode', () => {
    expect(
      refusal(() =>
        build('2.13.1', {
          class_name: 'Functional',
          config: {
            name: 'm',
            input_layers: [['x', 0, 0]],
            output_layers: [['mha', 0, 0]],
            layers: [
              {
                class_name: 'InputLayer',
                name: 'x',
                config: { name: 'x', batch_input_shape: [null, 7, 3] },
                inbound_nodes: [],
              },
              {
                class_name: 'MultiHeadAttention',
                name: 'mha',
                config: { name: 'mha', num_heads: 2, key_dim: 3, attention_axes: [2] },
                inbound_nodes: [[['x', 0, 0, { value: ['x', 0, 0] }]]],
              },
            ],
          },
        }),
      ).message,
    ).toBe(
      "Layer 'mha' (MultiHeadAttention) has attention_axes=[2]; rnnscope supports attention_axes=None (attention over the steps axis); re-save the model without this option.",
    );
  });
});

describe('summary labels', () => {
  test('a file tfjs-layers wrote says TF.js layers; repeated output names get their output index', () => {
    const cfg = {
      class_name: 'Model',
      config: {
        name: 'dec',
        input_layers: [['x', 0, 0]],
        output_layers: [
          ['lstm_2', 0, 0],
          ['lstm_2', 0, 1],
          ['lstm_2', 0, 2],
        ],
        layers: [
          {
            class_name: 'InputLayer',
            name: 'x',
            config: { name: 'x', batch_input_shape: [null, 4, 3] },
            inbound_nodes: [],
          },
          {
            class_name: 'LSTM',
            name: 'lstm_2',
            config: { name: 'lstm_2', units: 2, return_sequences: true, return_state: true },
            inbound_nodes: [[['x', 0, 0, {}]]],
          },
        ],
      },
    };
    const m = buildModel(cfg, {
      kerasVersion: 'tfjs-layers 4.22.0',
      format: 'tfjs-layers',
      backend: 'tensor_flow.js',
      source: 'model.json',
    });
    const text = summary(m);
    expect(text).toContain('Format: tfjs-layers (TF.js layers 4.22.0)\n');
    expect(text).toContain('Outputs: lstm_2[0] (None, 4, 2), lstm_2[1] (None, 2), lstm_2[2] (None, 2)\n');
  });
});
