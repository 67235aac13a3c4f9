// Every non-recurrent layer's backward against float64 central finite
// differences (test/helpers/layer-fd.ts), for every option that changes the
// math: padding modes, strides, dilation, merge modes, masks, center/scale,
// axes, ranks.

import { describe, expect, it } from 'vitest';
import type { Activation, LayerSpec, MergeKind, Padding } from '../src/model/types.js';
import type { Mask, Tensor } from '../src/engine/tensor.js';
import { checkLayerGradients, mask, randTensor, rng } from './helpers/layer-fd.js';
import { base, expectGrad, impl } from './helpers/layer-cases.js';
import { act } from './helpers/models.js';

describe('Dense', () => {
  const cases: [string, number[], Activation, boolean][] = [
    ['rank 2, tanh, bias', [3, 5], act('tanh'), true],
    ['rank 3, softmax (row-wise), bias', [2, 4, 5], act('softmax'), true],
    ['rank 3, linear, no bias', [2, 3, 4], act('linear'), false],
    ['rank 4, gelu (needs the pre-activation)', [2, 2, 3, 4], { name: 'gelu', approximate: false }, true],
  ];
  for (const [title, shape, a, useBias] of cases) {
    it(title, () => {
      const r = rng(shape.length * 7 + (useBias ? 1 : 0));
      const nIn = shape[shape.length - 1];
      const layer = { ...base('Dense'), type: 'Dense' as const, units: 3, activation: a, useBias };
      const params = [randTensor([nIn, 3], r), ...(useBias ? [randTensor([3], r)] : [])];
      expectGrad({ impl: impl('Dense'), layer, inputs: [randTensor(shape, r)], params });
    });
  }
});

describe('TimeDistributed', () => {
  it('TimeDistributed(Dense, sigmoid) on (B, T, F)', () => {
    const r = rng(3);
    const inner: LayerSpec = { ...base('Dense'), type: 'Dense', units: 2, activation: act('sigmoid'), useBias: true };
    const layer = { ...base('TimeDistributed'), type: 'TimeDistributed' as const, inner };
    expectGrad({
      impl: impl('TimeDistributed'),
      layer,
      inputs: [randTensor([2, 3, 4], r)],
      params: [randTensor([4, 2], r), randTensor([2], r)],
    });
  });
  it('TimeDistributed(Conv1D, same, stride 2) on (B, T, L, C)', () => {
    const r = rng(4);
    const inner: LayerSpec = {
      ...base('Conv1D'),
      type: 'Conv1D',
      filters: 2,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      dilationRate: 1,
      activation: act('tanh'),
      useBias: true,
    };
    const layer = { ...base('TimeDistributed'), type: 'TimeDistributed' as const, inner };
    expectGrad({
      impl: impl('TimeDistributed'),
      layer,
      inputs: [randTensor([2, 2, 5, 2], r)],
      params: [randTensor([3, 2, 2], r), randTensor([2], r)],
    });
  });
});

describe('Embedding', () => {
  it('scatter-adds into repeated rows; ids get no gradient', () => {
    const r = rng(5);
    const layer = { ...base('Embedding'), type: 'Embedding' as const, inputDim: 5, outputDim: 3, maskZero: true };
    const ids: Tensor = { shape: [2, 4], data: Float64Array.from([1, 3, 3, 0, 4, 1, 1, 2]) };
    expectGrad({ impl: impl('Embedding'), layer, inputs: [ids], params: [randTensor([5, 3], r)], noGrad: [0] });
  });
});

describe('Masking', () => {
  it('zero gradient at masked steps, identity elsewhere', () => {
    const r = rng(6);
    const x = randTensor([2, 4, 3], r);
    const masked = [1, 6]; // (b, t) = (0, 1) and (1, 2)
    for (const s of masked) x.data.fill(0.5, s * 3, s * 3 + 3);
    x.data[7 * 3 + 1] = 0.5; // one feature equal to mask_value does not mask the step
    const layer = { ...base('Masking'), type: 'Masking' as const, maskValue: 0.5 };
    // The output jumps when a masked step stops being masked: not differentiable there.
    expectGrad({ impl: impl('Masking'), layer, inputs: [x], skip: (_k, i) => masked.includes(Math.floor(i / 3)) });
  });
});

describe('reshaping layers', () => {
  const r = rng(7);
  it('RepeatVector', () => {
    expectGrad({
      impl: impl('RepeatVector'),
      layer: { ...base('RepeatVector'), type: 'RepeatVector', n: 3 },
      inputs: [randTensor([2, 4], r)],
    });
  });
  it('Flatten', () => {
    expectGrad({
      impl: impl('Flatten'),
      layer: { ...base('Flatten'), type: 'Flatten' },
      inputs: [randTensor([2, 3, 4], r)],
    });
  });
  it('Reshape with an inferred dim', () => {
    expectGrad({
      impl: impl('Reshape'),
      layer: { ...base('Reshape'), type: 'Reshape', targetShape: [-1, 2] },
      inputs: [randTensor([2, 3, 4], r)],
    });
  });
  it('Permute (2, 1) and (3, 1, 2)', () => {
    expectGrad({
      impl: impl('Permute'),
      layer: { ...base('Permute'), type: 'Permute', dims: [2, 1] },
      inputs: [randTensor([2, 3, 4], r)],
    });
    expectGrad({
      impl: impl('Permute'),
      layer: { ...base('Permute'), type: 'Permute', dims: [3, 1, 2] },
      inputs: [randTensor([2, 3, 4, 2], r)],
    });
  });
  it('Identity and InputLayer', () => {
    expectGrad({
      impl: impl('Identity'),
      layer: { ...base('Dropout'), type: 'Identity' },
      inputs: [randTensor([2, 3], r)],
    });
    expectGrad({
      impl: impl('InputLayer'),
      layer: { ...base('InputLayer'), type: 'InputLayer', shape: [null, 3], dtype: 'float32' },
      inputs: [randTensor([2, 3], r)],
    });
    const ids = checkLayerGradients({
      impl: impl('InputLayer'),
      layer: { ...base('InputLayer'), type: 'InputLayer', shape: [null, 3], dtype: 'int32' },
      inputs: [{ shape: [1, 3], data: Float64Array.from([1, 2, 3]) }],
      noGrad: [0],
    });
    expect(ids.errors).toEqual({});
  });
});

describe('Activation layer', () => {
  const acts: Activation[] = [act('tanh'), act('softmax'), act('log_softmax'), { name: 'elu', alpha: 1 }, act('swish')];
  for (const a of acts) {
    it(a.name, () => {
      expectGrad({
        impl: impl('Activation'),
        layer: { ...base('Activation'), type: 'Activation', activation: a },
        inputs: [randTensor([2, 3, 4], rng(8))],
      });
    });
  }
});

describe('Conv1D', () => {
  const paddings: Padding[] = ['valid', 'same', 'causal'];
  for (const padding of paddings) {
    for (const [k, s, d] of [
      [1, 1, 1],
      [3, 1, 1],
      [2, 2, 1],
      [3, 1, 2],
      [3, 3, 2],
      [4, 2, 1],
    ]) {
      it(`${padding}, kernel ${k}, stride ${s}, dilation ${d}`, () => {
        const r = rng(100 * k + 10 * s + d);
        const layer = {
          ...base('Conv1D'),
          type: 'Conv1D' as const,
          filters: 3,
          kernelSize: k,
          strides: s,
          padding,
          dilationRate: d,
          activation: act('tanh'),
          useBias: true,
        };
        expectGrad({
          impl: impl('Conv1D'),
          layer,
          inputs: [randTensor([2, 8, 2], r)],
          params: [randTensor([k, 2, 3], r), randTensor([3], r)],
        });
      });
    }
  }
  it('no bias, linear', () => {
    const r = rng(9);
    const layer = {
      ...base('Conv1D'),
      type: 'Conv1D' as const,
      filters: 2,
      kernelSize: 2,
      strides: 1,
      padding: 'valid' as const,
      dilationRate: 1,
      activation: act('linear'),
      useBias: false,
    };
    expectGrad({ impl: impl('Conv1D'), layer, inputs: [randTensor([1, 5, 3], r)], params: [randTensor([2, 3, 2], r)] });
  });
});

describe('Pooling1D', () => {
  for (const mode of ['max', 'avg'] as const) {
    for (const padding of ['valid', 'same'] as const) {
      for (const [p, s] of [
        [2, 2],
        [3, 1],
        [3, 2],
        [2, 3],
      ]) {
        it(`${mode}, ${padding}, pool ${p}, stride ${s}`, () => {
          const layer = { ...base('Pooling1D'), type: 'Pooling1D' as const, mode, poolSize: p, strides: s, padding };
          expectGrad({ impl: impl('Pooling1D'), layer, inputs: [randTensor([2, 7, 3], rng(p * 10 + s))] });
        });
      }
    }
  }
});

describe('GlobalPooling1D', () => {
  it('max', () => {
    expectGrad({
      impl: impl('GlobalPooling1D'),
      layer: { ...base('GlobalMaxPooling1D'), type: 'GlobalPooling1D', mode: 'max' },
      inputs: [randTensor([2, 5, 3], rng(10))],
    });
  });
  it('avg without mask', () => {
    expectGrad({
      impl: impl('GlobalPooling1D'),
      layer: { ...base('GlobalAveragePooling1D'), type: 'GlobalPooling1D', mode: 'avg' },
      inputs: [randTensor([2, 5, 3], rng(11))],
    });
  });
  it('avg with a mask (mean over valid steps)', () => {
    const m = mask(2, 5, [
      [1, 1, 0, 1, 0],
      [0, 1, 1, 1, 1],
    ]);
    expectGrad({
      impl: impl('GlobalPooling1D'),
      layer: { ...base('GlobalAveragePooling1D'), type: 'GlobalPooling1D', mode: 'avg' },
      inputs: [randTensor([2, 5, 3], rng(12))],
      masks: [m],
    });
  });
});

describe('BatchNormalization', () => {
  for (const [center, scale] of [
    [true, true],
    [false, true],
    [true, false],
    [false, false],
  ]) {
    for (const axis of [-1, 1]) {
      it(`center=${center}, scale=${scale}, axis=${axis}`, () => {
        const r = rng(20 + (center ? 1 : 0) + (scale ? 2 : 0) + axis);
        const shape = [2, 3, 4];
        const C = shape[axis < 0 ? shape.length + axis : axis];
        const params = [
          ...(scale ? [randTensor([C], r)] : []),
          ...(center ? [randTensor([C], r)] : []),
          randTensor([C], r),
          randTensor([C], () => r(0.2, 2)),
        ];
        const n = params.length;
        const layer = {
          ...base('BatchNormalization'),
          type: 'BatchNormalization' as const,
          axis,
          epsilon: 1e-3,
          center,
          scale,
        };
        expectGrad({
          impl: impl('BatchNormalization'),
          layer,
          inputs: [randTensor(shape, r)],
          params,
          frozen: [n - 2, n - 1],
        });
      });
    }
  }
});

describe('LayerNormalization', () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[2, 3, 5], [-1], true, true],
    [[2, 3, 4], [1, 2], true, true],
    [[2, 3, 4], [1], true, true],
    [[2, 3, 4], [-1], false, true],
    [[2, 3, 4], [-1], true, false],
    [[2, 3, 4], [2], false, false],
    [[2, 3, 2, 3], [1, 3], true, true],
  ];
  for (const [shape, axis, center, scale] of cases) {
    it(`shape (${shape}), axis [${axis}], center=${center}, scale=${scale}`, () => {
      const r = rng(shape.length * 31 + axis.length * 7 + (center ? 1 : 0) + (scale ? 2 : 0) + axis[0]);
      const pShape = axis.map((a) => shape[a < 0 ? shape.length + a : a]);
      const params = [...(scale ? [randTensor(pShape, r)] : []), ...(center ? [randTensor(pShape, r)] : [])];
      const layer = {
        ...base('LayerNormalization'),
        type: 'LayerNormalization' as const,
        axis,
        epsilon: 1e-3,
        center,
        scale,
      };
      expectGrad({ impl: impl('LayerNormalization'), layer, inputs: [randTensor(shape, r)], params });
    });
  }
});

describe('Merge', () => {
  const modes: [MergeKind, number][] = [
    ['Add', 3],
    ['Subtract', 2],
    ['Multiply', 3],
    ['Average', 3],
    ['Maximum', 3],
    ['Minimum', 2],
  ];
  for (const [mode, n] of modes) {
    it(`${mode} of ${n} inputs`, () => {
      const r = rng(40 + n);
      const layer = { ...base(mode), type: 'Merge' as const, mode, axis: -1 };
      expectGrad({ impl: impl('Merge'), layer, inputs: Array.from({ length: n }, () => randTensor([2, 3, 4], r)) });
    });
    it(`${mode} with broadcasting: (B, T, 1) with (B, T, F), (B, F) with (B, T, F)`, () => {
      const r = rng(50 + n);
      const layer = { ...base(mode), type: 'Merge' as const, mode, axis: -1 };
      expectGrad({ impl: impl('Merge'), layer, inputs: [randTensor([2, 3, 1], r), randTensor([2, 3, 4], r)] });
      expectGrad({ impl: impl('Merge'), layer, inputs: [randTensor([2, 4], r), randTensor([2, 3, 4], r)] });
    });
  }
  const m1 = mask(2, 4, [
    [1, 1, 0, 0],
    [1, 0, 1, 0],
  ]);
  const m2 = mask(2, 4, [
    [1, 0, 1, 0],
    [0, 0, 1, 1],
  ]);
  for (const mode of ['Multiply', 'Maximum', 'Minimum'] as const) {
    for (const [title, masks] of [
      ['both masked', [m1, m2]],
      ['first masked', [m1, null]],
      ['second masked', [null, m2]],
    ] as [string, (Mask | null)[]][]) {
      it(`${mode}, ${title} (Keras 3 mask-aware values)`, () => {
        const r = rng(60);
        const layer = { ...base(mode), type: 'Merge' as const, mode, axis: -1 };
        expectGrad({ impl: impl('Merge'), layer, inputs: [randTensor([2, 4, 3], r), randTensor([2, 4, 3], r)], masks });
      });
    }
  }
  for (const axis of [-1, 1, 0]) {
    it(`Concatenate along axis ${axis}`, () => {
      const r = rng(70 - axis);
      const layer = { ...base('Concatenate'), type: 'Merge' as const, mode: 'Concatenate' as const, axis };
      const s2 = axis === -1 ? [2, 3, 2] : axis === 1 ? [2, 1, 4] : [1, 3, 4];
      expectGrad({
        impl: impl('Merge'),
        layer,
        inputs: [
          randTensor([2, 3, 4], r),
          randTensor(s2, r),
          randTensor(
            [2, 3, 4].map((d, a) => (a === (axis + 3) % 3 ? 1 : d)),
            r,
          ),
        ],
      });
    });
  }
});

describe('the checker itself', () => {
  const r = rng(99);
  const layer = { ...base('Dense'), type: 'Dense' as const, units: 3, activation: act('tanh'), useBias: true };
  const mk = () => ({ inputs: [randTensor([2, 4], r)], params: [randTensor([4, 3], r), randTensor([3], r)] });
  const dense = impl('Dense');
  it('flags an input gradient that is off by 1e-4 in one element', () => {
    const bad: typeof dense = {
      forward: dense.forward,
      backward(...args) {
        const g = dense.backward(...args);
        g[0]!.data[3] += 1e-4;
        return g;
      },
    };
    expect(checkLayerGradients({ impl: bad, layer, ...mk() }).maxRelErr).toBeGreaterThan(1e-5);
  });
  it('flags a backward that overwrites dParams instead of accumulating', () => {
    const bad: typeof dense = {
      forward: dense.forward,
      backward(ctx, l, params, cache, dOut, dParams) {
        for (const d of dParams) d.data.fill(0);
        return dense.backward(ctx, l, params, cache, dOut, dParams);
      },
    };
    expect(checkLayerGradients({ impl: bad, layer, ...mk() }).maxRelErr).toBeGreaterThan(1e-2);
  });
  it('refuses a case whose loss does not depend on the input', () => {
    const zeroKernel = {
      inputs: [randTensor([2, 4], r)],
      params: [{ shape: [4, 3], data: new Float64Array(12) }, randTensor([3], r)],
    };
    expect(() => checkLayerGradients({ impl: dense, layer, ...zeroKernel })).toThrow(/does not depend/);
  });
});
