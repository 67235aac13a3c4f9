// Exact refusal messages: one sentence naming the layer, the option and what is
// supported. The messages come from src/model/messages.ts; the full text is
// asserted here so a change of wording is a visible test change.

import { describe, expect, test } from 'vitest';
import { buildModel } from '../src/model/build.js';
import { ModelError } from '../src/model/errors.js';
import { SUPPORTED_LAYERS } from '../src/model/messages.js';
import { SUPPORTED_ACTIVATIONS } from '../src/model/activation-config.js';
import { sequential } from './model-helpers.js';

const build = (v: string, cfg: unknown) => buildModel(cfg, { kerasVersion: v, format: 'config', source: 'model.json' });
const supported = SUPPORTED_LAYERS.join(', ');

function refusal(fn: () => unknown): ModelError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ModelError);
    return e as ModelError;
  }
  throw new Error('expected a ModelError');
}

const layer =
  (cls: string, config: Record<string, unknown>, v = '2.2.4', input: (number | null)[] = [null, 5, 3]) =>
  () =>
    build(
      v,
      sequential(v.startsWith('3') ? 'keras3' : 'keras2', input, [
        { class_name: cls, config: { name: 'bad', ...config } },
      ]),
    );

describe('layers that cannot be rebuilt', () => {
  test('textgenrnn (Keras 2.1.5 functional, reconstructed from textgenrnn/model.py): AttentionWeightedAverage', () => {
    const node = (n: string) => [[[n, 0, 0, {}]]];
    const cfg = {
      class_name: 'Model',
      config: {
        name: 'model_1',
        input_layers: [['input', 0, 0]],
        output_layers: [['output', 0, 0]],
        layers: [
          {
            class_name: 'InputLayer',
            name: 'input',
            config: { name: 'input', batch_input_shape: [null, 40], dtype: 'int32', sparse: false },
            inbound_nodes: [],
          },
          {
            class_name: 'Embedding',
            name: 'embedding',
            config: { name: 'embedding', input_dim: 465, output_dim: 100, input_length: 40 },
            inbound_nodes: node('input'),
          },
          {
            class_name: 'CuDNNLSTM',
            name: 'rnn_1',
            config: { name: 'rnn_1', units: 128, return_sequences: true },
            inbound_nodes: node('embedding'),
          },
          {
            class_name: 'CuDNNLSTM',
            name: 'rnn_2',
            config: { name: 'rnn_2', units: 128, return_sequences: true },
            inbound_nodes: node('rnn_1'),
          },
          {
            class_name: 'Concatenate',
            name: 'rnn_concat',
            config: { name: 'rnn_concat', axis: -1 },
            inbound_nodes: [
              [
                ['embedding', 0, 0, {}],
                ['rnn_1', 0, 0, {}],
                ['rnn_2', 0, 0, {}],
              ],
            ],
          },
          {
            class_name: 'AttentionWeightedAverage',
            name: 'attention',
            config: { name: 'attention', trainable: true, return_attention: false },
            inbound_nodes: node('rnn_concat'),
          },
          {
            class_name: 'Dense',
            name: 'output',
            config: { name: 'output', units: 465, activation: 'softmax' },
            inbound_nodes: node('attention'),
          },
        ],
      },
    };
    const e = refusal(() =>
      buildModel(cfg, { kerasVersion: '2.1.5', format: 'keras-h5-weights', source: 'textgenrnn_weights.hdf5' }),
    );
    expect(e.message).toBe(
      `Layer 'attention' (AttentionWeightedAverage) is not a Keras layer; it is a class defined in Python outside Keras (by the project that saved the model or a library it used) and the file holds its configuration but not its code, so rnnscope cannot rebuild it; replace it with built-in layers (supported: ${supported}).`,
    );
    expect(e.file).toBe('textgenrnn_weights.hdf5');
    // Without the custom layer the same graph builds: 465·100 + 2 CuDNNLSTM(128) (Keras counts the 8U bias) + 356·465 +
    // 465.
    cfg.config.layers.splice(5, 1);
    cfg.config.layers[5]!.inbound_nodes = node('rnn_concat');
    cfg.config.layers.splice(5, 0, {
      class_name: 'GlobalAveragePooling1D',
      name: 'attention',
      config: { name: 'attention' },
      inbound_nodes: node('rnn_concat'),
    } as never);
    cfg.config.layers[6]!.inbound_nodes = node('attention');
    const m = buildModel(cfg, { kerasVersion: '2.1.5', format: 'keras-h5-weights', source: 'textgenrnn_weights.hdf5' });
    expect(m.params.flat().reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0) + 2 * 4 * 128).toBe(
      462717 - 356,
    );
  });

  test('Keras 3 custom class with a registered name', () => {
    expect(
      refusal(() =>
        build('3.10.0', sequential('keras3', [null, 3], [{ class_name: 'MyLayer', config: { name: 'mine' } }])),
      ).message,
    ).toBe(
      `Layer 'mine' (MyLayer) is not a Keras layer; it is a class defined in Python outside Keras (by the project that saved the model or a library it used) and the file holds its configuration but not its code, so rnnscope cannot rebuild it; replace it with built-in layers (supported: ${supported}).`,
    );
  });

  test('Lambda and TFOpLambda', () => {
    expect(refusal(layer('Lambda', { function: ['4wEAAAAA', null, null], function_type: 'lambda' })).message).toBe(
      `Layer 'bad' (Lambda) holds Python code that cannot run here; replace it with built-in layers (supported: ${supported}) and re-save the model.`,
    );
    expect(refusal(layer('TFOpLambda', { function: 'math.add' }, '2.13.1')).message).toMatch(
      /^Layer 'bad' \(TFOpLambda\) holds Python code that cannot run here;/,
    );
  });

  test('Keras layers rnnscope does not rebuild', () => {
    expect(refusal(layer('Conv3DTranspose', { filters: 2 })).message).toBe(
      `Layer 'bad' (Conv3DTranspose) is not supported by rnnscope; supported layers are ${supported}; remove it or ask for support.`,
    );
    expect(
      refusal(
        layer('TimeDistributed', { layer: { class_name: 'LSTM', config: { name: 'c', units: 2 } } }, '2.2.4', [
          null,
          5,
          4,
          3,
        ]),
      ).message,
    ).toBe(
      "Layer 'bad' (TimeDistributed) wraps LSTM; rnnscope runs TimeDistributed around one single-input, non-recurrent layer (Dense, Conv1D, Conv2D, pooling, Flatten, BatchNormalization, Dropout, …); a recurrent layer inside TimeDistributed cannot be analysed yet, ask for support with this model.",
    );
    expect(
      refusal(layer('Bidirectional', { layer: { class_name: 'Dense', config: { name: 'd', units: 2 } } })).message,
    ).toBe(
      "Layer 'bad' (Bidirectional) wraps Dense; rnnscope supports Bidirectional around SimpleRNN, LSTM, GRU or RNN(cell) only; re-save the model with a recurrent layer inside.",
    );
    expect(refusal(layer('RNN', { cell: { class_name: 'MinimalRNNCell', config: { units: 4 } } })).message).toBe(
      "Layer 'bad' (RNN) runs the cell 'MinimalRNNCell'; rnnscope supports RNN with one SimpleRNNCell, LSTMCell, GRUCell or PeepholeLSTMCell; use the SimpleRNN, LSTM or GRU layer instead.",
    );
    expect(
      refusal(
        layer('RNN', {
          cell: [
            { class_name: 'LSTMCell', config: { units: 4 } },
            { class_name: 'LSTMCell', config: { units: 4 } },
          ],
        }),
      ).message,
    ).toBe(
      "Layer 'bad' (RNN) runs the cell '[2 cells]'; rnnscope supports RNN with one SimpleRNNCell, LSTMCell, GRUCell or PeepholeLSTMCell; use the SimpleRNN, LSTM or GRU layer instead.",
    );
  });

  test('Keras 1 Merge modes without a Keras 2 layer, and Merge of sub-models in a Sequential', () => {
    const fn = (mode: string) => () =>
      build('1.2.2', {
        class_name: 'Model',
        config: {
          name: 'm',
          input_layers: [['a', 0, 0]],
          output_layers: [['mg', 0, 0]],
          layers: [
            {
              class_name: 'InputLayer',
              name: 'a',
              config: { name: 'a', batch_input_shape: [null, 3] },
              inbound_nodes: [],
            },
            {
              class_name: 'Merge',
              name: 'mg',
              config: { name: 'mg', mode, mode_type: 'raw' },
              inbound_nodes: [
                [
                  ['a', 0, 0],
                  ['a', 0, 0],
                ],
              ],
            },
          ],
        },
      });
    expect(refusal(fn('cos')).message).toBe(
      'Layer \'mg\' (Merge) has mode="cos"; rnnscope maps the Keras 1 modes sum, mul, concat, ave and max only; rebuild the merge with Add, Multiply, Concatenate, Average or Maximum.',
    );
    expect(
      refusal(() =>
        build('1.2.2', {
          class_name: 'Sequential',
          config: [
            {
              class_name: 'Merge',
              config: { name: 'merge_1', mode: 'concat', layers: [{ class_name: 'Sequential', config: [] }] },
            },
          ],
        }),
      ).message,
    ).toBe(
      "Layer 'merge_1' (Merge) merges sub-models inside a Keras 1 Sequential; rnnscope supports Merge only in functional models; rebuild the model with the functional API.",
    );
  });
});

describe('unsupported options', () => {
  test('recurrent: time_major', () => {
    expect(refusal(layer('LSTM', { units: 4, time_major: true }, '2.13.1')).message).toBe(
      "Layer 'bad' (LSTM) has time_major=true; rnnscope supports time_major=false (inputs shaped batch, time, features); re-save the model without this option.",
    );
  });
  test('Conv1D channels_first, groups; pooling keepdims; BatchNormalization Keras 1 mode', () => {
    expect(refusal(layer('Conv1D', { filters: 2, kernel_size: 3, data_format: 'channels_first' })).message).toBe(
      'Layer \'bad\' (Conv1D) has data_format="channels_first"; rnnscope supports data_format=channels_last; re-save the model without this option.',
    );
    expect(refusal(layer('Conv1D', { filters: 2, kernel_size: 3, groups: 2 }, '3.10.0')).message).toBe(
      "Layer 'bad' (Conv1D) has groups=2; rnnscope supports groups=1; re-save the model without this option.",
    );
    expect(refusal(layer('GlobalAveragePooling1D', { keepdims: true })).message).toBe(
      "Layer 'bad' (GlobalAveragePooling1D) has keepdims=true; rnnscope supports keepdims=false; re-save the model without this option.",
    );
    expect(
      refusal(() =>
        build('1.2.2', {
          class_name: 'Sequential',
          config: [{ class_name: 'BatchNormalization', config: { name: 'bn', mode: 2, batch_input_shape: [null, 3] } }],
        }),
      ).message,
    ).toBe(
      "Layer 'bn' (BatchNormalization) has mode=2; rnnscope supports mode=0 (feature-wise, moving statistics at inference); re-save the model without this option.",
    );
  });
  test('dtype policies: quantized refused, float16 family warned', () => {
    const q = {
      module: 'keras',
      class_name: 'QuantizedDTypePolicy',
      config: { name: 'int8_from_float32', source_name: 'float32' },
      registered_name: null,
    };
    expect(refusal(layer('Dense', { units: 2, dtype: q }, '3.10.0', [null, 3])).message).toBe(
      "Layer 'bad' (Dense) uses the quantized dtype policy 'int8_from_float32'; rnnscope supports float weights only; save the model before quantizing it.",
    );
    const m = layer(
      'LSTM',
      { units: 2, dtype: { class_name: 'Policy', config: { name: 'mixed_float16' } } },
      '2.13.1',
    )();
    expect(m.warnings).toEqual([
      {
        code: 'dtype-policy',
        message:
          "Layer 'bad' uses dtype policy 'mixed_float16'; rnnscope computes in float32/float64, so results differ from Keras by the rounding of that policy.",
        count: 1,
      },
    ]);
  });
});

describe('activations, versions, shapes', () => {
  test('unknown activation lists the supported ones', () => {
    expect(refusal(layer('Dense', { units: 2, activation: 'swishy' }, '2.2.4', [null, 3])).message).toBe(
      `Activation 'swishy' of layer 'bad' (Dense) is not supported; expected one of ${SUPPORTED_ACTIVATIONS.join(', ')}; use a built-in activation.`,
    );
    expect(SUPPORTED_ACTIVATIONS).toContain('silu');
  });
  test('unrecognised Keras version', () => {
    expect(refusal(() => build('banana', { class_name: 'Sequential', config: [] })).message).toBe(
      "Keras version 'banana' is not recognised; expected a version such as 1.2.2, 2.1.3, 2.13.1, 3.10.0 or 'tfjs-layers 4.22.0'; pass the writer's version from the file's keras_version.",
    );
  });
  test('not a model config / unknown model class', () => {
    expect(refusal(() => build('2.2.4', 'x')).message).toBe(
      'The model config is string; expected a {class_name, config} object for Sequential, Functional or Model (or a Keras 1 list of layers); check that the file holds a Keras model architecture.',
    );
    expect(refusal(() => build('2.2.4', { class_name: 'LSTM', config: {} })).message).toBe(
      "The model class 'LSTM' is not supported; expected Sequential, Functional or Model; re-save the model as a Sequential or functional Keras model.",
    );
  });
  test('Sequential without any input shape', () => {
    expect(
      refusal(() =>
        build('2.2.4', {
          class_name: 'Sequential',
          config: { name: 'seq', layers: [{ class_name: 'LSTM', config: { name: 'l', units: 2 } }] },
        }),
      ).message,
    ).toBe(
      "Sequential model 'seq' records no input shape; expected an InputLayer or batch_input_shape on its first layer; re-save the model after building it (call it on data or give it an Input).",
    );
  });
  test('shape errors name the layer and the shape', () => {
    expect(refusal(layer('LSTM', { units: 2 }, '2.2.4', [null, 3])).message).toBe(
      "Layer 'bad' (LSTM) receives shape (None, 3); expected rank 3 (batch, time, features); the config is inconsistent; re-save the model.",
    );
    expect(refusal(layer('Dense', { units: 2 }, '2.2.4', [null, 4, null])).message).toBe(
      "Layer 'bad' (Dense) receives shape (None, 4, None) whose feature size (last axis) is unknown; rnnscope needs it to size the weights; give the model a fixed input shape.",
    );
    expect(refusal(layer('Reshape', { target_shape: [7] }, '2.2.4', [null, 2, 3])).message).toBe(
      "Layer 'bad' (Reshape) cannot reshape (None, 2, 3) to target_shape [7]; expected the same number of elements; the config is inconsistent.",
    );
  });
  test('graph errors', () => {
    const base = (layers: unknown[]) => () =>
      build('2.13.1', {
        class_name: 'Model',
        config: {
          name: 'm',
          input_layers: [['a', 0, 0]],
          output_layers: [['d', 0, 0]],
          layers: [
            {
              class_name: 'InputLayer',
              name: 'a',
              config: { name: 'a', batch_input_shape: [null, 3] },
              inbound_nodes: [],
            },
            ...layers,
          ],
        },
      });
    expect(
      refusal(
        base([
          { class_name: 'Dense', name: 'd', config: { name: 'd', units: 1 }, inbound_nodes: [[['zz', 0, 0, {}]]] },
        ]),
      ).message,
    ).toBe(
      "Layer 'd' takes its input from layer 'zz', which is not in the model; the config is damaged or incomplete; re-save the model.",
    );
    expect(
      refusal(
        base([
          { class_name: 'Dense', name: 'd', config: { name: 'd', units: 1 }, inbound_nodes: [[['e', 0, 0, {}]]] },
          { class_name: 'Dense', name: 'e', config: { name: 'e', units: 1 }, inbound_nodes: [[['d', 0, 0, {}]]] },
        ]),
      ).message,
    ).toBe(
      "The layers 'd', 'e' cannot be connected (their inputs are never produced); expected a directed acyclic graph; re-save the model.",
    );
    expect(
      refusal(
        base([
          {
            class_name: 'Dense',
            name: 'd',
            config: { name: 'd', units: 1 },
            inbound_nodes: [[['a', 0, 0, { mask: ['a', 0, 0] }]]],
          },
        ]),
      ).message,
    ).toBe(
      "Layer 'd' is called with the tensor argument 'mask'; rnnscope supports tensors passed as inputs and initial_state only; rebuild the model without it.",
    );
  });
});

describe('mutated configs', () => {
  test('buildModel returns a model or throws a ModelError, never anything else (fast-check, corpus configs)', async () => {
    const fc = (await import('fast-check')).default;
    const { readJson, CORPUS, kerasZip } = await import('./model-helpers.js');
    const bases: [unknown, string][] = [
      [readJson(`${CORPUS}w_chen_sentiment_embedding_conv1d_lstm/wordvec_cnn_lstm_architecture.json`), '2.1.2'],
      [readJson(`${CORPUS}w_chen_ecg_bilstm_autoencoder/bidirectional-lstm-auto-encoder-architecture.json`), '2.1.2'],
      [readJson(`${CORPUS}k1_dl4j_simple_lstm_tf/simple_lstm_tf_keras_1_config.json`), '1.2.2'],
      [kerasZip(`${CORPUS}k3_asand_multiinput_embedding_lstm/rnn_model.keras`).config, '2.13.1'],
      [kerasZip(`${CORPUS}k3_hatice_har_lstm/lstm_model.keras`).config, '3.10.0'],
    ];
    // Every path to a value inside a config.
    const paths = (v: unknown, p: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] => {
      out.push(p);
      if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...p, i], out));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...p, k], out);
      return out;
    };
    const replacements = [
      null,
      undefined,
      0,
      -1,
      2.5,
      1e9,
      '',
      'relu',
      'x',
      true,
      [],
      [null],
      {},
      { class_name: 'LSTM' },
      [['a', 0, 0]],
    ];
    fc.assert(
      fc.property(
        fc.nat(bases.length - 1),
        fc.array(fc.tuple(fc.nat(), fc.nat(replacements.length - 1)), { minLength: 1, maxLength: 3 }),
        (b, edits) => {
          const [base, version] = bases[b]!;
          const cfg = structuredClone(base) as Record<string, unknown>;
          for (const [pi, ri] of edits) {
            const all = paths(cfg).filter((p) => p.length > 0);
            const p = all[pi % all.length]!;
            let parent: any = cfg;
            for (const k of p.slice(0, -1)) parent = parent[k];
            const r = replacements[ri]!;
            parent[p[p.length - 1]!] = structuredClone(r);
          }
          try {
            buildModel(cfg, { kerasVersion: version, format: 'config', source: 'mutated.json' });
          } catch (e) {
            if (!(e instanceof ModelError)) throw e;
            expect(e.message.length).toBeGreaterThan(20);
          }
        },
      ),
      { numRuns: 400, seed: 42 },
    );
  });
});

describe('config strings never reach Object.prototype', () => {
  test('an activation or layer class named "constructor" is refused like any unknown name', async () => {
    const { buildModel } = await import('../src/model/build.js');
    const seq = (layer: object) => ({
      class_name: 'Sequential',
      config: {
        name: 's',
        layers: [{ class_name: 'InputLayer', config: { name: 'i', batch_shape: [null, 3, 2] } }, layer],
      },
    });
    expect(() =>
      buildModel(seq({ class_name: 'Dense', config: { name: 'd', units: 2, activation: 'constructor' } }), {
        kerasVersion: '3.10.0',
        format: 'config',
        source: 't',
      }),
    ).toThrow(/Activation 'constructor'/);
    expect(() =>
      buildModel(seq({ class_name: 'constructor', config: { name: 'd' } }), {
        kerasVersion: '3.10.0',
        format: 'config',
        source: 't',
      }),
    ).toThrow(/constructor/);
  });
});
