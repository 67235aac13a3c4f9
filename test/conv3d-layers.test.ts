// The 3-D layers around ConvLSTM models (src/engine/layers/conv3d.ts) and the layers such models apply to
// 5-D tensors (BatchNormalization, TimeDistributed(Dropout / Flatten)), against float64 central finite
// differences (test/helpers/layer-fd.ts) for every option that changes the math. Forward values are checked
// against PyTorch in oracle-torch-convlstm.test.ts.

import { describe, expect, it } from 'vitest';
import type { Activation, LayerSpec } from '../src/model/types.js';
import { basicLayers } from '../src/engine/layers/registry-basic.js';
import type { LayerImpl } from '../src/engine/layer.js';
import { checkLayerGradients, ctx64, randTensor, rng, type LayerCase } from './helpers/layer-fd.js';

const TOL = 1e-6;
const act = (name: Activation['name']): Activation => ({ name });
const base = (cls: string) => ({ name: `t_${cls.toLowerCase()}`, className: cls });

function expectGrad<L extends LayerSpec>(c: LayerCase<L>): void {
  const rep = checkLayerGradients(c);
  expect(rep.checked).toBeGreaterThan(0);
  expect(rep.maxRelErr, JSON.stringify(rep.errors)).toBeLessThan(TOL);
}

function impl<K extends keyof typeof basicLayers>(k: K): LayerImpl<Extract<LayerSpec, { type: K }>> {
  return basicLayers[k] as LayerImpl<Extract<LayerSpec, { type: K }>>;
}

type Conv3D = Extract<LayerSpec, { type: 'Conv3D' }>;
type T3 = [number, number, number];
const conv3d = (o: Partial<Conv3D>): Conv3D => ({
  ...base('Conv3D'),
  type: 'Conv3D',
  filters: 2,
  kernelSize: [2, 3, 2],
  strides: [1, 1, 1],
  padding: 'valid',
  dilationRate: [1, 1, 1],
  activation: act('tanh'),
  useBias: true,
  ...o,
});

describe('Conv3D', () => {
  const cases: [string, Partial<Conv3D>][] = [
    ['valid 2×3×2', {}],
    [
      'same 3×3×3, sigmoid (the next-frame model head)',
      { kernelSize: [3, 3, 3], padding: 'same', activation: act('sigmoid') },
    ],
    ['same, strides 2×1×2', { padding: 'same', strides: [2, 1, 2] }],
    ['valid, dilation 1×2×1, no bias, linear', { dilationRate: [1, 2, 1], useBias: false, activation: act('linear') }],
    ['same 1×1×1, relu', { kernelSize: [1, 1, 1], padding: 'same', activation: act('relu') }],
  ];
  for (const [title, o] of cases) {
    it(title, () => {
      const layer = conv3d(o);
      const r = rng(title.length * 7);
      const params = [randTensor([...layer.kernelSize, 2, 2], r), ...(layer.useBias ? [randTensor([2], r)] : [])];
      expectGrad({ impl: impl('Conv3D'), layer, inputs: [randTensor([2, 3, 5, 4, 2], r)], params });
    });
  }

  it('refuses a volume smaller than the kernel with a DataError naming the layer', () => {
    const layer = conv3d({ kernelSize: [4, 1, 1] });
    const r = rng(1);
    const params = [randTensor([4, 1, 1, 2, 2], r), randTensor([2], r)];
    expect(() => impl('Conv3D').forward(ctx64(), layer, params, [randTensor([1, 3, 2, 2, 2], r)], [null])).toThrow(
      /Conv3D 't_conv3d' got an input of shape \(1, 3, 2, 2, 2\), smaller than its window/,
    );
  });
});

describe('Pooling3D, GlobalPooling3D', () => {
  for (const mode of ['max', 'avg'] as const)
    for (const padding of ['valid', 'same'] as const)
      for (const [p, s] of [
        [
          [1, 2, 2],
          [1, 2, 2],
        ],
        [
          [2, 3, 2],
          [1, 2, 3],
        ],
      ] as [T3, T3][]) {
        it(`${mode}, ${padding}, pool ${p}, strides ${s}`, () => {
          const layer = { ...base('Pooling3D'), type: 'Pooling3D' as const, mode, poolSize: p, strides: s, padding };
          expectGrad({ impl: impl('Pooling3D'), layer, inputs: [randTensor([2, 3, 5, 4, 2], rng(p[1] * 5 + s[2]))] });
        });
      }
  for (const mode of ['max', 'avg'] as const)
    it(`global ${mode}`, () => {
      const layer = { ...base('GlobalPooling3D'), type: 'GlobalPooling3D' as const, mode };
      expectGrad({ impl: impl('GlobalPooling3D'), layer, inputs: [randTensor([2, 2, 3, 2, 3], rng(9))] });
    });
});

describe('5-D tensors through the layers a ConvLSTM model puts between its recurrent layers', () => {
  it('BatchNormalization over the channels of (batch, time, rows, cols, channels)', () => {
    const r = rng(31);
    const params = [randTensor([3], r), randTensor([3], r), randTensor([3], r), randTensor([3], () => r(0.2, 2))];
    const layer = {
      ...base('BatchNormalization'),
      type: 'BatchNormalization' as const,
      axis: -1,
      epsilon: 1e-3,
      center: true,
      scale: true,
    };
    expectGrad({
      impl: impl('BatchNormalization'),
      layer,
      inputs: [randTensor([2, 3, 2, 4, 3], r)],
      params,
      frozen: [2, 3],
    });
  });

  it('TimeDistributed(Flatten) and TimeDistributed(Dropout) on (batch, time, rows, cols, channels)', () => {
    const r = rng(32);
    const x = randTensor([2, 3, 2, 4, 3], r);
    const flat = {
      ...base('TimeDistributed'),
      type: 'TimeDistributed' as const,
      inner: { ...base('Flatten'), type: 'Flatten' as const },
    };
    const y = impl('TimeDistributed').forward(ctx64(), flat, [], [x], [null]).outputs[0]!;
    expect(y.shape).toEqual([2, 3, 24]);
    expectGrad({ impl: impl('TimeDistributed'), layer: flat, inputs: [x] });
    const drop = {
      ...base('TimeDistributed'),
      type: 'TimeDistributed' as const,
      inner: { ...base('Dropout'), type: 'Identity' as const },
    };
    const z = impl('TimeDistributed').forward(ctx64(), drop, [], [x], [null]).outputs[0]!;
    expect(z.shape).toEqual(x.shape);
    expect(Array.from(z.data)).toEqual(Array.from(x.data));
  });
});
