// Oracle: TensorFlow.js (tfjs-layers on the pure-JS cpu backend, float32).
//
// Each case is a Keras 2.2.4 Sequential config (the model_config JSON Keras 2 writes). TF.js
// builds its own tf.layers model from that JSON (tf.models.modelFromJSON), rnnscope builds its
// ModelSpec from the same JSON (buildModel); both get the same float32 weights and inputs. TF.js
// then differentiates the loss with tf.variableGrads (its own autodiff through its own LSTM/GRU/
// SimpleRNN/Bidirectional/Masking code), and every output, the loss, every parameter gradient and
// ∂L/∂x must agree with rnnscope's float32 run within 1e-4 (norm-wise relative error).
//
// Where TF.js differs from Keras (docs/keras-versions.md, 'TensorFlow.js'), and how the cases stay comparable:
//  * hard_sigmoid is clip(0.2x + 0.5, 0, 1), the Keras 1/2 definition; Keras 3 uses x/6 + 0.5.
//    The configs are therefore declared as written by Keras 2.2.4 (kerasVersion '2.2.4'), and one
//    test checks that declaring them Keras 3 makes rnnscope disagree with TF.js.
//  * GRU reset_after=True does not exist in TF.js (the constructor throws): GRUs here are
//    reset_after=False (the Keras 1/2 default). reset_after=True is covered by the PyTorch goldens.
//  * Masking: TF.js multiplies by the mask (x·m) and blends states arithmetically
//    (y·m + h_{t−1}·(1−m)); Keras 3 uses where(). Same values for finite inputs.
//  * The TF.js training loss is mean(lossFn(y, ŷ)) over every row and ignores masks; rnnscope's
//    'tfjs' loss flavor does the same, so masked sequence outputs count every step here.
//  * Bidirectional.fromConfig ignores backward_layer (backward = forward with go_backwards flipped)
//    and does not force zero_output_for_mask: the configs below use the Keras 2 form (no
//    backward_layer), where Keras 2.2.4 behaves the same way.
//  * The loss is TF.js's own training loss function (model.lossFunctions after compile) averaged as
//    training.ts does: mean over all rows.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../src/model/build.js';
import { lossAndGrads, predict } from '../src/engine/run.js';
import type { ModelSpec } from '../src/model/types.js';
import { bindWeights, ErrorLog, relErr } from './helpers/oracle.js';
import { lcg } from './helpers/rng.js';

const KERAS2 = '2.2.4';
const TOL = 1e-4;
const log = new ErrorLog();

// ---------------------------------------------------------------------------
// Keras 2.2.4 layer configs (keras/engine/sequential.py get_config ≥ 2.2.3: {name, layers}).

type Cfg = { class_name: string; config: Record<string, unknown> };
type Kind = 'LSTM' | 'GRU' | 'SimpleRNN';

const glorot = {
  class_name: 'VarianceScaling',
  config: { scale: 1.0, mode: 'fan_avg', distribution: 'uniform', seed: null },
};
const orthogonal = { class_name: 'Orthogonal', config: { gain: 1.0, seed: null } };
const zerosInit = { class_name: 'Zeros', config: {} };
const noReg = {
  kernel_regularizer: null,
  bias_regularizer: null,
  activity_regularizer: null,
  kernel_constraint: null,
  bias_constraint: null,
};

function rnn(
  kind: Kind,
  name: string,
  units: number,
  o: { recurrent_activation?: string; activation?: string; return_sequences?: boolean; go_backwards?: boolean } = {},
): Cfg {
  const config: Record<string, unknown> = {
    name,
    trainable: true,
    return_sequences: o.return_sequences ?? false,
    return_state: false,
    go_backwards: o.go_backwards ?? false,
    stateful: false,
    unroll: false,
    units,
    activation: o.activation ?? 'tanh',
  };
  if (kind !== 'SimpleRNN') config['recurrent_activation'] = o.recurrent_activation ?? 'hard_sigmoid';
  Object.assign(config, {
    use_bias: true,
    kernel_initializer: glorot,
    recurrent_initializer: orthogonal,
    bias_initializer: zerosInit,
  });
  if (kind === 'LSTM') config['unit_forget_bias'] = true;
  Object.assign(config, noReg, {
    recurrent_regularizer: null,
    recurrent_constraint: null,
    dropout: 0.0,
    recurrent_dropout: 0.0,
  });
  if (kind !== 'SimpleRNN') config['implementation'] = 1;
  if (kind === 'GRU') config['reset_after'] = false;
  return { class_name: kind, config };
}
const dense = (name: string, units: number, activation = 'linear'): Cfg => ({
  class_name: 'Dense',
  config: {
    name,
    trainable: true,
    units,
    activation,
    use_bias: true,
    kernel_initializer: glorot,
    bias_initializer: zerosInit,
    ...noReg,
  },
});
const td = (name: string, inner: Cfg): Cfg => ({
  class_name: 'TimeDistributed',
  config: { name, trainable: true, layer: inner },
});
const bidi = (name: string, inner: Cfg, merge_mode: 'concat' | 'sum' | 'ave' | 'mul'): Cfg => ({
  class_name: 'Bidirectional',
  config: { name, trainable: true, layer: inner, merge_mode },
});
const masking = (name: string): Cfg => ({ class_name: 'Masking', config: { name, trainable: true, mask_value: 0.0 } });
const embedding = (name: string, input_dim: number, output_dim: number, mask_zero: boolean, T: number): Cfg => ({
  class_name: 'Embedding',
  config: {
    name,
    trainable: true,
    input_dim,
    output_dim,
    embeddings_initializer: { class_name: 'RandomUniform', config: { minval: -0.05, maxval: 0.05, seed: null } },
    embeddings_regularizer: null,
    activity_regularizer: null,
    embeddings_constraint: null,
    mask_zero,
    input_length: T,
  },
});
const conv1d = (
  name: string,
  filters: number,
  kernel_size: number,
  padding: 'valid' | 'same',
  activation: string,
): Cfg => ({
  class_name: 'Conv1D',
  config: {
    name,
    trainable: true,
    filters,
    kernel_size: [kernel_size],
    strides: [1],
    padding,
    data_format: 'channels_last',
    dilation_rate: [1],
    activation,
    use_bias: true,
    kernel_initializer: glorot,
    bias_initializer: zerosInit,
    ...noReg,
  },
});
const pool = (cls: 'MaxPooling1D' | 'AveragePooling1D', name: string, size: number): Cfg => ({
  class_name: cls,
  config: { name, trainable: true, pool_size: [size], padding: 'valid', strides: [size], data_format: 'channels_last' },
});

/** The first layer carries batch_input_shape and dtype, as Keras 2 Sequential configs do. */
function first(cfg: Cfg, batchInputShape: (number | null)[]): Cfg {
  return {
    class_name: cfg.class_name,
    config: { batch_input_shape: batchInputShape, dtype: 'float32', ...cfg.config },
  };
}

type LossName = 'mse' | 'categorical_crossentropy' | 'sparse_categorical_crossentropy';
const TFJS_LOSS: Record<LossName, string> = {
  mse: 'meanSquaredError',
  categorical_crossentropy: 'categoricalCrossentropy',
  sparse_categorical_crossentropy: 'sparseCategoricalCrossentropy',
};

interface Case {
  name: string;
  /** Key for the error summary (model type). */
  kind: string;
  layers: Cfg[];
  /** (B, T, F) float input, or (B, T) token ids with `vocab`. */
  input: number[];
  vocab?: number;
  /** [sample, step] positions set to 0 (Masking / mask_zero padding). */
  zeroSteps?: [number, number][];
  loss: LossName;
}

const B = 3,
  T = 6,
  F = 3;
const seqIn = [B, T, F];
const cases: Case[] = [
  {
    name: 'LSTM(sigmoid) → Dense, mse',
    kind: 'LSTM',
    input: seqIn,
    loss: 'mse',
    layers: [first(rnn('LSTM', 'lstm_1', 4, { recurrent_activation: 'sigmoid' }), [null, T, F]), dense('dense_1', 2)],
  },
  {
    name: 'LSTM(hard_sigmoid) → Dense(softmax), categorical_crossentropy',
    kind: 'LSTM',
    input: seqIn,
    loss: 'categorical_crossentropy',
    layers: [first(rnn('LSTM', 'lstm_1', 4), [null, T, F]), dense('dense_1', 3, 'softmax')],
  },
  {
    name: 'GRU(reset_after=False, hard_sigmoid) → Dense, mse',
    kind: 'GRU',
    input: seqIn,
    loss: 'mse',
    layers: [first(rnn('GRU', 'gru_1', 4), [null, T, F]), dense('dense_1', 2)],
  },
  {
    name: 'GRU(reset_after=False, sigmoid) → Dense(softmax), sparse_categorical_crossentropy',
    kind: 'GRU',
    input: seqIn,
    loss: 'sparse_categorical_crossentropy',
    layers: [
      first(rnn('GRU', 'gru_1', 4, { recurrent_activation: 'sigmoid' }), [null, T, F]),
      dense('dense_1', 3, 'softmax'),
    ],
  },
  {
    name: 'SimpleRNN(tanh) → Dense, mse',
    kind: 'SimpleRNN',
    input: seqIn,
    loss: 'mse',
    layers: [first(rnn('SimpleRNN', 'simple_rnn_1', 4), [null, T, F]), dense('dense_1', 2)],
  },
  {
    name: 'stacked LSTM(seq) → GRU(seq) → SimpleRNN → Dense, mse',
    kind: 'stacked',
    input: seqIn,
    loss: 'mse',
    layers: [
      first(rnn('LSTM', 'lstm_1', 4, { return_sequences: true }), [null, T, F]),
      rnn('GRU', 'gru_1', 3, { return_sequences: true }),
      rnn('SimpleRNN', 'simple_rnn_1', 3),
      dense('dense_1', 2),
    ],
  },
  {
    name: 'Bidirectional(LSTM, concat, seq) → TimeDistributed(Dense), mse',
    kind: 'Bidirectional',
    input: seqIn,
    loss: 'mse',
    layers: [
      first(bidi('bidirectional_1', rnn('LSTM', 'lstm_1', 3, { return_sequences: true }), 'concat'), [null, T, F]),
      td('time_distributed_1', dense('dense_1', 2)),
    ],
  },
  {
    name: 'Bidirectional(LSTM, sum) → Dense, mse',
    kind: 'Bidirectional',
    input: seqIn,
    loss: 'mse',
    layers: [first(bidi('bidirectional_1', rnn('LSTM', 'lstm_1', 3), 'sum'), [null, T, F]), dense('dense_1', 2)],
  },
  {
    name: 'Bidirectional(GRU, ave) → Dense, mse',
    kind: 'Bidirectional',
    input: seqIn,
    loss: 'mse',
    layers: [first(bidi('bidirectional_1', rnn('GRU', 'gru_1', 3), 'ave'), [null, T, F]), dense('dense_1', 2)],
  },
  {
    name: 'Bidirectional(SimpleRNN, mul, seq) → TimeDistributed(Dense softmax), categorical_crossentropy',
    kind: 'Bidirectional',
    input: seqIn,
    loss: 'categorical_crossentropy',
    layers: [
      first(bidi('bidirectional_1', rnn('SimpleRNN', 'simple_rnn_1', 3, { return_sequences: true }), 'mul'), [
        null,
        T,
        F,
      ]),
      td('time_distributed_1', dense('dense_1', 3, 'softmax')),
    ],
  },
  {
    name: 'LSTM(go_backwards, seq) → TimeDistributed(Dense), mse',
    kind: 'go_backwards',
    input: seqIn,
    loss: 'mse',
    layers: [
      first(rnn('LSTM', 'lstm_1', 4, { go_backwards: true, return_sequences: true }), [null, T, F]),
      td('time_distributed_1', dense('dense_1', 2)),
    ],
  },
  {
    name: 'GRU(go_backwards) → Dense, mse',
    kind: 'go_backwards',
    input: seqIn,
    loss: 'mse',
    layers: [first(rnn('GRU', 'gru_1', 4, { go_backwards: true }), [null, T, F]), dense('dense_1', 2)],
  },
  {
    name: 'Masking → LSTM(seq) → TimeDistributed(Dense), mse',
    kind: 'Masking',
    input: seqIn,
    loss: 'mse',
    zeroSteps: [
      [0, 4],
      [0, 5],
      [1, 2],
      [2, 0],
    ],
    layers: [
      first(masking('masking_1'), [null, T, F]),
      rnn('LSTM', 'lstm_1', 4, { return_sequences: true }),
      td('time_distributed_1', dense('dense_1', 2)),
    ],
  },
  {
    name: 'Masking → Bidirectional(GRU, concat) → Dense, mse',
    kind: 'Masking',
    input: seqIn,
    loss: 'mse',
    zeroSteps: [
      [0, 5],
      [1, 0],
      [1, 3],
      [2, 4],
      [2, 5],
    ],
    layers: [
      first(masking('masking_1'), [null, T, F]),
      bidi('bidirectional_1', rnn('GRU', 'gru_1', 3), 'concat'),
      dense('dense_1', 2),
    ],
  },
  {
    name: 'Embedding(mask_zero) → LSTM → Dense(softmax), sparse_categorical_crossentropy',
    kind: 'Embedding',
    input: [B, T],
    vocab: 7,
    loss: 'sparse_categorical_crossentropy',
    zeroSteps: [
      [0, 4],
      [0, 5],
      [2, 5],
    ],
    layers: [
      first(embedding('embedding_1', 7, 4, true, T), [null, T]),
      rnn('LSTM', 'lstm_1', 4),
      dense('dense_1', 3, 'softmax'),
    ],
  },
  {
    name: 'Embedding → SimpleRNN(seq) → TimeDistributed(Dense), mse',
    kind: 'Embedding',
    input: [B, T],
    vocab: 5,
    loss: 'mse',
    layers: [
      first(embedding('embedding_1', 5, 3, false, T), [null, T]),
      rnn('SimpleRNN', 'simple_rnn_1', 4, { return_sequences: true }),
      td('time_distributed_1', dense('dense_1', 2)),
    ],
  },
  {
    name: 'Conv1D(valid) → MaxPooling1D → LSTM → Dense, mse',
    kind: 'Conv1D',
    input: [B, 8, F],
    loss: 'mse',
    layers: [
      first(conv1d('conv1d_1', 4, 3, 'valid', 'tanh'), [null, 8, F]),
      pool('MaxPooling1D', 'max_pooling1d_1', 2),
      rnn('LSTM', 'lstm_1', 3),
      dense('dense_1', 2),
    ],
  },
  {
    name: 'Conv1D(same) → AveragePooling1D → GRU → Dense(softmax), categorical_crossentropy',
    kind: 'Conv1D',
    input: [B, 8, F],
    loss: 'categorical_crossentropy',
    layers: [
      first(conv1d('conv1d_1', 4, 3, 'same', 'tanh'), [null, 8, F]),
      pool('AveragePooling1D', 'average_pooling1d_1', 2),
      rnn('GRU', 'gru_1', 3),
      dense('dense_1', 3, 'softmax'),
    ],
  },
];

// ---------------------------------------------------------------------------

const f32 = (rand: () => number, n: number, scale: number): Float32Array =>
  Float32Array.from({ length: n }, () => Math.fround((rand() * 2 - 1) * scale));
const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

function modelConfig(c: Case): Record<string, unknown> {
  return { class_name: 'Sequential', config: { name: 'sequential_1', layers: c.layers } };
}

function buildRnnscope(c: Case, kerasVersion = KERAS2): ModelSpec {
  // A fresh copy: neither side may see the other's mutations of the config.
  return buildModel(structuredClone(modelConfig(c)), {
    kerasVersion,
    format: 'config',
    source: `oracle-tfjs: ${c.name}`,
  });
}

interface Problem {
  x: Float32Array;
  /** TF.js model.weights order, with TF.js's shapes. */
  weights: Float32Array[];
  shapes: number[][];
  target: Float32Array;
  targetShape: number[];
}

interface TfjsResult {
  outputs: Float32Array;
  outShape: number[];
  loss: number;
  /** Same order as model.weights (= rnnscope's flattened params). */
  grads: Float32Array[];
  dx: Float32Array | null;
}

/** Draws the case's weights, input and targets (seeded), runs TF.js on them, returns both. */
async function runTfjs(c: Case, seed: number): Promise<{ p: Problem; r: TfjsResult }> {
  const m = await tf.models.modelFromJSON({
    modelTopology: { ...modelConfig(c), keras_version: KERAS2, backend: 'tensorflow' },
  });
  const rand = lcg(seed);
  const n = size(c.input);
  const xData = c.vocab
    ? Float32Array.from({ length: n }, () => 1 + Math.floor(rand() * (c.vocab! - 1)))
    : f32(rand, n, 1.5);
  const width = c.vocab ? 1 : c.input[2]!;
  for (const [b, t] of c.zeroSteps ?? [])
    xData.fill(0, (b * c.input[1]! + t) * width, (b * c.input[1]! + t + 1) * width);
  const shapes = m.weights.map((w) => w.shape as number[]);
  const problem: Problem = {
    x: xData,
    weights: shapes.map((sh) => f32(rand, size(sh), 0.6)),
    shapes,
    target: new Float32Array(0),
    targetShape: [],
  };
  m.setWeights(m.weights.map((w, i) => tf.tensor(problem.weights[i]!, w.shape as number[])));
  const x = tf.tensor(problem.x, c.input);
  const y = m.predict(x) as tf.Tensor;
  const outShape = y.shape as number[];
  const C = outShape[outShape.length - 1]!,
    rows = size(outShape) / C;
  problem.targetShape = outShape;
  if (c.loss === 'mse') problem.target = f32(rand, size(outShape), 1);
  else {
    const ids = Array.from({ length: rows }, () => Math.floor(rand() * C));
    if (c.loss === 'sparse_categorical_crossentropy') {
      problem.target = Float32Array.from(ids);
      problem.targetShape = outShape.slice(0, -1);
    } else {
      problem.target = new Float32Array(rows * C);
      ids.forEach((k, r) => {
        problem.target[r * C + k] = 1;
      });
    }
  }
  m.compile({ optimizer: 'sgd', loss: TFJS_LOSS[c.loss] });
  // A tf.Sequential compiles its inner LayersModel (private field `model`), which holds the loss functions.
  const lossFn = (m as unknown as { model: tf.LayersModel }).model.lossFunctions[0]!;
  const yTrue = tf.tensor(problem.target, problem.targetShape);
  // ∂L/∂x from TF.js too, except through Masking: TF.js computes the mask with tf.any, which has no
  // gradient function ("Cannot compute gradient: gradient function not found for Any"), so its tape
  // cannot reach x. (Keras treats the mask as a constant; rnnscope does too.)
  const wantDx = !c.vocab && !c.layers.some((l) => l.class_name === 'Masking');
  const xVar = wantDx ? tf.variable(x) : null;
  const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
  // training.ts: loss = mean(lossFn(y, ŷ)).
  const { value, grads } = tf.variableGrads(
    () => tf.mean(lossFn(yTrue, m.apply(xVar ?? x) as tf.Tensor)) as tf.Scalar,
    xVar ? [...vars, xVar] : vars,
  );
  const r: TfjsResult = {
    outputs: y.dataSync() as Float32Array,
    outShape,
    loss: value.dataSync()[0]!,
    grads: vars.map((v) => grads[v.name]!.dataSync() as Float32Array),
    dx: xVar ? (grads[xVar.name]!.dataSync() as Float32Array) : null,
  };
  tf.dispose([x, y, yTrue, value, ...Object.values(grads), ...(xVar ? [xVar] : [])]);
  m.dispose();
  return { p: problem, r };
}

function bindProblem(model: ModelSpec, p: Problem): void {
  const flat = model.params.flat();
  expect(flat.length).toBe(p.weights.length);
  bindWeights(model, Object.fromEntries(flat.map((ps, i) => [ps.key, { shape: ps.shape, data: p.weights[i]! }])));
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

afterAll(() => {
  console.log(`TF.js oracle, worst norm-wise relative error (rnnscope float32 vs TF.js):\n${log.table()}`);
});

describe('TF.js oracle: outputs, loss and every gradient (float32, rel. err < 1e-4)', () => {
  cases.forEach((c, i) => {
    it(c.name, async () => {
      const { p, r } = await runTfjs(c, 100 + i);
      const model = buildRnnscope(c);
      // TF.js and rnnscope list the parameters in the same (Keras) order with the same shapes.
      expect(model.params.flat().map((ps) => ps.shape)).toEqual(p.shapes);
      bindProblem(model, p);
      const res = lossAndGrads(model, [{ shape: c.input, data: p.x }], [{ shape: p.targetShape, data: p.target }], {
        losses: [{ name: c.loss, fromLogits: false, labelSmoothing: 0 }],
        flavor: 'tfjs',
        dtype: 'float32',
      });
      expect(res.outputs[0]!.shape).toEqual(r.outShape);
      const k = `tfjs/${c.kind}`;
      expect(log.note(`${k}/outputs`, relErr(res.outputs[0]!.data, r.outputs))).toBeLessThan(TOL);
      expect(log.note(`${k}/loss`, relErr([res.loss], [r.loss]))).toBeLessThan(TOL);
      const flat = model.params.flat();
      const grads = res.grads.flat();
      flat.forEach((ps, j) => {
        const e = log.note(`${k}/grads`, relErr(grads[j]!.data, r.grads[j]!));
        expect(e, `∂L/∂${ps.key}`).toBeLessThan(TOL);
      });
      if (r.dx) expect(log.note(`${k}/dInputs`, relErr(res.dInputs[0]!.data, r.dx))).toBeLessThan(TOL);
      // predict() must give the same outputs as the loss pass.
      expect(
        relErr(predict(model, [{ shape: c.input, data: p.x }], { dtype: 'float32' })[0]!.data, res.outputs[0]!.data),
      ).toBe(0);
    });
  });

  it('is sensitive: the hard_sigmoid LSTM declared as Keras 3 (slope 1/6) disagrees with TF.js (slope 0.2)', async () => {
    const c = cases[1]!;
    const { p, r } = await runTfjs(c, 101);
    const k3 = buildRnnscope(c, '3.10.0');
    bindProblem(k3, p);
    const y3 = predict(k3, [{ shape: c.input, data: p.x }], { dtype: 'float32' })[0]!;
    expect(relErr(y3.data, r.outputs)).toBeGreaterThan(1e-3);
    const k2 = buildRnnscope(c);
    bindProblem(k2, p);
    expect(relErr(predict(k2, [{ shape: c.input, data: p.x }], { dtype: 'float32' })[0]!.data, r.outputs)).toBeLessThan(
      TOL,
    );
  });
});
