// fitDataToModel: data arrays matched to a model's inputs and outputs. The models are
// small hand-built ModelSpecs with the input/output shapes of corpus models (HAR LSTM
// (None, 100, 6); the two-input Embedding(5) model; the ECG autoencoder (None, 210, 1)).
// Reshaped values are checked against numpy (expected.json): numpy.loadtxt for the ECG CSV,
// numpy.transpose for the transposed fixture, a pad_sequences reference for token re-padding.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openData, type NamedArray } from '../src/io/data.js';
import { fitDataToModel, type FitOptions } from '../src/io/data-check.js';
import { DataError } from '../src/model/errors.js';
import type { GraphNode, LayerSpec, LossConfig, ModelSpec, Shape, TensorInfo, Warning } from '../src/model/types.js';

const DATA = join(import.meta.dirname, 'fixtures', 'data');
const CORPUS = join(import.meta.dirname, 'fixtures', 'corpus');
const oracle = JSON.parse(readFileSync(join(DATA, 'expected.json'), 'utf8')) as {
  arrays: Record<string, { arrays: { values: number[] }[]; fix_axes?: number[]; pad?: Record<string, number[]> }>;
};

interface Port {
  name: string;
  shape: Shape;
  embedding?: number;
}

/** A ModelSpec with the given inputs/outputs; an Embedding node consumes each input that declares one. */
function model(inputs: Port[], outputs: Port[], loss: string | null = null): ModelSpec {
  const layers: LayerSpec[] = [];
  const tensors: TensorInfo[] = [];
  const nodes: GraphNode[] = [];
  const add = (shape: Shape, dtype: 'float32' | 'int32' = 'float32') =>
    tensors.push({ id: tensors.length, shape, dtype }) - 1;
  const inIds = inputs.map((p) => {
    layers.push({
      name: p.name,
      className: 'InputLayer',
      type: 'InputLayer',
      shape: p.shape,
      dtype: p.embedding ? 'int32' : 'float32',
    });
    const id = add(p.shape, p.embedding ? 'int32' : 'float32');
    if (p.embedding) {
      layers.push({
        name: `embedding_${p.name}`,
        className: 'Embedding',
        type: 'Embedding',
        inputDim: p.embedding,
        outputDim: 8,
        maskZero: false,
      });
      nodes.push({ layer: layers.length - 1, inputs: [id], outputs: [add([...p.shape, 8])] });
    }
    return id;
  });
  const outIds = outputs.map((p) => add(p.shape));
  const lossCfg: LossConfig[] | null = loss === null ? null : [{ name: loss, fromLogits: false, labelSmoothing: 0 }];
  return {
    name: 'm',
    layers,
    params: layers.map(() => []),
    nodes,
    tensors,
    inputs: inIds,
    inputNames: inputs.map((p) => p.name),
    outputs: outIds,
    outputNames: outputs.map((p) => p.name),
    weights: new Map(),
    warnings: [],
    meta: {
      format: 'test',
      kerasVersion: '3.10.0',
      writer: 'keras3',
      backend: null,
      loss: lossCfg,
      optimizer: null,
      metrics: null,
      source: 'test',
    },
  };
}

function file(rel: string, warnings?: Warning[]): NamedArray[] {
  const [dir, f] = rel.startsWith('corpus:') ? [CORPUS, rel.slice(7)] : [DATA, rel];
  return openData(new Uint8Array(readFileSync(join(dir, f))), f.split('/').pop()!, { warnings });
}

function arr(name: string, shape: number[], fill = 0): NamedArray {
  return {
    name,
    shape,
    dtype: 'float32',
    data: new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(fill),
    source: `${name}.npy`,
  };
}

function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return (e as Error).message;
  }
  throw new Error('expected a DataError');
}

const seq10x3 = model(
  [{ name: 'x_in', shape: [null, 10, 3] }],
  [{ name: 'dense', shape: [null, 5] }],
  'sparse_categorical_crossentropy',
);
const har = model(
  [{ name: 'input_layer', shape: [null, 100, 6] }],
  [{ name: 'dense_1', shape: [null, 6] }],
  'categorical_crossentropy',
);

describe('inputs: shapes', () => {
  it('an array of the expected shape passes through unchanged', () => {
    const [x] = file('check/batch.npy');
    const [fit] = fitDataToModel(seq10x3, [x], 'inputs');
    expect(fit.name).toBe('x_in');
    expect(fit.shape).toEqual([4, 10, 3]);
    expect(fit.data).toBe(x.data);
  });

  it('a transposed array: suggests the axis order numpy verified', () => {
    const axes = oracle.arrays['check/transposed.npy'].fix_axes!;
    expect(message(() => fitDataToModel(seq10x3, file('check/transposed.npy'), 'inputs'))).toBe(
      `model input 'x_in' expects (None, 10, 3); transposed.npy has shape (10, 3, 4): is it transposed? numpy.transpose(x, (${axes.join(', ')})) gives (4, 10, 3).`,
    );
    expect(message(() => fitDataToModel(har, [arr('x', [100, 6, 200])], 'inputs'))).toBe(
      "model input 'input_layer' expects (None, 100, 6); x.npy has shape (100, 6, 200): is it transposed? numpy.transpose(x, (2, 0, 1)) gives (200, 100, 6).",
    );
  });

  it('one sample without the batch axis', () => {
    expect(message(() => fitDataToModel(seq10x3, file('check/one_sample.npy'), 'inputs'))).toBe(
      "model input 'x_in' expects (None, 10, 3); one_sample.npy has shape (10, 3), which looks like one sample; add a batch axis (x[None]) to pass it as a batch of 1.",
    );
  });

  it('missing or extra trailing feature axis, and plain mismatches', () => {
    const ecg = model(
      [{ name: 'bidirectional_1_input', shape: [null, 210, 1] }],
      [{ name: 'dense_1', shape: [null, 210] }],
    );
    expect(message(() => fitDataToModel(ecg, [arr('x', [23, 210])], 'inputs'))).toBe(
      "model input 'bidirectional_1_input' expects (None, 210, 1); x.npy has shape (23, 210), without the trailing feature axis of size 1; add it with x[..., None].",
    );
    expect(message(() => fitDataToModel(har, [arr('x', [2, 100, 6, 1])], 'inputs'))).toBe(
      "model input 'input_layer' expects (None, 100, 6); x.npy has shape (2, 100, 6, 1), with an extra trailing axis of size 1; remove it with x[..., 0].",
    );
    expect(message(() => fitDataToModel(har, [arr('x', [5, 100, 7])], 'inputs'))).toBe(
      "model input 'input_layer' expects (None, 100, 6); x.npy has shape (5, 100, 7); check that the data belongs to this model and has one sample per row of the first axis.",
    );
  });

  it('CSV rows are reshaped to the sample shape (the corpus ECG file, against numpy.loadtxt)', () => {
    const ecg = model(
      [{ name: 'bidirectional_1_input', shape: [null, 210, 1] }],
      [{ name: 'dense_1', shape: [null, 210] }],
    );
    const [fit] = fitDataToModel(ecg, file('corpus:w_chen_ecg_bilstm_autoencoder/ecg_discord_test.csv'), 'inputs');
    expect(fit.shape).toEqual([23, 210, 1]);
    expect(Array.from(fit.data)).toEqual(
      oracle.arrays['corpus:w_chen_ecg_bilstm_autoencoder/ecg_discord_test.csv'].arrays[0].values,
    );
    // An unknown time axis is inferred from the row length.
    const anyT = model([{ name: 'in', shape: [null, null, 6] }], [{ name: 'out', shape: [null, 1] }]);
    expect(fitDataToModel(anyT, [{ ...arr('r', [2, 60]), layout: 'rows' }], 'inputs')[0].shape).toEqual([2, 10, 6]);
    expect(message(() => fitDataToModel(har, [{ ...arr('r', [2, 599]), layout: 'rows' }], 'inputs'))).toBe(
      "model input 'input_layer' expects (None, 100, 6), 600 values per sample, but r.npy has 599 values per row; each row must hold one sample flattened in C order (or add a '# shape:' line).",
    );
  });

  it('1-D data for a (None, 1) input becomes (N, 1)', () => {
    const m = model([{ name: 'in', shape: [null, 1] }], [{ name: 'out', shape: [null, 1] }]);
    expect(fitDataToModel(m, [arr('x', [7])], 'inputs')[0].shape).toEqual([7, 1]);
  });
});

describe('inputs: values', () => {
  it('NaN/Inf: count and first index', () => {
    expect(message(() => fitDataToModel(seq10x3, file('check/with_nan.npy'), 'inputs'))).toBe(
      'with_nan.npy holds 2 NaN/Inf value(s) (first NaN at [1, 2, 0]); gradients would be NaN, so clean or impute the data first.',
    );
  });

  const twoInputs = model(
    [
      { name: 'numbers', shape: [null, 36] },
      { name: 'tokens', shape: [null, 7], embedding: 5 },
    ],
    [{ name: 'dense_5', shape: [null, 1] }],
    'binary_crossentropy',
  );

  it('token ids for an Embedding: integers inside [0, input_dim)', () => {
    const tok = model([{ name: 'tokens', shape: [null, 7], embedding: 5 }], [{ name: 'out', shape: [null, 1] }]);
    expect(fitDataToModel(tok, file('check/tokens_ok.npy'), 'inputs')[0].shape).toEqual([4, 7]);
    expect(message(() => fitDataToModel(tok, file('check/tokens_out_of_vocab.npy'), 'inputs'))).toBe(
      "tokens_out_of_vocab.npy holds 2 token id(s) outside [0, 5) (first 5 at [0, 5]), but Embedding 'embedding_tokens' has input_dim=5; tokenize with this model's vocabulary.",
    );
    expect(message(() => fitDataToModel(tok, file('check/tokens_float.npy'), 'inputs'))).toBe(
      "model input 'tokens' feeds Embedding 'embedding_tokens', which needs integer token ids, but tokens_float.npy holds 1 non-integer value(s) (first 2.5 at [0, 2]); pass token ids, not features (Keras would silently truncate them).",
    );
  });

  it('several inputs: an .npz named after the inputs, returned in model order', () => {
    const arrays = file('npz/numpy_savez.npz'); // tokens, numbers (file order)
    const fit = fitDataToModel(twoInputs, arrays, 'inputs');
    expect(fit.map((f) => [f.name, f.shape])).toEqual([
      ['numbers', [3, 36]],
      ['tokens', [3, 7]],
    ]);
    expect(fit[0].data).toBe(arrays[1].data);
  });

  it('several inputs: unnamed arrays in order, or a helpful error', () => {
    const a = arr('arr_1', [3, 7]);
    const b = arr('arr_0', [3, 36]);
    expect(fitDataToModel(twoInputs, [a, b], 'inputs').map((f) => f.shape)).toEqual([
      [3, 36],
      [3, 7],
    ]);
    expect(message(() => fitDataToModel(twoInputs, [arr('x', [3, 36])], 'inputs'))).toBe(
      "The model has 2 input(s) (numbers, tokens) but x.npy gives 1 array(s) (x) for them; name the arrays after the inputs, e.g. numpy.savez('data.npz', numbers=..., tokens=...).",
    );
    expect(message(() => fitDataToModel(twoInputs, [arr('numbers', [3, 36]), arr('tokens', [2, 7])], 'inputs'))).toBe(
      'tokens.npy has 2 samples but numbers.npy has 3; the inputs must hold one entry per sample, so pass matching files.',
    );
  });

  it('ragged token lists are re-padded to the model length like pad_sequences', () => {
    for (const L of [4, 7]) {
      const w: Warning[] = [];
      const m = model([{ name: 'tokens', shape: [null, L], embedding: 5 }], [{ name: 'out', shape: [null, 1] }]);
      const [fit] = fitDataToModel(m, file('json/tokens.json'), 'inputs', { warnings: w });
      expect(fit.shape).toEqual([3, L]);
      expect(Array.from(fit.data)).toEqual(oracle.arrays['json/tokens.json'].pad![String(L)]);
      expect(w[0].message).toBe(
        `tokens.json: token sequences padded with 0 in front to the model's length ${L}${L === 4 ? '; 1 longer sequence(s) lost their first ids' : ''} (Keras pad_sequences defaults).`,
      );
    }
  });

  it('a fixed batch size in the model is a warning, not an error', () => {
    const w: Warning[] = [];
    const m = model([{ name: 'in', shape: [25, 1, 1] }], [{ name: 'out', shape: [25, 1] }]);
    expect(fitDataToModel(m, [arr('x', [4, 1, 1])], 'inputs', { warnings: w })[0].shape).toEqual([4, 1, 1]);
    expect(w[0].message).toBe(
      'x.npy: the model was saved with a fixed batch size of 25; rnnscope runs the 4 samples given (layers are not stateful here).',
    );
  });
});

describe('targets', () => {
  const xy = () => file('npz/xy_stored.npz'); // x (4,10,3), y (4,) class ids in [0,5)

  it('an {x, y} archive: x feeds the inputs, y the targets', () => {
    expect(fitDataToModel(seq10x3, xy(), 'inputs')[0].source).toBe('xy_stored.npz:x.npy');
    const [t] = fitDataToModel(seq10x3, xy(), 'targets', { batch: 4 });
    expect(t).toMatchObject({ name: 'dense', source: 'xy_stored.npz:y.npy', sparse: true, shape: [4] });
  });

  it('class ids for categorical_crossentropy are one-hot encoded', () => {
    const y = xy()[1];
    const w: Warning[] = [];
    const [t] = fitDataToModel(seq10x3, xy(), 'targets', { losses: ['categorical_crossentropy'], warnings: w });
    expect(t.shape).toEqual([4, 5]);
    for (let r = 0; r < 4; r++) for (let c = 0; c < 5; c++) expect(t.data[r * 5 + c]).toBe(c === y.data[r] ? 1 : 0);
    expect(w[0].message).toBe(
      'xy_stored.npz:y.npy: class ids one-hot encoded to (4, 5) for the loss categorical_crossentropy.',
    );
  });

  it('class ids for a loss that needs the output shape, and ids out of range', () => {
    expect(message(() => fitDataToModel(seq10x3, xy(), 'targets', { losses: ['mse'] }))).toBe(
      "xy_stored.npz:y.npy of shape (4,) looks like class ids, but the loss mse of model output 'dense' (None, 5) needs targets of that shape; pass targets of shape (None, 5) (or use --loss sparse_categorical_crossentropy).",
    );
    expect(message(() => fitDataToModel(har, [arr('y', [3], 6)], 'targets'))).toBe(
      "model output 'dense_1' has 6 classes, so y.npy of shape (3,) would be class ids, but it holds 6 at [0]; pass integer class ids in [0, 6) or one-hot targets of shape (None, 6).",
    );
  });

  it('sequence outputs take (N, T) or (N, T, 1) ids; (N,) targets for (None, 1) become (N, 1)', () => {
    const s = model(
      [{ name: 'in', shape: [null, 4, 2] }],
      [{ name: 'td', shape: [null, 4, 3] }],
      'sparse_categorical_crossentropy',
    );
    expect(fitDataToModel(s, [arr('y', [2, 4], 1)], 'targets')[0]).toMatchObject({ sparse: true, shape: [2, 4] });
    expect(fitDataToModel(s, [arr('y', [2, 4, 1], 2)], 'targets')[0]).toMatchObject({ sparse: true, shape: [2, 4, 1] });
    expect(fitDataToModel(s, [{ ...arr('y', [2, 4], 2), layout: 'rows' }], 'targets')[0]).toMatchObject({
      sparse: true,
      shape: [2, 4],
    });
    const reg = model([{ name: 'in', shape: [null, 4, 12] }], [{ name: 'dense_1', shape: [null, 1] }]);
    const [p] = fitDataToModel(
      reg,
      file('corpus:w_dl4j_stacked_lstm_theano_with_predictions/predictions.npy'),
      'targets',
      { batch: 283 },
    );
    expect(p).toMatchObject({ sparse: false, shape: [283, 1] });
  });

  it('targets must have as many samples as the inputs', () => {
    const opts: FitOptions = { batch: 5 };
    expect(message(() => fitDataToModel(seq10x3, xy(), 'targets', opts))).toBe(
      'xy_stored.npz:y.npy has 4 samples but the inputs have 5; the targets must hold one entry per sample, so pass matching files.',
    );
  });
});
