// Oracle: TensorFlow.js tf.layers (cpu backend, float32) for ConvLSTM2D and the 3-D layers around it
// (Conv3D, MaxPooling3D, AveragePooling3D valid): TF.js builds each model from the same Keras 2 config
// (tf.models.modelFromJSON; recurrent_activation hard_sigmoid with slope 0.2, as Keras 2 and TF.js have it)
// and differentiates its own training loss with tf.variableGrads; outputs, the loss, every parameter
// gradient and ∂L/∂x must agree with rnnscope's float32 run (norm-wise relative error < 1e-4), as in
// oracle-tfjs-extra.test.ts. Max pools follow tanh ConvLSTM outputs, where ties do not occur.

import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../src/model/build.js';
import { lossAndGrads } from '../src/engine/run.js';
import { bindWeights, ErrorLog, relErr } from './helpers/oracle.js';
import { lcg } from './helpers/rng.js';

type Cfg = { class_name: string; config: Record<string, unknown> };
const convLstm = (name: string, o: Record<string, unknown>): Cfg => ({
  class_name: 'ConvLSTM2D',
  config: {
    name,
    trainable: true,
    filters: 3,
    kernel_size: [3, 3],
    strides: [1, 1],
    padding: 'same',
    data_format: 'channels_last',
    dilation_rate: [1, 1],
    activation: 'tanh',
    recurrent_activation: 'hard_sigmoid',
    use_bias: true,
    unit_forget_bias: true,
    return_sequences: true,
    return_state: false,
    go_backwards: false,
    stateful: false,
    dropout: 0,
    recurrent_dropout: 0,
    ...o,
  },
});
const layer = (class_name: string, name: string, o: Record<string, unknown>): Cfg => ({
  class_name,
  config: { name, trainable: true, data_format: 'channels_last', ...o },
});

interface Case {
  name: string;
  input: number[];
  layers: Cfg[];
  /** Output shape per sample and the loss. */
  out: number[];
  loss: 'categorical_crossentropy' | 'mse';
}

const cases: Case[] = [
  {
    name: 'ConvLSTM2D(3, 3×3, same, seq) → MaxPooling3D(1×2×2) → ConvLSTM2D(2, 2×2, valid, strides 2×1) → Flatten → Dense softmax',
    input: [2, 4, 8, 6, 2],
    layers: [
      convLstm('cl1', {}),
      layer('MaxPooling3D', 'mp', { pool_size: [1, 2, 2], strides: [1, 2, 2], padding: 'valid' }),
      convLstm('cl2', { filters: 2, kernel_size: [2, 2], strides: [2, 1], padding: 'valid', return_sequences: false }),
      layer('Flatten', 'f', {}),
      {
        class_name: 'Dense',
        config: { name: 'out', trainable: true, units: 3, activation: 'softmax', use_bias: true },
      },
    ],
    out: [3],
    loss: 'categorical_crossentropy',
  },
  {
    name: 'ConvLSTM2D(4, 3×2, same, seq, go_backwards) → AveragePooling3D(2×1×2, valid) → Conv3D(1, 3×3×3, same, sigmoid), mse',
    input: [2, 5, 6, 6, 1],
    layers: [
      convLstm('cl1', { filters: 4, kernel_size: [3, 2], go_backwards: true }),
      layer('AveragePooling3D', 'ap', { pool_size: [2, 1, 2], strides: [1, 1, 2], padding: 'valid' }),
      layer('Conv3D', 'c3', {
        filters: 1,
        kernel_size: [3, 3, 3],
        strides: [1, 1, 1],
        padding: 'same',
        dilation_rate: [1, 1, 1],
        activation: 'sigmoid',
        use_bias: true,
      }),
    ],
    out: [4, 6, 3, 1],
    loss: 'mse',
  },
];

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
const modelConfig = (c: Case) => ({
  class_name: 'Sequential',
  config: {
    name: 'seq',
    layers: c.layers.map((l, i) =>
      i === 0 ? { ...l, config: { ...l.config, batch_input_shape: [null, ...c.input.slice(1)] } } : l,
    ),
  },
});

const log = new ErrorLog();
afterAll(() => {
  console.log(
    `TF.js oracle for ConvLSTM, worst norm-wise relative error (rnnscope vs tf.layers, float32):\n${log.table()}`,
  );
});

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('TF.js oracle for ConvLSTM2D, Conv3D and 3-D pooling (float32, rel. err < 1e-4)', () => {
  cases.forEach((c, ci) => {
    it(c.name, async () => {
      const m = await tf.models.modelFromJSON({
        modelTopology: { ...modelConfig(c), keras_version: '2.2.4', backend: 'tensorflow' } as never,
      });
      const rand = lcg(70 + ci);
      const f32 = (n: number, s: number) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * s);
      const weights = m.weights.map((w) => f32(size(w.shape as number[]), 0.5));
      m.setWeights(m.weights.map((w, i) => tf.tensor(weights[i]!, w.shape as number[])));
      const B = c.input[0]!;
      const xData = f32(size(c.input), 1);
      const yShape = [B, ...c.out];
      const yData =
        c.loss === 'mse'
          ? Float32Array.from({ length: size(yShape) }, () => rand())
          : Float32Array.from({ length: size(yShape) }, (_, i) => (i % c.out[0]! === (i * 7) % 3 ? 1 : 0));
      m.compile({ optimizer: 'sgd', loss: c.loss === 'mse' ? 'meanSquaredError' : 'categoricalCrossentropy' });
      const lossFn = (m as unknown as { model: tf.LayersModel }).model.lossFunctions[0]!;
      const xVar = tf.variable(tf.tensor(xData, c.input));
      const yTrue = tf.tensor(yData, yShape);
      const trainable = m.trainableWeights.map((w) => w.read() as tf.Variable);
      const yPred = m.predict(xVar) as tf.Tensor;
      expect(yPred.shape).toEqual(yShape);
      const { value, grads } = tf.variableGrads(
        () => tf.mean(lossFn(yTrue, m.apply(xVar) as tf.Tensor)) as tf.Scalar,
        [...trainable, xVar],
      );

      const model = buildModel(structuredClone(modelConfig(c)), {
        kerasVersion: '2.2.4',
        format: 'config',
        source: c.name,
      });
      const flat = model.params.flat();
      // TF.js suffixes names it has seen before in the process (kernel_1, …).
      const plain = (n: string) => n.replace(/_\d+$/, '');
      const byName = new Map(m.weights.map((w, i) => [plain(w.name), i]));
      const idx = flat.map((p) => byName.get(p.key));
      expect(
        idx.every((i) => i !== undefined),
        JSON.stringify([...byName.keys()]),
      ).toBe(true);
      expect(flat.map((p) => p.shape)).toEqual(idx.map((i) => m.weights[i!]!.shape));
      bindWeights(model, Object.fromEntries(flat.map((p, k) => [p.key, { shape: p.shape, data: weights[idx[k]!]! }])));
      const res = lossAndGrads(model, [{ shape: c.input, data: xData }], [{ shape: yShape, data: yData }], {
        losses: [{ name: c.loss, fromLogits: false, labelSmoothing: 0 }],
        flavor: 'tfjs',
        dtype: 'float32',
      });
      expect(log.note('tfjs/convlstm/outputs', relErr(res.outputs[0]!.data, yPred.dataSync()))).toBeLessThan(1e-4);
      expect(log.note('tfjs/convlstm/loss', relErr([res.loss], value.dataSync()))).toBeLessThan(1e-4);
      const ours = res.grads.flat();
      trainable.forEach((v) => {
        const k = flat.findIndex((p) => p.key === plain(v.name));
        const e = log.note('tfjs/convlstm/grads', relErr(ours[k]!.data, grads[v.name]!.dataSync()));
        expect(e, `∂L/∂${v.name}`).toBeLessThan(1e-4);
      });
      expect(
        log.note('tfjs/convlstm/dInputs', relErr(res.dInputs[0]!.data, grads[xVar.name]!.dataSync())),
        '∂L/∂x',
      ).toBeLessThan(1e-4);
      tf.dispose([xVar, yTrue, yPred, value, ...Object.values(grads)]);
      m.dispose();
    });
  });
});
