// Weight binding: every conversion checked against an independent oracle —
// the predictions real Keras stored beside three corpus models (Keras 1 per-gate
// LSTM, Keras 2 SimpleRNN, Keras 2 Theano stacked LSTM), and PyTorch for the
// cuDNN layouts (test/fixtures/model-goldens/gen_goldens.py). The forward passes
// below are a plain float64 transcription of docs/keras-versions.md, 'Cell equations', written
// here so these tests do not depend on the engine.

import { describe, expect, test } from 'vitest';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { buildModel, savedWeightLayout, weightGroups } from '../src/model/build.js';
import { bindLayerWeights, checkAllBound } from '../src/model/bind.js';
import type { ModelSpec, RecurrentSpec, Activation } from '../src/model/types.js';
import { ModelError } from '../src/model/errors.js';
import { CORPUS, GOLDENS, readJson, h5ModelAttrs, h5LayerArrays, h5Dataset, h5 } from './model-helpers.js';

// ---------------------------------------------------------------- reference math (float64)

function act(a: Activation, x: number): number {
  switch (a.name) {
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
    case 'hard_sigmoid':
      return Math.min(1, Math.max(0, a.hardSigmoidSlope! * x + 0.5));
    case 'tanh':
      return Math.tanh(x);
    case 'linear':
      return x;
    default:
      throw new Error(a.name);
  }
}

/** Keras RNN over x (B, T, I) → outputs (B, T, U) (docs/keras-versions.md, 'Cell equations'). */
function rnnForward(
  rnn: RecurrentSpec,
  w: Map<string, { data: Float64Array }>,
  prefix: string,
  x: Float64Array,
  B: number,
  T: number,
): Float64Array {
  const I = rnn.inputDim,
    U = rnn.units,
    G = rnn.kind === 'LSTM' ? 4 : rnn.kind === 'GRU' ? 3 : 1;
  const K = w.get(`${prefix}kernel`)!.data,
    R = w.get(`${prefix}recurrent_kernel`)!.data,
    b = w.get(`${prefix}bias`)?.data;
  const out = new Float64Array(B * T * U);
  for (let s = 0; s < B; s++) {
    let h = new Float64Array(U),
      c = new Float64Array(U);
    for (let t = 0; t < T; t++) {
      const xz = new Float64Array(G * U),
        hz = new Float64Array(G * U);
      for (let j = 0; j < G * U; j++) {
        let a = 0,
          r = 0;
        for (let i = 0; i < I; i++) a += x[(s * T + t) * I + i]! * K[i * G * U + j]!;
        for (let u = 0; u < U; u++) r += h[u]! * R[u * G * U + j]!;
        xz[j] = a + (b ? b[j]! : 0);
        hz[j] = r + (b && rnn.kind === 'GRU' && rnn.resetAfter ? b[G * U + j]! : 0);
      }
      const hn = new Float64Array(U);
      for (let u = 0; u < U; u++) {
        if (rnn.kind === 'SimpleRNN') hn[u] = act(rnn.activation, xz[u]! + hz[u]!);
        else if (rnn.kind === 'LSTM') {
          const z = (g: number) => xz[g * U + u]! + hz[g * U + u]!;
          const i = act(rnn.recurrentActivation, z(0)),
            f = act(rnn.recurrentActivation, z(1));
          const cc = act(rnn.activation, z(2)),
            o = act(rnn.recurrentActivation, z(3));
          c[u] = f * c[u]! + i * cc;
          hn[u] = o * act(rnn.activation, c[u]!);
        } else {
          const z = act(rnn.recurrentActivation, xz[u]! + hz[u]!);
          let hh: number;
          if (rnn.resetAfter)
            hh = act(
              rnn.activation,
              xz[2 * U + u]! + act(rnn.recurrentActivation, xz[U + u]! + hz[U + u]!) * hz[2 * U + u]!,
            );
          else {
            let rh = 0;
            // (r ⊙ h)·R_h
            for (let v = 0; v < U; v++)
              rh += act(rnn.recurrentActivation, xz[U + v]! + hz[U + v]!) * h[v]! * R[v * G * U + 2 * U + u]!;
            hh = act(rnn.activation, xz[2 * U + u]! + rh);
          }
          hn[u] = z * h[u]! + (1 - z) * hh;
        }
      }
      h = hn;
      out.set(h, (s * T + t) * U);
    }
  }
  return out;
}

function denseForward(
  w: Map<string, { data: Float64Array }>,
  prefix: string,
  x: Float64Array,
  N: number,
  I: number,
  U: number,
  a: Activation,
): Float64Array {
  const K = w.get(`${prefix}kernel`)!.data,
    b = w.get(`${prefix}bias`)!.data;
  const y = new Float64Array(N * U);
  for (let n = 0; n < N; n++)
    for (let u = 0; u < U; u++) {
      let s = b[u]!;
      for (let i = 0; i < I; i++) s += x[n * I + i]! * K[i * U + u]!;
      y[n * U + u] = act(a, s);
    }
  return y;
}

/** Last time step of (B, T, U). */
function last(y: Float64Array, B: number, T: number, U: number): Float64Array {
  const o = new Float64Array(B * U);
  for (let b = 0; b < B; b++) o.set(y.subarray((b * T + T - 1) * U, (b * T + T) * U), b * U);
  return o;
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function layerIndex(m: ModelSpec, name: string): number {
  const i = m.layers.findIndex((l) => l.name === name);
  if (i < 0) throw new Error(`no layer ${name}`);
  return i;
}

async function bindFromH5(m: ModelSpec, path: string): Promise<void> {
  for (const g of weightGroups(m)) {
    if (m.params[g.layers[0]!]!.length === 0) continue;
    bindLayerWeights(m, g.layers[0]!, await h5LayerArrays(path, g.name));
  }
  checkAllBound(m);
}

// ---------------------------------------------------------------- Keras-saved predictions

describe('binding reproduces the predictions Keras stored', () => {
  for (const [dir, file, io, input] of [
    [
      'k1_dl4j_simple_lstm_tf',
      'simple_lstm_tf_keras_1_model.h5',
      'simple_lstm_tf_keras_1_inputs_and_outputs.h5',
      'inputs/lstm_input_1',
    ],
    [
      'k1_dl4j_simple_lstm_theano',
      'simple_lstm_th_keras_1_model.h5',
      'simple_lstm_th_keras_1_inputs_and_outputs.h5',
      'inputs/lstm_input_1',
    ],
    [
      'h5_dl4j_simplernn_k2',
      'simple_rnn_tf_keras_2_model.h5',
      'simple_rnn_tf_keras_2_inputs_and_outputs.h5',
      'inputs/simple_rnn_1_input',
    ],
  ] as const) {
    test(`${dir}: per-layer arrays → forward = Keras predictions`, async () => {
      const path = `${CORPUS}${dir}/${file}`;
      const a = await h5ModelAttrs(path);
      const m = buildModel(a.modelConfig, {
        kerasVersion: a.kerasVersion,
        backend: a.backend,
        format: 'keras-h5',
        trainingConfig: a.trainingConfig,
        source: file,
      });
      expect(m.inputNames).toEqual([input.slice('inputs/'.length)]);
      await bindFromH5(m, path);
      const x = await h5Dataset(`${CORPUS}${dir}/${io}`, input);
      const pred = await h5Dataset(`${CORPUS}${dir}/${io}`, 'predictions/dense_1');
      const rl = m.layers[1]!;
      if (rl.type !== 'Recurrent') throw new Error('expected a recurrent layer');
      const [B, T] = x.shape as [number, number];
      const h = last(rnnForward(rl.rnn, m.weights, `${rl.name}/`, Float64Array.from(x.data), B, T), B, T, rl.rnn.units);
      const y = denseForward(m.weights, 'dense_1/', h, B, rl.rnn.units, 1, { name: 'linear' });
      // Keras computed in float32; ours is float64 on the same weights.
      expect(maxAbs(y, pred.data)).toBeLessThan(1e-5);
      const act = await h5Dataset(`${CORPUS}${dir}/${io}`, `activations/${rl.name}`);
      expect(maxAbs(h, act.data)).toBeLessThan(1e-5);
    });
  }

  test('Keras 1 per-gate order i, c, f, o: the untouched forget bias (b_f = 1) lands in block f of i, f, c, o', async () => {
    const path = `${CORPUS}k1_dl4j_simple_lstm_tf/simple_lstm_tf_keras_1_model.h5`;
    const a = await h5ModelAttrs(path);
    const m = buildModel(a.modelConfig, { kerasVersion: '1', format: 'keras-h5', source: 'x' });
    bindLayerWeights(m, 1, await h5LayerArrays(path, 'lstm_1'));
    const b = m.weights.get('lstm_1/bias')!.data;
    // Sequence length 1 and a zero initial state give the forget gate zero gradient: b_f stayed exactly 1.0
    // (MANIFEST.md).
    expect(Array.from(b.subarray(50, 100)).every((v) => v === 1)).toBe(true);
    expect(Array.from(b.subarray(0, 50)).some((v) => v !== 1)).toBe(true);
  });

  test('w_dl4j_stacked_lstm_theano: weights-only file + to_json → the 283 stored Keras predictions', async () => {
    const dir = `${CORPUS}w_dl4j_stacked_lstm_theano_with_predictions/`;
    const cfg = readJson(`${dir}lstm_th_keras_2_config.json`);
    const m = buildModel(cfg, {
      kerasVersion: cfg.keras_version,
      backend: cfg.backend,
      format: 'keras-h5-weights',
      source: 'cfg',
    });
    await bindFromH5(m, `${dir}lstm_th_keras_2_weights.h5`);
    const npy = readFileSync(`${dir}predictions.npy`);
    const hl = npy.readUInt16LE(8);
    const pred = new Float32Array(npy.buffer.slice(npy.byteOffset + 10 + hl, npy.byteOffset + npy.length));
    expect(pred.length).toBe(283);
    const N = 283,
      T = 4,
      F = 12;
    const x = new Float64Array(N * T * F);
    for (let s = 0; s < N; s++) {
      const rows = readFileSync(`${dir}data/sequences/${s}.csv`, 'utf8').trim().split('\n');
      rows.forEach((r, t) =>
        r
          .split(';')
          .slice(0, F)
          .forEach((v, f) => (x[(s * T + t) * F + f] = +v)),
      );
    }
    const l1 = m.layers[1]!,
      l2 = m.layers[2]!;
    if (l1.type !== 'Recurrent' || l2.type !== 'Recurrent') throw new Error('expected LSTMs');
    expect(l1.rnn.recurrentActivation).toEqual({ name: 'hard_sigmoid', hardSigmoidSlope: 0.2 });
    const h1 = rnnForward(l1.rnn, m.weights, 'lstm_1/', x, N, T);
    const h2 = last(rnnForward(l2.rnn, m.weights, 'lstm_2/', h1, N, T), N, T, 96);
    const y = denseForward(m.weights, 'dense_1/', h2, N, 96, 1, { name: 'sigmoid' });
    expect(maxAbs(y, pred)).toBeLessThan(1e-6);
  });
});

// ---------------------------------------------------------------- cuDNN layouts vs PyTorch

function golden(name: string): Record<string, { shape: number[]; data: number[] }> {
  return readJson(GOLDENS + name);
}

function singleRnnModel(cls: string, units: number, inputDim: number, extra: Record<string, unknown> = {}): ModelSpec {
  return buildModel(
    {
      class_name: 'Sequential',
      config: [
        {
          class_name: cls,
          config: { name: 'rnn', units, return_sequences: true, batch_input_shape: [null, null, inputDim], ...extra },
        },
      ],
    },
    { kerasVersion: '2.1.5', format: 'config', source: 't' },
  );
}

/**
 * Keras sums the cuDNN input and recurrent LSTM biases in float32: check that rounding exactly, then put the
 * exact float64 sum back so the comparison with PyTorch (which adds both biases in float64) is not blurred by it.
 */
function exactBiasSum(m: ModelSpec, b8: ArrayLike<number>, gu: number): void {
  const b = m.weights.get('rnn/bias')!.data;
  for (let j = 0; j < gu; j++) {
    expect(b[j]).toBe(Math.fround(b8[j]! + b8[gu + j]!));
    b[j] = b8[j]! + b8[gu + j]!;
  }
}

describe('cuDNN weights (bias 8U / 6U) against PyTorch', () => {
  test('textgenrnn rnn_1: real CuDNNLSTM arrays, I=100 ≠ U=128', async () => {
    const g = golden('cudnn_lstm_textgenrnn_rnn1.json');
    const arrays = await h5LayerArrays(`${CORPUS}w_textgenrnn_cudnnlstm_attention/textgenrnn_weights.hdf5`, 'rnn_1');
    expect(arrays.map((a) => a.shape)).toEqual([[100, 512], [128, 512], [1024]]);
    for (const cls of ['CuDNNLSTM', 'LSTM']) {
      const m = singleRnnModel(cls, 128, 100, cls === 'LSTM' ? { recurrent_activation: 'sigmoid' } : {});
      bindLayerWeights(m, 1, arrays);
      exactBiasSum(m, arrays[2]!.data, 512);
      const rl = m.layers[1] as Extract<ModelSpec['layers'][number], { type: 'Recurrent' }>;
      const y = rnnForward(rl.rnn, m.weights, 'rnn/', Float64Array.from(g.x!.data), 2, 5);
      expect(maxAbs(y, g.y!.data)).toBeLessThan(1e-12);
    }
  });

  for (const kind of ['lstm', 'gru'] as const) {
    test(`synthetic Cu${kind === 'lstm' ? 'DNNLSTM' : 'DNNGRU'} I=3, U=4`, () => {
      const g = golden(`cudnn_${kind}_small.json`);
      const m = singleRnnModel(kind === 'lstm' ? 'CuDNNLSTM' : 'CuDNNGRU', 4, 3);
      bindLayerWeights(
        m,
        1,
        ['kernel', 'recurrent_kernel', 'bias'].map((n) => ({ name: n, ...g[n]! })),
      );
      const rl = m.layers[1] as Extract<ModelSpec['layers'][number], { type: 'Recurrent' }>;
      if (kind === 'gru') expect(m.weights.get('rnn/bias')!.shape).toEqual([2, 12]);
      else exactBiasSum(m, g['bias']!.data, 16);
      const y = rnnForward(rl.rnn, m.weights, 'rnn/', Float64Array.from(g.x!.data), 2, 6);
      expect(maxAbs(y, g.y!.data)).toBeLessThan(1e-12);
    });
  }

  test('CuDNNGRU weights into GRU(reset_after=false) are refused', () => {
    const g = golden('cudnn_gru_small.json');
    const m = singleRnnModel('GRU', 4, 3, { reset_after: false });
    expect(() =>
      bindLayerWeights(
        m,
        1,
        ['kernel', 'recurrent_kernel', 'bias'].map((n) => ({ name: n, ...g[n]! })),
      ),
    ).toThrow(
      "Weight 'rnn/bias' comes from a CuDNNGRU (bias of 6 × units); it cannot run as GRU(reset_after=false); set reset_after=True in the layer config.",
    );
  });
});

// ---------------------------------------------------------------- other layouts and checks

const seq = (layers: unknown[], v = '2.2.4') =>
  buildModel({ class_name: 'Sequential', config: layers }, { kerasVersion: v, format: 'config', source: 't' });
const ramp = (n: number, scale = 1): Float32Array => Float32Array.from({ length: n }, (_, i) => (i + 1) * scale);

describe('layout conversions', () => {
  test('Keras 1 GRU: 9 arrays z, r, h → fused in that order', () => {
    const m = seq(
      [{ class_name: 'GRU', config: { name: 'g', output_dim: 2, input_dim: 3, input_length: 4 } }],
      '1.2.2',
    );
    const parts = ['z', 'r', 'h'].flatMap((gt, k) => [
      { name: `W_${gt}`, shape: [3, 2], data: ramp(6, 10 ** k) },
      { name: `U_${gt}`, shape: [2, 2], data: ramp(4, -(10 ** k)) },
      { name: `b_${gt}`, shape: [2], data: ramp(2, 100 * 10 ** k) },
    ]);
    bindLayerWeights(m, 1, parts);
    // Row 0 of kernel = [W_z[0,:], W_r[0,:], W_h[0,:]].
    expect(Array.from(m.weights.get('g/kernel')!.data.subarray(0, 6))).toEqual([1, 2, 10, 20, 100, 200]);
    expect(Array.from(m.weights.get('g/bias')!.data)).toEqual([100, 200, 1000, 2000, 10000, 20000]);
    expect(
      savedWeightLayout(m, 1, 'keras1')
        .map((w) => w.name)
        .join(),
    ).toBe('W_z,U_z,b_z,W_r,U_r,b_r,W_h,U_h,b_h');
  });

  test('Keras 1 Conv1D kernels: (k, 1, in, f) squeezed; Keras 1.1 (f, in, k, 1) transposed; Theano kernels flipped', () => {
    const mk = (backend: string | null) =>
      buildModel(
        {
          class_name: 'Sequential',
          config: [
            {
              class_name: 'Convolution1D',
              config: {
                name: 'c',
                nb_filter: 2,
                filter_length: 3,
                input_dim: 4,
                input_length: 9,
                border_mode: 'valid',
                bias: true,
              },
            },
          ],
        },
        { kerasVersion: '1.2.2', backend, format: 'config', source: 't' },
      );
    const m = mk(null);
    expect(m.params[1]!.map((p) => p.shape)).toEqual([[3, 4, 2], [2]]);
    expect(savedWeightLayout(m, 1, 'keras1')).toEqual([
      { name: 'W', shape: [3, 1, 4, 2] },
      { name: 'b', shape: [2] },
    ]);
    const k = ramp(24);
    bindLayerWeights(m, 1, [
      { name: 'W', shape: [3, 1, 4, 2], data: k },
      { name: 'b', shape: [2], data: [0, 0] },
    ]);
    expect(Array.from(m.weights.get('c/kernel')!.data)).toEqual(Array.from(k));
    // Legacy (f, in, k, 1): element [f][c][t] goes to [t][c][f].
    const legacy = new Float32Array(24);
    for (let f = 0; f < 2; f++)
      for (let c = 0; c < 4; c++) for (let t = 0; t < 3; t++) legacy[(f * 4 + c) * 3 + t] = k[(t * 4 + c) * 2 + f]!;
    const m2 = mk(null);
    bindLayerWeights(m2, 1, [
      { name: 'W', shape: [2, 4, 3, 1], data: legacy },
      { name: 'b', shape: [2], data: [0, 0] },
    ]);
    expect(Array.from(m2.weights.get('c/kernel')!.data)).toEqual(Array.from(k));
    const m3 = mk('theano');
    bindLayerWeights(m3, 1, [
      { name: 'W', shape: [3, 1, 4, 2], data: k },
      { name: 'b', shape: [2], data: [0, 0] },
    ]);
    expect(Array.from(m3.weights.get('c/kernel')!.data.subarray(0, 8))).toEqual(Array.from(k.subarray(16, 24)));
  });

  test('Bidirectional: forward half then backward half; real ECG weights', async () => {
    const dir = `${CORPUS}w_chen_ecg_bilstm_autoencoder/`;
    const m = buildModel(readJson(`${dir}bidirectional-lstm-auto-encoder-architecture.json`), {
      kerasVersion: '2.1.2',
      format: 'keras-h5-weights',
      source: 'x',
    });
    await bindFromH5(m, `${dir}bidirectional-lstm-auto-encoder-weights.h5`);
    const file = await h5LayerArrays(`${dir}bidirectional-lstm-auto-encoder-weights.h5`, 'bidirectional_1');
    expect(Array.from(m.weights.get('bidirectional_1/backward/kernel')!.data)).toEqual(Array.from(file[3]!.data));
    expect(savedWeightLayout(m, 1, 'keras2').map((w) => w.name)).toEqual([
      'forward/kernel',
      'forward/recurrent_kernel',
      'forward/bias',
      'backward/kernel',
      'backward/recurrent_kernel',
      'backward/bias',
    ]);
  });

  test('Embedding → Conv1D → LSTM weights-only file binds completely', async () => {
    const dir = `${CORPUS}w_chen_sentiment_embedding_conv1d_lstm/`;
    const m = buildModel(readJson(`${dir}wordvec_cnn_lstm_architecture.json`), {
      kerasVersion: '2.1.2',
      format: 'keras-h5-weights',
      source: 'x',
    });
    await bindFromH5(m, `${dir}wordvec_cnn_lstm_weights.h5`);
    expect(m.weights.size).toBe(8);
  });

  test('Keras 3 .keras: vars/0..n of layers/<class-name> bind in order', async () => {
    const files = unzipSync(new Uint8Array(readFileSync(`${CORPUS}k3_hatice_har_lstm/lstm_model.keras`)));
    const dir = mkdtempSync(join(tmpdir(), 'rnnscope-model-'));
    writeFileSync(join(dir, 'w.h5'), files['model.weights.h5']!);
    const lib = await h5();
    const f = new lib.File(join(dir, 'w.h5'), 'r');
    const m = buildModel(JSON.parse(new TextDecoder().decode(files['config.json']!)), {
      kerasVersion: '3.10.0',
      format: 'keras-v3',
      source: 'x',
    });
    const paths: Record<string, string> = {
      lstm_2: 'layers/lstm/cell/vars',
      lstm_3: 'layers/lstm_1/cell/vars',
      dense_2: 'layers/dense/vars',
      dense_3: 'layers/dense_1/vars',
    };
    for (const [layer, p] of Object.entries(paths)) {
      const i = layerIndex(m, layer);
      const n = savedWeightLayout(m, i, 'keras3').length;
      bindLayerWeights(
        m,
        i,
        Array.from({ length: n }, (_, k) => {
          const d = f.get(`${p}/${k}`) as unknown as { shape: number[]; value: Float32Array };
          return { name: String(k), shape: [...d.shape], data: d.value };
        }),
      );
    }
    f.close();
    checkAllBound(m);
    expect(m.weights.get('lstm_3/recurrent_kernel')!.shape).toEqual([128, 512]);
  });
});

describe('checks', () => {
  const lstm = () =>
    buildModel(
      {
        class_name: 'Sequential',
        config: {
          name: 's',
          layers: [
            { class_name: 'InputLayer', config: { batch_input_shape: [null, 5, 8], name: 'in' } },
            { class_name: 'LSTM', config: { name: 'lstm', units: 32 } },
          ],
        },
      },
      { kerasVersion: '2.13.1', format: 'config', source: 'm.h5' },
    );

  test('shape mismatch names the weight, both shapes and why', () => {
    const m = lstm();
    const arrays = [
      { name: 'kernel', shape: [8, 64], data: new Float32Array(8 * 64) },
      { name: 'recurrent_kernel', shape: [32, 128], data: new Float32Array(32 * 128) },
      { name: 'bias', shape: [128], data: new Float32Array(128) },
    ];
    expect(() => bindLayerWeights(m, 1, arrays)).toThrow(
      new ModelError("Weight 'lstm/kernel' has shape [8,64]; expected [8,128] (4 × units=32)."),
    );
    arrays[0] = { name: 'kernel', shape: [8, 128], data: new Float32Array(8 * 128) };
    arrays[2] = { name: 'bias', shape: [2, 128], data: new Float32Array(256) };
    expect(() => bindLayerWeights(m, 1, arrays)).toThrow(
      "Weight 'lstm/bias' has shape [2,128]; expected [128] (4 × units=32).",
    );
  });

  test('NaN / Inf are refused with the count', () => {
    const m = lstm();
    const k = new Float32Array(8 * 128);
    k[3] = NaN;
    k[7] = Infinity;
    k[9] = -Infinity;
    expect(() =>
      bindLayerWeights(m, 1, [
        { name: 'kernel', shape: [8, 128], data: k },
        { name: 'recurrent_kernel', shape: [32, 128], data: new Float32Array(32 * 128) },
        { name: 'bias', shape: [128], data: new Float32Array(128) },
      ]),
    ).toThrow(
      "Weight 'lstm/kernel' holds 3 non-finite values (NaN or Inf) out of 1024; expected finite numbers; the model diverged in training or the file is damaged.",
    );
  });

  test('array count and missing weights', () => {
    const m = lstm();
    expect(() => bindLayerWeights(m, 1, [{ name: 'kernel', shape: [8, 128], data: new Float32Array(1024) }])).toThrow(
      "Layer 'lstm' (LSTM) has 1 weight array in the file; expected 3 (kernel, recurrent_kernel, bias), or 12 Keras 1 per-gate arrays; check that the weights file belongs to this architecture.",
    );
    expect(() => checkAllBound(m)).toThrow(
      "Model 's' has no values for 3 weights: lstm/kernel, lstm/recurrent_kernel, lstm/bias; expected every parameter in the weights file; check that the weights file belongs to this architecture.",
    );
  });

  test('copies are float64 and independent of the source', () => {
    const m = lstm();
    const k = ramp(1024, 0.1);
    bindLayerWeights(m, 1, [
      { name: 'kernel', shape: [8, 128], data: k },
      { name: 'recurrent_kernel', shape: [32, 128], data: new Float32Array(32 * 128) },
      { name: 'bias', shape: [128], data: new Float32Array(128) },
    ]);
    const w = m.weights.get('lstm/kernel')!;
    expect(w.data).toBeInstanceOf(Float64Array);
    expect(w.data[5]).toBe(k[5]); // exact float32 value
    k[5] = 0;
    expect(w.data[5]).not.toBe(0);
  });
});
