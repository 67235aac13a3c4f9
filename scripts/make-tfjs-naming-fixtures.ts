// Writes test/fixtures/tfjs-naming/: one model (Bidirectional LSTM → Bidirectional GRU →
// Bidirectional LSTM → Dense, input (5, 3)) with the same float32 weights under the weight names
// of four writers. Run: npx tsx scripts/make-tfjs-naming-fixtures.ts
//
//   tfjs-saved/           written by TensorFlow.js itself (tf.LayersModel.save, @tensorflow/tfjs
//                         4.22.0) from a Keras 2 style config: TF.js's own names,
//                         bidirectional/forward_lstm/kernel
//   tfjs-resaved-keras3/  the Keras 3 topology below loaded into TensorFlow.js 4.22.0 (after the
//                         batch_shape/dtype edits users make so that TF.js accepts it) and saved
//                         again by TF.js: bidirectional/forward_forward_lstm/kernel,
//                         bidirectional/backward_forward_lstm/kernel
//   keras3-converter/     what tensorflowjs_converter 4.22 writes for a Keras 3 legacy .h5: the
//                         Keras 3 config (Bidirectional layer/backward_layer named forward_lstm /
//                         backward_lstm) and Keras 3 variable paths, forward_lstm/lstm_cell/kernel,
//                         backward_lstm_1/lstm_cell/bias, no wrapper scope
//   tfkeras-converter/    what the converter writes for a tf.keras 2.15 .h5:
//                         bidirectional/forward_lstm/lstm_cell/kernel
// The first two are written by real TF.js code; the last two are built here from the naming
// rules in docs/formats.md ("Weight names"), since no Keras runs on this machine. The values are
// seeded, so rerunning reproduces the files byte for byte.
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const OUT = join(import.meta.dirname, '..', 'test', 'fixtures', 'tfjs-naming');
const T = 5,
  F = 3;

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

type Cfg = Record<string, unknown>;
const rnn2 = (cls: 'LSTM' | 'GRU', name: string, units: number, seq: boolean): Cfg => ({
  class_name: cls,
  config: {
    name,
    trainable: true,
    units,
    activation: 'tanh',
    recurrent_activation: 'sigmoid',
    use_bias: true,
    return_sequences: seq,
    return_state: false,
    go_backwards: false,
    stateful: false,
    unroll: false,
    dropout: 0,
    recurrent_dropout: 0,
    ...(cls === 'GRU' ? { reset_after: false } : { unit_forget_bias: true }),
    implementation: 2,
  },
});
const bidi2 = (name: string, inner: Cfg, first: boolean): Cfg => ({
  class_name: 'Bidirectional',
  config: {
    name,
    trainable: true,
    merge_mode: 'concat',
    layer: inner,
    ...(first ? { batch_input_shape: [null, T, F], dtype: 'float32' } : {}),
  },
});
const dense2: Cfg = {
  class_name: 'Dense',
  config: { name: 'dense', trainable: true, units: 2, activation: 'linear', use_bias: true },
};

/** Keras 2 style Sequential (what tf.keras 2.x writes and TF.js reads). */
const keras2Config: Cfg = {
  class_name: 'Sequential',
  config: {
    name: 'sequential',
    layers: [
      bidi2('bidirectional', rnn2('LSTM', 'lstm', 3, true), true),
      bidi2('bidirectional_1', rnn2('GRU', 'gru', 2, true), false),
      bidi2('bidirectional_2', rnn2('LSTM', 'lstm_1', 2, false), false),
      dense2,
    ],
  },
};

// ---- Keras 3 config, as Keras 3.10 serializes it (module / registered_name kept, as the h5 route does) ----
const policy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
function rnn3(cls: 'LSTM' | 'GRU', name: string, units: number, seq: boolean, back: boolean): Cfg {
  const c = rnn2(cls, name, units, seq).config as Cfg;
  return {
    module: 'keras.layers',
    class_name: cls,
    config: { ...c, dtype: policy, go_backwards: back, zero_output_for_mask: seq, seed: null },
    registered_name: null,
    build_config: { input_shape: null },
  };
}
const bidi3 = (name: string, cls: 'LSTM' | 'GRU', inner: string, units: number, seq: boolean): Cfg => ({
  module: 'keras.layers',
  class_name: 'Bidirectional',
  registered_name: null,
  config: {
    name,
    trainable: true,
    dtype: policy,
    merge_mode: 'concat',
    layer: rnn3(cls, `forward_${inner}`, units, seq, false),
    backward_layer: rnn3(cls, `backward_${inner}`, units, seq, true),
  },
});
const keras3Config: Cfg = {
  module: 'keras',
  class_name: 'Sequential',
  registered_name: null,
  config: {
    name: 'sequential',
    trainable: true,
    dtype: policy,
    layers: [
      {
        module: 'keras.layers',
        class_name: 'InputLayer',
        registered_name: null,
        config: {
          batch_shape: [null, T, F],
          dtype: 'float32',
          sparse: false,
          ragged: false,
          name: 'input_layer',
          optional: false,
        },
      },
      bidi3('bidirectional', 'LSTM', 'lstm', 3, true),
      bidi3('bidirectional_1', 'GRU', 'gru', 2, true),
      bidi3('bidirectional_2', 'LSTM', 'lstm_1', 2, false),
      {
        module: 'keras.layers',
        class_name: 'Dense',
        registered_name: null,
        config: { name: 'dense', trainable: true, dtype: policy, units: 2, activation: 'linear', use_bias: true },
      },
    ],
    build_input_shape: [null, T, F],
  },
};

/** The edits users make so that TF.js 4.22 accepts a Keras 3 topology (InputLayer shape key, dtype policies as
 * strings). */
function forTfjs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(forTfjs);
  if (v === null || typeof v !== 'object') return v;
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (k === 'dtype' && x && typeof x === 'object') o[k] = 'float32';
    else if (k === 'batch_shape') o['batch_input_shape'] = x;
    else o[k] = forTfjs(x);
  }
  return o;
}

interface Manifest {
  paths: string[];
  weights: { name: string; shape: number[]; dtype: string }[];
}

function write(dir: string, json: Record<string, unknown>, bin: Uint8Array, shard: string): void {
  mkdirSync(join(OUT, dir), { recursive: true });
  writeFileSync(join(OUT, dir, 'model.json'), `${JSON.stringify(json, null, 1)}\n`);
  writeFileSync(join(OUT, dir, shard), bin);
}

async function tfjsSave(model: tf.LayersModel): Promise<{ json: Record<string, unknown>; bin: Uint8Array }> {
  let json: Record<string, unknown> = {};
  let bin = new Uint8Array(0);
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const data = Array.isArray(a.weightData) ? a.weightData : [a.weightData!];
      const n = data.reduce((s, b) => s + b.byteLength, 0);
      bin = new Uint8Array(n);
      let o = 0;
      for (const b of data) {
        bin.set(new Uint8Array(b), o);
        o += b.byteLength;
      }
      // The same fields, in the same order, as tfjs-core's getModelJSONForModelArtifacts (io_utils.ts).
      json = {
        modelTopology: a.modelTopology,
        format: a.format,
        generatedBy: a.generatedBy,
        convertedBy: a.convertedBy,
        weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
      };
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
  return { json, bin };
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  // 1. TF.js from the Keras 2 style config, seeded weights, saved by TF.js.
  const m = await tf.models.modelFromJSON({
    modelTopology: { ...keras2Config, keras_version: '2.15.0', backend: 'tensorflow' },
  });
  const rand = lcg(2024);
  m.setWeights(
    m.weights.map((w) =>
      tf.tensor(
        Float32Array.from({ length: w.shape.reduce((a: number, b) => a * (b ?? 1), 1) }, () =>
          Math.fround((rand() * 2 - 1) * 0.7),
        ),
        w.shape as number[],
      ),
    ),
  );
  const saved = await tfjsSave(m);
  write('tfjs-saved', saved.json, saved.bin, 'weights.bin');
  const values = m.getWeights().map((t) => t.dataSync() as Float32Array);
  const shapes = m.weights.map((w) => w.shape as number[]);

  // 2. The Keras 3 topology loaded by TF.js, given the same weights, saved again by TF.js.
  const m3 = await tf.models.modelFromJSON({
    modelTopology: { keras_version: '3.10.0', backend: 'tensorflow', model_config: forTfjs(keras3Config) },
  } as unknown as tf.io.ModelJSON);
  m3.setWeights(values.map((v, i) => tf.tensor(v, shapes[i])));
  const resaved = await tfjsSave(m3);
  write('tfjs-resaved-keras3', resaved.json, resaved.bin, 'weights.bin');

  // 3-4. Converter output for a Keras 3 and a tf.keras .h5: names per docs/formats.md, groups in
  // the converter's order (model_weights layer groups alphabetically, weight_names order within).
  const halves = (cls: 'lstm' | 'gru', fwd: string, bwd: string, wrapper: string | null) =>
    ['kernel', 'recurrent_kernel', 'bias']
      .map((w) => `${wrapper ? `${wrapper}/` : ''}${fwd}/${cls}_cell/${w}`)
      .concat(
        ['kernel', 'recurrent_kernel', 'bias'].map((w) => `${wrapper ? `${wrapper}/` : ''}${bwd}/${cls}_cell/${w}`),
      );
  const k3Names = [
    ...halves('lstm', 'forward_lstm', 'backward_lstm', null),
    ...halves('gru', 'forward_gru', 'backward_gru', null),
    ...halves('lstm', 'forward_lstm_1', 'backward_lstm_1', null),
    'dense/kernel',
    'dense/bias',
  ];
  const tkNames = [
    ...halves('lstm', 'forward_lstm', 'backward_lstm', 'bidirectional'),
    ...halves('gru', 'forward_gru', 'backward_gru', 'bidirectional_1'),
    ...halves('lstm', 'forward_lstm_1', 'backward_lstm_1', 'bidirectional_2'),
    'dense/kernel',
    'dense/bias',
  ];
  const bin = saved.bin; // TF.js wrote the weights in model.weights order, the converter's order too
  const manifest = (names: string[]): Manifest[] => [
    {
      paths: ['group1-shard1of1.bin'],
      weights: names.map((name, i) => ({ name, shape: shapes[i]!, dtype: 'float32' })),
    },
  ];
  write(
    'keras3-converter',
    {
      format: 'layers-model',
      generatedBy: 'keras v3.10.0',
      convertedBy: 'TensorFlow.js Converter v4.22.0',
      modelTopology: {
        keras_version: '3.10.0',
        backend: 'tensorflow',
        model_config: keras3Config,
        training_config: { loss: 'mean_squared_error' },
      },
      weightsManifest: manifest(k3Names),
    },
    bin,
    'group1-shard1of1.bin',
  );
  write(
    'tfkeras-converter',
    {
      format: 'layers-model',
      generatedBy: 'keras v2.15.0',
      convertedBy: 'TensorFlow.js Converter v4.22.0',
      modelTopology: {
        keras_version: '2.15.0',
        backend: 'tensorflow',
        model_config: keras2Config,
        training_config: { loss: 'mean_squared_error' },
      },
      weightsManifest: manifest(tkNames),
    },
    bin,
    'group1-shard1of1.bin',
  );
  console.log(`wrote ${OUT}: ${values.length} weights, ${bin.length} bytes`);
}

await main();
