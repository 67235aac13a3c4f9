// Keras semantics that values alone do not show: which layers pass, produce,
// combine or drop the (B, T) mask; gradient conventions at ties; padding
// arithmetic; error messages; extreme inputs.

import { describe, expect, it } from 'vitest';
import type { LayerSpec } from '../src/model/types.js';
import { DataError, ModelError } from '../src/model/errors.js';
import { basicLayerImpl } from '../src/engine/layers/registry-basic.js';
import { window1D } from '../src/engine/layers/conv1d.js';
import type { Mask, Tensor } from '../src/engine/tensor.js';
import { ctx64, mask, randTensor, rng } from './helpers/layer-fd.js';

const base = (className: string) => ({ name: 'l', className });
const t64 = (shape: number[], values: number[]): Tensor => ({ shape, data: Float64Array.from(values) });

function fwd(
  layer: LayerSpec,
  inputs: Tensor[],
  masks: (Mask | null)[] = inputs.map(() => null),
  params: Tensor[] = [],
) {
  return basicLayerImpl(layer)!.forward(ctx64(), layer, params, inputs, masks);
}

function grads(layer: LayerSpec, inputs: Tensor[], dy: Tensor, masks: (Mask | null)[] = inputs.map(() => null)) {
  const impl = basicLayerImpl(layer)!;
  const r = impl.forward(ctx64(), layer, [], inputs, masks);
  return impl.backward(ctx64(), layer, [], r.cache, [dy], []).map((g) => Array.from(g!.data));
}

describe('mask propagation (Keras 3)', () => {
  const r = rng(1);
  const x = randTensor([2, 4, 3], r);
  const m = mask(2, 4, [
    [1, 1, 0, 0],
    [1, 0, 1, 1],
  ]);
  const dense: LayerSpec = { ...base('Dense'), type: 'Dense', units: 2, activation: { name: 'tanh' }, useBias: false };
  const passes: [string, LayerSpec, Tensor[]][] = [
    ['Dense', dense, [randTensor([3, 2], r)]],
    ['TimeDistributed', { ...base('TimeDistributed'), type: 'TimeDistributed', inner: dense }, [randTensor([3, 2], r)]],
    ['Activation', { ...base('Activation'), type: 'Activation', activation: { name: 'relu' } }, []],
    ['Identity (Dropout)', { ...base('Dropout'), type: 'Identity' }, []],
    ['InputLayer', { ...base('InputLayer'), type: 'InputLayer', shape: [null, 4, 3], dtype: 'float32' }, []],
    [
      'BatchNormalization',
      {
        ...base('BatchNormalization'),
        type: 'BatchNormalization',
        axis: -1,
        epsilon: 1e-3,
        center: false,
        scale: false,
      },
      [randTensor([3], r), randTensor([3], () => 1)],
    ],
    [
      'LayerNormalization',
      {
        ...base('LayerNormalization'),
        type: 'LayerNormalization',
        axis: [-1],
        epsilon: 1e-3,
        center: false,
        scale: false,
      },
      [],
    ],
  ];
  for (const [title, layer, params] of passes) {
    it(`${title} passes the mask through`, () => {
      expect(Array.from(fwd(layer, [x], [m], params).masks[0]!.data)).toEqual(Array.from(m.data));
      expect(fwd(layer, [x], [null], params).masks[0]).toBeNull();
    });
  }
  const drops: [string, LayerSpec, Tensor[]][] = [
    [
      'Conv1D',
      {
        ...base('Conv1D'),
        type: 'Conv1D',
        filters: 2,
        kernelSize: 2,
        strides: 1,
        padding: 'same',
        dilationRate: 1,
        activation: { name: 'linear' },
        useBias: false,
      },
      [randTensor([2, 3, 2], r)],
    ],
    [
      'MaxPooling1D',
      { ...base('MaxPooling1D'), type: 'Pooling1D', mode: 'max', poolSize: 2, strides: 1, padding: 'valid' },
      [],
    ],
    ['GlobalAveragePooling1D', { ...base('GlobalAveragePooling1D'), type: 'GlobalPooling1D', mode: 'avg' }, []],
    ['GlobalMaxPooling1D', { ...base('GlobalMaxPooling1D'), type: 'GlobalPooling1D', mode: 'max' }, []],
    ['Flatten', { ...base('Flatten'), type: 'Flatten' }, []],
    ['Reshape', { ...base('Reshape'), type: 'Reshape', targetShape: [12] }, []],
    ['Permute', { ...base('Permute'), type: 'Permute', dims: [2, 1] }, []],
  ];
  for (const [title, layer, params] of drops) {
    it(`${title} drops the mask`, () => {
      expect(fwd(layer, [x], [m], params).masks[0]).toBeNull();
    });
  }
  it('Masking produces a mask from the values and ignores the incoming one', () => {
    const y = fwd(
      { ...base('Masking'), type: 'Masking', maskValue: 0 },
      [t64([1, 3, 2], [0, 0, 0, 1, 2, 0])],
      [mask(1, 3, [[0, 0, 0]])],
    );
    expect(Array.from(y.masks[0]!.data)).toEqual([0, 1, 1]);
  });
  it('Embedding produces ids != 0 with mask_zero, nothing without', () => {
    const E = randTensor([4, 2], r);
    const ids = t64([1, 4], [2, 0, 3, 0]);
    expect(
      Array.from(
        fwd({ ...base('Embedding'), type: 'Embedding', inputDim: 4, outputDim: 2, maskZero: true }, [ids], [null], [E])
          .masks[0]!.data,
      ),
    ).toEqual([1, 0, 1, 0]);
    expect(
      fwd({ ...base('Embedding'), type: 'Embedding', inputDim: 4, outputDim: 2, maskZero: false }, [ids], [null], [E])
        .masks[0],
    ).toBeNull();
  });
  it('Add, Subtract, Average: OR of the masks, none when an input is unmasked', () => {
    const m2 = mask(2, 4, [
      [0, 1, 0, 0],
      [0, 0, 0, 1],
    ]);
    for (const mode of ['Add', 'Subtract', 'Average', 'Multiply', 'Maximum', 'Minimum'] as const) {
      const layer: LayerSpec = { ...base(mode), type: 'Merge', mode, axis: -1 };
      expect(Array.from(fwd(layer, [x, x], [m, m2]).masks[0]!.data)).toEqual([1, 1, 0, 0, 1, 0, 1, 1]);
      expect(fwd(layer, [x, x], [m, null]).masks[0]).toBeNull();
    }
  });
  it('Concatenate: masks side by side on the steps axis, OR (all true if one is unmasked) on the features axis', () => {
    const x2 = randTensor([2, 2, 3], r);
    const m2 = mask(2, 2, [
      [0, 1],
      [1, 0],
    ]);
    const cat = (axis: number): LayerSpec => ({ ...base('Concatenate'), type: 'Merge', mode: 'Concatenate', axis });
    expect(Array.from(fwd(cat(1), [x, x2], [m, m2]).masks[0]!.data)).toEqual([1, 1, 0, 0, 0, 1, 1, 0, 1, 1, 1, 0]);
    expect(Array.from(fwd(cat(1), [x, x2], [null, m2]).masks[0]!.data)).toEqual([1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0]);
    expect(Array.from(fwd(cat(-1), [x, x], [m, null]).masks[0]!.data)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(fwd(cat(-1), [x, x], [null, null]).masks[0]).toBeNull();
  });
});

describe('gradient conventions at ties', () => {
  const maxL = (mode: 'Maximum' | 'Minimum'): LayerSpec => ({ ...base(mode), type: 'Merge', mode, axis: -1 });
  it('Maximum / Minimum give a tie to the earlier input (TF: a >= b selects a)', () => {
    const a = t64([1, 2], [1, 5]);
    const b = t64([1, 2], [1, 2]);
    const c = t64([1, 2], [3, 5]);
    expect(grads(maxL('Maximum'), [a, b], t64([1, 2], [1, 1]))).toEqual([
      [1, 1],
      [0, 0],
    ]);
    expect(grads(maxL('Minimum'), [a, b], t64([1, 2], [1, 1]))).toEqual([
      [1, 0],
      [0, 1],
    ]);
    // three inputs: tie between the 1st and 3rd in column 1 → 1st; column 0: 3 is the max, from c
    expect(grads(maxL('Maximum'), [a, b, c], t64([1, 2], [1, 1]))).toEqual([
      [0, 1],
      [0, 0],
      [1, 0],
    ]);
  });
  it('max pooling gives a tie to the first element of the window', () => {
    const layer: LayerSpec = {
      ...base('MaxPooling1D'),
      type: 'Pooling1D',
      mode: 'max',
      poolSize: 3,
      strides: 3,
      padding: 'valid',
    };
    expect(grads(layer, [t64([1, 3, 1], [2, 2, 1])], t64([1, 1, 1], [1]))).toEqual([[1, 0, 0]]);
  });
  it('global max pooling splits a tie equally (TF reduce_max gradient)', () => {
    const layer: LayerSpec = { ...base('GlobalMaxPooling1D'), type: 'GlobalPooling1D', mode: 'max' };
    expect(grads(layer, [t64([1, 4, 1], [3, 1, 3, 3])], t64([1, 1], [1.5]))).toEqual([[0.5, 0, 0.5, 0.5]]);
  });
});

describe('padding arithmetic', () => {
  it('TF SAME: 13 steps, window 6, stride 5 → 3 outputs, 1 zero on the left and 2 on the right (tf.nn padding notes example)', () => {
    expect(window1D('same', 13, 6, 5)).toEqual({ outLen: 3, padL: 1 });
  });
  it('VALID drops the right-most steps: 13 steps, window 6, stride 5 → 2 outputs', () => {
    expect(window1D('valid', 13, 6, 5)).toEqual({ outLen: 2, padL: 0 });
  });
  it('causal: (k−1)·d zeros on the left, ceil(L/s) outputs', () => {
    expect(window1D('causal', 10, 5, 3)).toEqual({ outLen: 4, padL: 4 });
  });
});

describe('errors', () => {
  const emb: LayerSpec = {
    ...base('Embedding'),
    name: 'emb',
    type: 'Embedding',
    inputDim: 5,
    outputDim: 2,
    maskZero: false,
  };
  const E = randTensor([5, 2], rng(2));
  it('Embedding names an out-of-range id, its position and the range', () => {
    expect(() => fwd(emb, [t64([2, 2], [1, 2, 3, 7])], [null], [E])).toThrow(
      new DataError(
        "Embedding 'emb' got token id 7 at [1, 1]; expected an integer in [0, 5), check the tokenizer or the vocabulary size.",
      ),
    );
    expect(() => fwd(emb, [t64([1, 2], [-1, 2])], [null], [E])).toThrow(DataError);
    expect(() => fwd(emb, [t64([1, 2], [1.5, 2])], [null], [E])).toThrow(/token id 1\.5 at \[0, 0\]/);
  });
  it('GlobalAveragePooling1D refuses a sample with every step masked', () => {
    const layer: LayerSpec = { ...base('GlobalAveragePooling1D'), name: 'gap', type: 'GlobalPooling1D', mode: 'avg' };
    expect(() =>
      fwd(
        layer,
        [randTensor([2, 2, 1], rng(3))],
        [
          mask(2, 2, [
            [1, 0],
            [0, 0],
          ]),
        ],
      ),
    ).toThrow(
      new DataError(
        "GlobalAveragePooling1D 'gap' got sample 1 with every step masked; expected at least one valid step (Keras would return NaN), drop empty sequences from the batch.",
      ),
    );
  });
  it('Subtract needs exactly 2 inputs', () => {
    const x = randTensor([1, 2], rng(4));
    expect(() => fwd({ ...base('Subtract'), type: 'Merge', mode: 'Subtract', axis: -1 }, [x, x, x])).toThrow(
      ModelError,
    );
  });
  it('shape mismatches are DataErrors naming the shapes', () => {
    const r = rng(5);
    expect(() =>
      fwd({ ...base('Add'), name: 'add', type: 'Merge', mode: 'Add', axis: -1 }, [
        randTensor([2, 3], r),
        randTensor([2, 4], r),
      ]),
    ).toThrow(/Add 'add' got inputs of shapes \(2, 3\) and \(2, 4\)/);
    expect(() =>
      fwd({ ...base('Concatenate'), type: 'Merge', mode: 'Concatenate', axis: -1 }, [
        randTensor([2, 3, 1], r),
        randTensor([2, 4, 1], r),
      ]),
    ).toThrow(DataError);
    expect(() => fwd({ ...base('Reshape'), type: 'Reshape', targetShape: [5, -1] }, [randTensor([2, 6], r)])).toThrow(
      DataError,
    );
    const conv: LayerSpec = {
      ...base('Conv1D'),
      type: 'Conv1D',
      filters: 1,
      kernelSize: 3,
      strides: 1,
      padding: 'valid',
      dilationRate: 2,
      activation: { name: 'linear' },
      useBias: false,
    };
    expect(() => fwd(conv, [randTensor([1, 4, 1], r)], [null], [randTensor([3, 1, 1], r)])).toThrow(
      /shorter than its dilated kernel \(5 steps\)/,
    );
  });
  it('softmax over a non-last axis is refused', () => {
    const layer: LayerSpec = { ...base('Activation'), type: 'Activation', activation: { name: 'softmax', axis: 1 } };
    expect(() => fwd(layer, [randTensor([2, 3, 4], rng(6))])).toThrow(ModelError);
  });
  it('TimeDistributed around a layer it cannot run says so', () => {
    const inner = { ...base('LSTM'), type: 'Recurrent' } as unknown as LayerSpec;
    const layer: LayerSpec = { ...base('TimeDistributed'), name: 'td', type: 'TimeDistributed', inner };
    expect(() => fwd(layer, [randTensor([1, 2, 3, 4], rng(7))])).toThrow(/TimeDistributed\) wraps a LSTM layer/);
  });
});

describe('extreme inputs (±300)', () => {
  const r = rng(8);
  const x = randTensor([2, 3, 4], () => (r() > 0 ? 300 : -300) * (0.5 + Math.abs(r())));
  const layers: [string, LayerSpec][] = [
    ['softmax', { ...base('Activation'), type: 'Activation', activation: { name: 'softmax' } }],
    ['log_softmax', { ...base('Activation'), type: 'Activation', activation: { name: 'log_softmax' } }],
    [
      'LayerNormalization',
      {
        ...base('LayerNormalization'),
        type: 'LayerNormalization',
        axis: [-1],
        epsilon: 1e-3,
        center: false,
        scale: false,
      },
    ],
    ['GlobalAveragePooling1D', { ...base('GlobalAveragePooling1D'), type: 'GlobalPooling1D', mode: 'avg' }],
  ];
  for (const [title, layer] of layers) {
    it(`${title}: finite outputs and gradients`, () => {
      const impl = basicLayerImpl(layer)!;
      const res = impl.forward(ctx64(), layer, [], [x], [null]);
      expect(res.outputs[0].data.every(Number.isFinite)).toBe(true);
      const dy = randTensor([...res.outputs[0].shape], r);
      expect(impl.backward(ctx64(), layer, [], res.cache, [dy], [])[0]!.data.every(Number.isFinite)).toBe(true);
    });
  }
  it('softmax rows still sum to 1', () => {
    const y = fwd({ ...base('Activation'), type: 'Activation', activation: { name: 'softmax' } }, [x]).outputs[0].data;
    for (let o = 0; o < y.length; o += 4) expect(y[o] + y[o + 1] + y[o + 2] + y[o + 3]).toBeCloseTo(1, 12);
  });
});

describe('a null output gradient', () => {
  it('gives null input gradients and leaves dParams alone', () => {
    const layer: LayerSpec = {
      ...base('Dense'),
      type: 'Dense',
      units: 2,
      activation: { name: 'linear' },
      useBias: true,
    };
    const impl = basicLayerImpl(layer)!;
    const r = rng(9);
    const params = [randTensor([3, 2], r), randTensor([2], r)];
    const res = impl.forward(ctx64(), layer, params, [randTensor([2, 3], r)], [null]);
    const dParams = [randTensor([3, 2], () => 0), randTensor([2], () => 0)];
    expect(impl.backward(ctx64(), layer, params, res.cache, [null], dParams)).toEqual([null]);
    expect(dParams.every((d) => d.data.every((v) => v === 0))).toBe(true);
  });
});
