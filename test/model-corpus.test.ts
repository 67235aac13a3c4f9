// buildModel on every corpus model that carries an architecture: layer list,
// output shapes, the parameter count Keras's own weights imply
// (manifest.json "param_check", computed from the stored arrays with h5py),
// writer-dependent semantics, and the summary text.

import { describe, expect, test } from 'vitest';
import { buildModel, type BuildOptions } from '../src/model/build.js';
import { countParams, summary } from '../src/model/summary.js';
import type { ModelSpec, Shape } from '../src/model/types.js';
import { CORPUS, readJson, kerasZip, h5ModelAttrs } from './model-helpers.js';

const manifest: { name: string; param_check: string }[] = readJson(`${CORPUS}manifest.json`);

function kerasCount(name: string): number {
  const e = manifest.find((x) => x.name === name)!;
  return Number(/(\d+) params/.exec(e.param_check)![1]);
}

async function load(name: string): Promise<ModelSpec> {
  const dir = `${CORPUS + name}/`;
  let cfg: unknown;
  let opts: BuildOptions;
  switch (name) {
    case 'k3_hatice_har_lstm':
    case 'k3_asand_multiinput_embedding_lstm': {
      const z = kerasZip(dir + (name === 'k3_hatice_har_lstm' ? 'lstm_model.keras' : 'rnn_model.keras'));
      cfg = z.config;
      opts = {
        kerasVersion: z.metadata.keras_version,
        format: 'keras-v3',
        trainingConfig: z.config.compile_config,
        source: name,
      };
      break;
    }
    case 'h5_dl4j_simplernn_k2':
    case 'h5_dl4j_masking_lstm':
    case 'k1_dl4j_simple_lstm_tf':
    case 'k1_dl4j_simple_lstm_theano': {
      const file = {
        h5_dl4j_simplernn_k2: 'simple_rnn_tf_keras_2_model.h5',
        h5_dl4j_masking_lstm: 'masking_zero_lstm.h5',
        k1_dl4j_simple_lstm_tf: 'simple_lstm_tf_keras_1_model.h5',
        k1_dl4j_simple_lstm_theano: 'simple_lstm_th_keras_1_model.h5',
      }[name];
      const a = await h5ModelAttrs(dir + file);
      cfg = a.modelConfig;
      opts = {
        kerasVersion: a.kerasVersion,
        backend: a.backend,
        format: 'keras-h5',
        trainingConfig: a.trainingConfig,
        source: file,
      };
      break;
    }
    case 'tfjs_reiinakano_textgen_lstm_legacy_format': {
      const t = readJson(`${dir}model.json`).modelTopology;
      cfg = t.model_config;
      opts = {
        kerasVersion: t.keras_version,
        backend: t.backend,
        format: 'tfjs-layers',
        trainingConfig: t.training_config,
        source: 'model.json',
      };
      break;
    }
    default: {
      const file = {
        w_chen_sentiment_embedding_conv1d_lstm: 'wordvec_cnn_lstm_architecture.json',
        w_chen_ecg_bilstm_autoencoder: 'bidirectional-lstm-auto-encoder-architecture.json',
        w_dl4j_stacked_lstm_theano_with_predictions: 'lstm_th_keras_2_config.json',
      }[name]!;
      cfg = readJson(dir + file);
      const c = cfg as { keras_version: string; backend: string };
      opts = { kerasVersion: c.keras_version, backend: c.backend, format: 'keras-h5-weights', source: file };
    }
  }
  return buildModel(cfg, opts);
}

/** [name, className, output shapes of the layer's (only) call]. */
function layerTable(m: ModelSpec): [string, string, Shape[]][] {
  return m.layers.map((l, i) => {
    const node = m.nodes.find((n) => n.layer === i)!;
    return [l.name, l.className, node.outputs.map((t) => m.tensors[t]!.shape)];
  });
}

const EXPECTED: Record<string, [string, string, Shape[]][]> = {
  k3_hatice_har_lstm: [
    ['input_layer_1', 'InputLayer', [[null, 100, 6]]],
    ['lstm_2', 'LSTM', [[null, 100, 128]]],
    ['dropout_1', 'Dropout', [[null, 100, 128]]],
    ['lstm_3', 'LSTM', [[null, 128]]],
    ['dense_2', 'Dense', [[null, 64]]],
    ['dense_3', 'Dense', [[null, 6]]],
  ],
  k3_asand_multiinput_embedding_lstm: [
    ['sequence_input', 'InputLayer', [[null, 7]]],
    ['embedding_layer', 'Embedding', [[null, 7, 8]]],
    ['lstm', 'LSTM', [[null, 128]]],
    ['numerical_input', 'InputLayer', [[null, 36]]],
    ['concatenate', 'Concatenate', [[null, 164]]],
    ['dense', 'Dense', [[null, 64]]],
    ['dropout', 'Dropout', [[null, 64]]],
    ['dense_1', 'Dense', [[null, 32]]],
    ['dropout_1', 'Dropout', [[null, 32]]],
    ['dense_2', 'Dense', [[null, 1]]],
  ],
  h5_dl4j_simplernn_k2: [
    ['simple_rnn_1_input', 'InputLayer', [[null, 1, 1]]],
    ['simple_rnn_1', 'SimpleRNN', [[null, 50]]],
    ['dense_1', 'Dense', [[null, 1]]],
  ],
  h5_dl4j_masking_lstm: [
    ['masking_1_input', 'InputLayer', [[null, 10, 42]]],
    ['masking_1', 'Masking', [[null, 10, 42]]],
    ['lstm_1', 'LSTM', [[null, 32]]],
  ],
  k1_dl4j_simple_lstm_tf: [
    ['lstm_input_1', 'InputLayer', [[null, 1, 1]]],
    ['lstm_1', 'LSTM', [[null, 50]]],
    ['dense_1', 'Dense', [[null, 1]]],
  ],
  k1_dl4j_simple_lstm_theano: [
    ['lstm_input_1', 'InputLayer', [[null, 1, 1]]],
    ['lstm_1', 'LSTM', [[null, 50]]],
    ['dense_1', 'Dense', [[null, 1]]],
  ],
  w_chen_sentiment_embedding_conv1d_lstm: [
    ['embedding_1_input', 'InputLayer', [[null, 42]]],
    ['embedding_1', 'Embedding', [[null, 42, 100]]],
    ['spatial_dropout1d_1', 'SpatialDropout1D', [[null, 42, 100]]],
    ['conv1d_1', 'Conv1D', [[null, 42, 256]]],
    ['max_pooling1d_1', 'MaxPooling1D', [[null, 10, 256]]],
    ['lstm_1', 'LSTM', [[null, 70]]],
    ['dense_1', 'Dense', [[null, 2]]],
  ],
  w_chen_ecg_bilstm_autoencoder: [
    ['bidirectional_1_input', 'InputLayer', [[null, 210, 1]]],
    ['bidirectional_1', 'Bidirectional', [[null, 128]]],
    ['dense_1', 'Dense', [[null, 210]]],
  ],
  w_dl4j_stacked_lstm_theano_with_predictions: [
    ['lstm_1_input', 'InputLayer', [[null, 4, 12]]],
    ['lstm_1', 'LSTM', [[null, 4, 96]]],
    ['lstm_2', 'LSTM', [[null, 96]]],
    ['dense_1', 'Dense', [[null, 1]]],
  ],
  tfjs_reiinakano_textgen_lstm_legacy_format: [
    ['lstm_2_input', 'InputLayer', [[null, 40, 57]]],
    ['lstm_2', 'LSTM', [[null, 128]]],
    ['dense_3', 'Dense', [[null, 57]]],
    ['activation_2', 'Activation', [[null, 57]]],
  ],
};

describe('corpus architectures', () => {
  for (const name of Object.keys(EXPECTED)) {
    test(`${name}: layers, output shapes, Keras's parameter count`, async () => {
      const m = await load(name);
      expect(layerTable(m)).toEqual(EXPECTED[name]);
      expect(countParams(m).total).toBe(kerasCount(name));
      expect(countParams(m).nonTrainable).toBe(0);
      expect(m.weights.size).toBe(0);
      // Topological order: every node's inputs were produced by an earlier node.
      const seen = new Set<number>();
      for (const n of m.nodes) {
        expect(n.inputs.every((t) => seen.has(t))).toBe(true);
        n.outputs.forEach((t) => seen.add(t));
      }
    });
  }

  test('writer semantics: hard_sigmoid slope, defaults and inputs per file', async () => {
    const rnn = async (name: string, layer: string) => {
      const m = await load(name);
      const l = m.layers.find((x) => x.name === layer)!;
      if (l.type !== 'Recurrent') throw new Error('not recurrent');
      return l.rnn;
    };
    expect(await rnn('k3_hatice_har_lstm', 'lstm_2')).toEqual({
      kind: 'LSTM',
      units: 128,
      inputDim: 6,
      activation: { name: 'tanh' },
      recurrentActivation: { name: 'sigmoid' },
      useBias: true,
      returnSequences: true,
      returnState: false,
      goBackwards: false,
      stateful: false,
      resetAfter: false,
      zeroOutputForMask: false,
    });
    // Keras 1: output_dim, inner_activation (slope 0.2), dropout_W ignored.
    const k1 = await rnn('k1_dl4j_simple_lstm_tf', 'lstm_1');
    expect([k1.units, k1.inputDim, k1.recurrentActivation]).toEqual([
      50,
      1,
      { name: 'hard_sigmoid', hardSigmoidSlope: 0.2 },
    ]);
    expect((await rnn('tfjs_reiinakano_textgen_lstm_legacy_format', 'lstm_2')).recurrentActivation).toEqual({
      name: 'hard_sigmoid',
      hardSigmoidSlope: 0.2,
    });
    expect((await rnn('w_chen_sentiment_embedding_conv1d_lstm', 'lstm_1')).inputDim).toBe(256);
    const simple = await rnn('h5_dl4j_simplernn_k2', 'simple_rnn_1');
    expect([simple.kind, simple.units, simple.inputDim, simple.activation.name]).toEqual(['SimpleRNN', 50, 1, 'tanh']);

    const bi = (await load('w_chen_ecg_bilstm_autoencoder')).layers[1]!;
    if (bi.type !== 'Bidirectional') throw new Error('not bidirectional');
    expect([bi.forwardName, bi.backwardName, bi.mergeMode, bi.forward.goBackwards, bi.backward.goBackwards]).toEqual([
      'forward_lstm_1',
      'backward_lstm_1',
      'concat',
      false,
      true,
    ]);
    // Keras 2.1.2 does not force zero_output_for_mask inside Bidirectional (docs/masking.md, 'Bidirectional').
    expect(bi.forward.zeroOutputForMask).toBe(false);

    const masking = (await load('h5_dl4j_masking_lstm')).layers[1]!;
    expect(masking).toEqual({ name: 'masking_1', className: 'Masking', type: 'Masking', maskValue: 0 });
    const conv = (await load('w_chen_sentiment_embedding_conv1d_lstm')).layers;
    expect(conv[3]).toMatchObject({
      type: 'Conv1D',
      filters: 256,
      kernelSize: 5,
      strides: 1,
      padding: 'same',
      dilationRate: 1,
      activation: { name: 'relu' },
    });
    expect(conv[4]).toMatchObject({ type: 'Pooling1D', mode: 'max', poolSize: 4, strides: 4, padding: 'valid' });
    expect(conv[1]).toMatchObject({ type: 'Embedding', inputDim: 2329, outputDim: 100, maskZero: false });
  });

  test('meta: loss, optimizer, version, names', async () => {
    const har = await load('k3_hatice_har_lstm');
    expect(har.meta).toMatchObject({
      format: 'keras-v3',
      kerasVersion: '3.10.0',
      backend: null,
      loss: [{ name: 'categorical_crossentropy', fromLogits: false, labelSmoothing: 0 }],
      optimizer: { className: 'Adam' },
      metrics: ['accuracy'],
    });
    const two = await load('k3_asand_multiinput_embedding_lstm');
    expect([two.inputNames, two.outputNames, two.meta.loss]).toEqual([
      ['sequence_input', 'numerical_input'],
      ['dense_2'],
      [{ name: 'binary_crossentropy', fromLogits: false, labelSmoothing: 0 }],
    ]);
    expect((await load('h5_dl4j_simplernn_k2')).meta.loss).toEqual([
      { name: 'mse', fromLogits: false, labelSmoothing: 0 },
    ]);
    expect((await load('h5_dl4j_masking_lstm')).meta.loss).toBeNull();
    expect((await load('tfjs_reiinakano_textgen_lstm_legacy_format')).meta.optimizer?.className).toBe('RMSprop');
    for (const n of Object.keys(EXPECTED)) expect((await load(n)).warnings).toEqual([]);
  });
});

describe('summary text', () => {
  test('Keras 3 Sequential (golden)', async () => {
    expect(summary(await load('k3_hatice_har_lstm'))).toBe(`Model: "sequential_1"
_______________________________________________________
Layer (type)                Output Shape      Param #
=======================================================
input_layer_1 (InputLayer)  (None, 100, 6)    0
lstm_2 (LSTM)               (None, 100, 128)  69,120
dropout_1 (Dropout)         (None, 100, 128)  0
lstm_3 (LSTM)               (None, 128)       131,584
dense_2 (Dense)             (None, 64)        8,256
dense_3 (Dense)             (None, 6)         390
=======================================================
Total params: 209,350
Trainable params: 209,350
Non-trainable params: 0
_______________________________________________________
Format: keras-v3 (Keras 3.10.0)
Inputs: input_layer_1 (None, 100, 6)
Outputs: dense_3 (None, 6)
Loss: categorical_crossentropy
Optimizer: Adam
`);
  });

  test('two-input functional model shows "Connected to" (golden rows)', async () => {
    const s = summary(await load('k3_asand_multiinput_embedding_lstm'));
    expect(s).toContain('Layer (type)                  Output Shape  Param #  Connected to\n');
    expect(s).toContain('concatenate (Concatenate)     (None, 164)   0        lstm[0][0], numerical_input[0][0]\n');
    expect(s).toContain('Total params: 82,857\nTrainable params: 82,857\nNon-trainable params: 0\n');
    expect(s).toContain('Inputs: sequence_input (None, 7), numerical_input (None, 36)\n');
  });

  test('Keras 1 file', async () => {
    const s = summary(await load('k1_dl4j_simple_lstm_theano'));
    expect(s).toContain('lstm_1 (LSTM)              (None, 50)    10,400\n');
    expect(s).toContain('Format: keras-h5 (Keras 1.2.2)\n');
    expect(s).toContain('Loss: mse\nOptimizer: RMSprop\n');
  });
});
