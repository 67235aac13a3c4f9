// Oracle: TensorFlow.js tf.layers (cpu backend, float32) for the added layers TF.js has:
// TimeDistributed around Conv2D (same/valid, strides), MaxPooling2D, AveragePooling2D,
// ZeroPadding2D, BatchNormalization, Dropout, GlobalAverage/MaxPooling2D and Flatten before
// an LSTM (an LRCN). TF.js builds its model
// from the same Keras 2 config (tf.models.modelFromJSON) and differentiates its own
// training loss with tf.variableGrads; outputs, the loss, every parameter gradient and
// ∂L/∂x must agree with rnnscope's float32 run (norm-wise relative error < 1e-4).
// ReLU zeros would tie inside max pools, where TF.js gives every tied element the whole gradient
// (TF gives it to one, and splits a global max's among its ties): the convolutions before max
// pools use tanh, and no max-pool windows overlap before the global max. TF.js cannot differentiate
// dilated convolutions, its avgPool gradient with padding 'same' disagrees with its own forward
// (0.59 absolute from finite differences on a 8×5 input, pool 3×2, stride 1), and it has no
// SpatialDropout2D: dilation and 'same' average pooling are covered by PyTorch goldens
// and finite differences. TF.js has no Attention / MultiHeadAttention layers and no CRF:
// those are covered by the PyTorch and numpy goldens (test/layers-extra-golden.test.ts).

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../src/model/build.js';
import { lossAndGrads } from '../src/engine/run.js';
import { bindWeights, relErr } from './helpers/oracle.js';
import { lcg } from './helpers/rng.js';

type Cfg = { class_name: string; config: Record<string, unknown> };
const td = (name: string, inner: Cfg): Cfg => ({
  class_name: 'TimeDistributed',
  config: { name, trainable: true, layer: inner },
});
const conv = (name: string, o: Record<string, unknown>): Cfg => ({
  class_name: 'Conv2D',
  config: {
    name,
    trainable: true,
    filters: 3,
    kernel_size: [3, 3],
    strides: [1, 1],
    padding: 'valid',
    data_format: 'channels_last',
    dilation_rate: [1, 1],
    activation: 'relu',
    use_bias: true,
    ...o,
  },
});
const pool = (cls: string, name: string, o: Record<string, unknown>): Cfg => ({
  class_name: cls,
  config: {
    name,
    trainable: true,
    pool_size: [2, 2],
    strides: null,
    padding: 'valid',
    data_format: 'channels_last',
    ...o,
  },
});

interface Case {
  name: string;
  input: number[];
  layers: Cfg[];
  classes: number;
}
const lstm: Cfg = {
  class_name: 'LSTM',
  config: {
    name: 'lstm',
    trainable: true,
    units: 4,
    activation: 'tanh',
    recurrent_activation: 'sigmoid',
    use_bias: true,
    return_sequences: false,
    return_state: false,
    go_backwards: false,
    stateful: false,
    unroll: false,
    implementation: 1,
    unit_forget_bias: true,
    dropout: 0,
    recurrent_dropout: 0,
  },
};
const dense: Cfg = {
  class_name: 'Dense',
  config: { name: 'out', trainable: true, units: 3, activation: 'softmax', use_bias: true },
};

const cases: Case[] = [
  {
    name: 'LRCN: TD(Conv2D same, stride 2) → TD(MaxPooling2D) → TD(ZeroPadding2D) → TD(Conv2D valid, 2×2) → TD(Flatten) → LSTM → Dense',
    input: [2, 3, 11, 10, 2],
    classes: 3,
    layers: [
      td('td_c1', conv('c1', { padding: 'same', strides: [2, 2], activation: 'tanh' })),
      td('td_p1', pool('MaxPooling2D', 'p1', {})),
      td('td_z', {
        class_name: 'ZeroPadding2D',
        config: {
          name: 'z',
          padding: [
            [1, 2],
            [2, 1],
          ],
          data_format: 'channels_last',
        },
      }),
      td('td_c2', conv('c2', { kernel_size: [2, 2], activation: 'tanh' })),
      td('td_f', { class_name: 'Flatten', config: { name: 'f', data_format: 'channels_last' } }),
      lstm,
      dense,
    ],
  },
  {
    name: 'LRCN: TD(Conv2D) → TD(BatchNormalization) → TD(AveragePooling2D valid, stride 1) → TD(Dropout) → TD(GlobalAveragePooling2D) → LSTM → Dense',
    input: [2, 3, 7, 6, 2],
    classes: 3,
    layers: [
      td('td_c1', conv('c1', { kernel_size: [3, 2] })),
      td('td_bn', {
        class_name: 'BatchNormalization',
        config: { name: 'bn', axis: -1, momentum: 0.99, epsilon: 0.001, center: true, scale: true },
      }),
      td('td_p', pool('AveragePooling2D', 'p', { pool_size: [3, 2], strides: [1, 1], padding: 'valid' })),
      td('td_sd', { class_name: 'Dropout', config: { name: 'sd', rate: 0.3 } }),
      td('td_g', { class_name: 'GlobalAveragePooling2D', config: { name: 'g', data_format: 'channels_last' } }),
      lstm,
      dense,
    ],
  },
  {
    name: 'LRCN: TD(Conv2D same, stride (1, 2)) → TD(MaxPooling2D same, pool 2, odd width) → TD(GlobalMaxPooling2D) → LSTM → Dense',
    input: [2, 3, 8, 9, 1],
    classes: 3,
    layers: [
      td('td_c1', conv('c1', { padding: 'same', strides: [1, 2], activation: 'tanh' })),
      td('td_p', pool('MaxPooling2D', 'p', { pool_size: [2, 2], strides: [2, 2], padding: 'same' })),
      td('td_g', { class_name: 'GlobalMaxPooling2D', config: { name: 'g', data_format: 'channels_last' } }),
      lstm,
      dense,
    ],
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

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('TF.js oracle for the 2-D layers inside TimeDistributed (float32, rel. err < 1e-4)', () => {
  cases.forEach((c, ci) => {
    it(c.name, async () => {
      const m = await tf.models.modelFromJSON({
        modelTopology: { ...modelConfig(c), keras_version: '2.2.4', backend: 'tensorflow' } as never,
      });
      const rand = lcg(50 + ci);
      const f32 = (n: number, s: number) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * s);
      const weights = m.weights.map((w) => {
        const n = size(w.shape as number[]);
        // moving_variance must stay positive
        return w.name.includes('moving_variance') ? Float32Array.from({ length: n }, () => 0.5 + rand()) : f32(n, 0.6);
      });
      m.setWeights(m.weights.map((w, i) => tf.tensor(weights[i]!, w.shape as number[])));
      const xData = f32(size(c.input), 1);
      const ids = Array.from({ length: c.input[0]! }, () => Math.floor(rand() * c.classes));
      const yData = new Float32Array(c.input[0]! * c.classes);
      ids.forEach((k, b) => {
        yData[b * c.classes + k] = 1;
      });
      m.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
      const lossFn = (m as unknown as { model: tf.LayersModel }).model.lossFunctions[0]!;
      const xVar = tf.variable(tf.tensor(xData, c.input));
      const yTrue = tf.tensor(yData, [c.input[0]!, c.classes]);
      const trainable = m.trainableWeights.map((w) => w.read() as tf.Variable);
      const yPred = m.predict(xVar) as tf.Tensor;
      const { value, grads } = tf.variableGrads(
        () => tf.mean(lossFn(yTrue, m.apply(xVar) as tf.Tensor)) as tf.Scalar,
        [...trainable, xVar],
      );

      const model = buildModel(structuredClone(modelConfig(c)), {
        kerasVersion: '2.2.4',
        format: 'config',
        source: c.name,
      });
      // TF.js lists trainable weights before non-trainable ones (BatchNormalization's moving statistics last): match by
      // name.
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
      const res = lossAndGrads(
        model,
        [{ shape: c.input, data: xData }],
        [{ shape: [c.input[0]!, c.classes], data: yData }],
        {
          losses: [{ name: 'categorical_crossentropy', fromLogits: false, labelSmoothing: 0 }],
          flavor: 'tfjs',
          dtype: 'float32',
        },
      );
      expect(relErr(res.outputs[0]!.data, yPred.dataSync())).toBeLessThan(1e-4);
      expect(relErr([res.loss], value.dataSync())).toBeLessThan(1e-4);
      const ours = res.grads.flat();
      trainable.forEach((v) => {
        const k = flat.findIndex((p) => p.key === plain(v.name));
        expect(relErr(ours[k]!.data, grads[v.name]!.dataSync()), `∂L/∂${v.name}`).toBeLessThan(1e-4);
      });
      expect(relErr(res.dInputs[0]!.data, grads[xVar.name]!.dataSync()), '∂L/∂x').toBeLessThan(1e-4);
      tf.dispose([xVar, yTrue, yPred, value, ...Object.values(grads)]);
      m.dispose();
    });
  });
});
