// Oracle: the predictions real Keras computed and saved beside three corpus models
// (test/fixtures/corpus/MANIFEST.md "Reference outputs"):
//   k1_dl4j_simple_lstm_tf / _theano   Keras 1.2.2 LSTM(50, hard_sigmoid) → Dense(1); 100 samples (T=1)
//   h5_dl4j_simplernn_k2               Keras 2.1.3 SimpleRNN(50) → Dense(1); 25 samples (T=1)
//   w_dl4j_stacked_lstm_theano_…       Keras 2.0.8 (Theano) LSTM(96, seq) → LSTM(96) → Dense(1, sigmoid);
//                                      283 sequences (T=4, 12 features), predictions.npy
// The models are opened with rnnscope's real loaders (src/io/node.ts loadModelFile), both as the
// full-model .h5 and as to_json() config + weights-only .h5 where the corpus has both. The
// reference data is read here independently of rnnscope's readers: the *_inputs_and_outputs.h5 files
// with h5wasm, the CSV sequences and predictions.npy with a few lines of parsing below.
// rnnscope's float32 forward pass must reproduce Keras's predictions within 1e-5 (norm-wise
// relative), and the mse loss Keras stored (scores/loss, targets outputs/dense_1) within 1e-5.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelFile } from '../src/io/node.js';
import { lossAndGrads, predict } from '../src/engine/run.js';
import { lossFlavor } from '../src/engine/loss-config.js';
import type { ModelSpec } from '../src/model/types.js';
import { ErrorLog, relErr } from './helpers/oracle.js';

const CORPUS = join(import.meta.dirname, 'fixtures', 'corpus');
const TOL = 1e-5;
const log = new ErrorLog();

interface Ref {
  /** (N, T, F) */
  x: { shape: number[]; data: Float32Array };
  /** Keras's predictions (N, 1) */
  pred: Float32Array;
  /** Training targets and the stored mse (scores/loss), when Keras saved them. */
  target?: { shape: number[]; data: Float32Array };
  loss?: number;
}

/** Reads <dir>/<file>: inputs/*, predictions/dense_1, outputs/dense_1, scores/loss. */
function readInputsAndOutputs(dir: string, file: string): Ref {
  const f = new h5wasm.File(join(CORPUS, dir, file), 'r');
  try {
    const ds = (p: string) => {
      const d = f.get(p);
      if (!(d instanceof h5wasm.Dataset)) throw new Error(`${file}: no dataset ${p}`);
      return { shape: d.shape as number[], data: Float32Array.from(d.value as Float32Array) };
    };
    const inputs = f.get('inputs');
    if (!(inputs instanceof h5wasm.Group)) throw new Error(`${file}: no inputs group`);
    const inName = inputs.keys();
    expect(inName).toHaveLength(1);
    const x = ds(`inputs/${inName[0]}`);
    const pred = ds('predictions/dense_1');
    const target = ds('outputs/dense_1');
    const loss = ds('scores/loss').data[0]!;
    return { x, pred: pred.data, target, loss };
  } finally {
    f.close();
  }
}

/** A 1-d little-endian float32 .npy (format 1.0), as numpy.save writes it. */
function readNpyF4(path: string): Float32Array {
  const b = readFileSync(path);
  expect(b.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
  const headerLen = b.readUInt16LE(8);
  const header = b.subarray(10, 10 + headerLen).toString('latin1');
  expect(header).toContain("'descr': '<f4'");
  expect(header).toContain("'fortran_order': False");
  const n = Number(/'shape': \((\d+),\)/.exec(header)![1]);
  const body = b.subarray(10 + headerLen);
  expect(body.length).toBe(4 * n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = body.readFloatLE(4 * i);
  return out;
}

/** data/sequences/<i>.csv: 4 rows × 13 ';'-separated columns; the model reads the first 12. */
function readStackedSequences(dir: string, n: number): Ref['x'] {
  const T = 4,
    F = 12;
  const data = new Float32Array(n * T * F);
  for (let i = 0; i < n; i++) {
    const rows = readFileSync(join(CORPUS, dir, 'data', 'sequences', `${i}.csv`), 'utf8')
      .trim()
      .split('\n');
    expect(rows).toHaveLength(T);
    rows.forEach((row, t) => {
      const cols = row.split(';').map(Number);
      expect(cols.length).toBeGreaterThanOrEqual(F);
      for (let j = 0; j < F; j++) data[(i * T + t) * F + j] = cols[j]!;
    });
  }
  return { shape: [n, T, F], data };
}

function checkPredictions(label: string, model: ModelSpec, ref: Ref): void {
  const y = predict(model, [ref.x], { dtype: 'float32' })[0]!;
  expect(y.shape).toEqual([ref.x.shape[0], 1]);
  expect(log.note(`keras/${label}/predictions`, relErr(y.data, ref.pred))).toBeLessThan(TOL);
  let maxAbs = 0;
  for (let i = 0; i < ref.pred.length; i++) maxAbs = Math.max(maxAbs, Math.abs(y.data[i]! - ref.pred[i]!));
  log.note(`keras/${label}/predictions max abs diff`, maxAbs);
  if (ref.target && ref.loss !== undefined) {
    // The stored training configuration says mse (Keras 1/2 training_config.loss).
    const loss = model.meta.loss;
    expect(loss?.map((l) => l.name)).toEqual(['mse']);
    const r = lossAndGrads(model, [ref.x], [ref.target], {
      losses: loss!,
      flavor: lossFlavor(model.meta.kerasVersion, model.meta.format),
      dtype: 'float32',
    });
    expect(log.note(`keras/${label}/mse loss`, relErr([r.loss], [ref.loss]))).toBeLessThan(TOL);
  }
}

beforeAll(async () => {
  await h5wasm.ready;
});

afterAll(() => {
  console.log(
    `Keras oracle, worst norm-wise relative error (rnnscope float32 vs Keras's saved predictions):\n${log.table()}`,
  );
});

describe("Keras's own predictions (float32, rel. err < 1e-5)", () => {
  const simple: [label: string, dir: string, stem: string][] = [
    ['k1 LSTM (TF backend)', 'k1_dl4j_simple_lstm_tf', 'simple_lstm_tf_keras_1'],
    ['k1 LSTM (Theano backend)', 'k1_dl4j_simple_lstm_theano', 'simple_lstm_th_keras_1'],
    ['k2 SimpleRNN', 'h5_dl4j_simplernn_k2', 'simple_rnn_tf_keras_2'],
  ];
  for (const [label, dir, stem] of simple) {
    it(`${label}: full-model .h5`, async () => {
      const ref = readInputsAndOutputs(dir, `${stem}_inputs_and_outputs.h5`);
      const model = await loadModelFile(join(CORPUS, dir, `${stem}_model.h5`));
      checkPredictions(label, model, ref);
    });
    it(`${label}: to_json() config + weights-only .h5`, async () => {
      const ref = readInputsAndOutputs(dir, `${stem}_inputs_and_outputs.h5`);
      const model = await loadModelFile(join(CORPUS, dir, `${stem}_config.json`), {
        weights: join(CORPUS, dir, `${stem}_weights.h5`),
      });
      // No training_config in a to_json() architecture: predictions only.
      checkPredictions(label, model, { x: ref.x, pred: ref.pred });
    });
  }

  it('k2.0.8 stacked LSTM (Theano backend): 283 CSV sequences vs predictions.npy', async () => {
    const dir = 'w_dl4j_stacked_lstm_theano_with_predictions';
    const pred = readNpyF4(join(CORPUS, dir, 'predictions.npy'));
    expect(pred.length).toBe(283);
    const x = readStackedSequences(dir, pred.length);
    const model = await loadModelFile(join(CORPUS, dir, 'lstm_th_keras_2_config.json'), {
      weights: join(CORPUS, dir, 'lstm_th_keras_2_weights.h5'),
    });
    checkPredictions('k2 stacked LSTM', model, { x, pred });
  });
});
