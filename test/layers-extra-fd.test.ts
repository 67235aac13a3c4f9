// The 2-D vision layers, TimeDistributed around them, the attention layers, Dot and
// the keras_contrib CRF against float64 central finite differences
// (test/helpers/layer-fd.ts): every option that changes the math.

import { describe, expect, it } from 'vitest';
import type { LayerSpec } from '../src/model/types.js';
import type { Tensor } from '../src/engine/tensor.js';
import { crfNll } from '../src/engine/layers/crf.js';
import { centralDiff, ctx64, mask, randTensor, rng } from './helpers/layer-fd.js';
import { LAYER_TOL, base, expectGrad, impl } from './helpers/layer-cases.js';
import { act } from './helpers/models.js';

type Conv2D = Extract<LayerSpec, { type: 'Conv2D' }>;
const conv2d = (o: Partial<Conv2D>): Conv2D => ({
  ...base('Conv2D'),
  type: 'Conv2D',
  filters: 3,
  kernelSize: [3, 2],
  strides: [1, 1],
  padding: 'valid',
  dilationRate: [1, 1],
  activation: act('tanh'),
  useBias: true,
  ...o,
});

describe('Conv2D', () => {
  const cases: [string, Partial<Conv2D>][] = [
    ['valid 3×2', {}],
    ['same 3×2', { padding: 'same' }],
    ['same, strides 2×3', { padding: 'same', strides: [2, 3] }],
    ['valid, strides 2×1', { strides: [2, 1] }],
    ['same, dilation 2×1', { padding: 'same', dilationRate: [2, 1] }],
    ['valid, dilation 1×2, no bias, linear', { dilationRate: [1, 2], useBias: false, activation: act('linear') }],
    ['same 1×1, relu', { kernelSize: [1, 1], padding: 'same', activation: act('relu') }],
  ];
  for (const [title, o] of cases) {
    it(title, () => {
      const layer = conv2d(o);
      const r = rng(title.length * 13);
      const params = [randTensor([...layer.kernelSize, 2, 3], r), ...(layer.useBias ? [randTensor([3], r)] : [])];
      expectGrad({ impl: impl('Conv2D'), layer, inputs: [randTensor([2, 6, 5, 2], r)], params });
    });
  }
});

describe('Pooling2D, GlobalPooling2D, ZeroPadding2D', () => {
  for (const mode of ['max', 'avg'] as const) {
    for (const padding of ['valid', 'same'] as const) {
      for (const [p, s] of [
        [
          [2, 2],
          [2, 2],
        ],
        [
          [3, 2],
          [1, 2],
        ],
        [
          [2, 3],
          [3, 1],
        ],
      ] as [[number, number], [number, number]][]) {
        it(`${mode}, ${padding}, pool ${p}, strides ${s}`, () => {
          const layer = { ...base('Pooling2D'), type: 'Pooling2D' as const, mode, poolSize: p, strides: s, padding };
          expectGrad({ impl: impl('Pooling2D'), layer, inputs: [randTensor([2, 5, 7, 2], rng(p[0] * 7 + s[1]))] });
        });
      }
    }
  }
  for (const mode of ['max', 'avg'] as const) {
    it(`global ${mode}`, () => {
      expectGrad({
        impl: impl('GlobalPooling2D'),
        layer: { ...base('GlobalPooling2D'), type: 'GlobalPooling2D', mode },
        inputs: [randTensor([2, 3, 4, 3], rng(5))],
      });
    });
  }
  it('ZeroPadding2D ((1, 2), (0, 3))', () => {
    expectGrad({
      impl: impl('ZeroPadding2D'),
      layer: {
        ...base('ZeroPadding2D'),
        type: 'ZeroPadding2D',
        padding: [
          [1, 2],
          [0, 3],
        ],
      },
      inputs: [randTensor([2, 3, 2, 2], rng(6))],
    });
  });
});

describe('TimeDistributed around 2-D layers', () => {
  const td = (inner: LayerSpec) => ({ ...base('TimeDistributed'), type: 'TimeDistributed' as const, inner });
  it('TimeDistributed(Conv2D same, stride 2)', () => {
    const r = rng(7);
    expectGrad({
      impl: impl('TimeDistributed'),
      layer: td(conv2d({ padding: 'same', strides: [2, 2] })),
      inputs: [randTensor([2, 3, 5, 4, 2], r)],
      params: [randTensor([3, 2, 2, 3], r), randTensor([3], r)],
    });
  });
  it('TimeDistributed(MaxPooling2D), TimeDistributed(Flatten), TimeDistributed(GlobalAveragePooling2D)', () => {
    const r = rng(8);
    expectGrad({
      impl: impl('TimeDistributed'),
      layer: td({
        ...base('Pooling2D'),
        type: 'Pooling2D',
        mode: 'max',
        poolSize: [2, 2],
        strides: [2, 2],
        padding: 'valid',
      }),
      inputs: [randTensor([2, 3, 4, 4, 2], r)],
    });
    expectGrad({
      impl: impl('TimeDistributed'),
      layer: td({ ...base('Flatten'), type: 'Flatten' }),
      inputs: [randTensor([2, 3, 2, 2, 2], r)],
    });
    expectGrad({
      impl: impl('TimeDistributed'),
      layer: td({ ...base('GlobalPooling2D'), type: 'GlobalPooling2D', mode: 'avg' }),
      inputs: [randTensor([2, 3, 2, 3, 2], r)],
    });
  });
  it('TimeDistributed(BatchNormalization) on (B, T, H, W, C)', () => {
    const r = rng(9);
    const layer = td({
      ...base('BatchNormalization'),
      type: 'BatchNormalization',
      axis: -1,
      epsilon: 1e-3,
      center: true,
      scale: true,
    });
    expectGrad({
      impl: impl('TimeDistributed'),
      layer,
      inputs: [randTensor([2, 2, 3, 2, 3], r)],
      params: [randTensor([3], r), randTensor([3], r), randTensor([3], r), randTensor([3], () => r(0.5, 2))],
      frozen: [2, 3],
    });
  });
});

type Att = Extract<LayerSpec, { type: 'Attention' }>;
const att = (o: Partial<Att>): Att => ({
  ...base('Attention'),
  type: 'Attention',
  score: 'dot',
  useScale: false,
  causal: false,
  returnScores: false,
  ...o,
});

describe('Attention and AdditiveAttention', () => {
  const D = 3;
  const cases: [string, Partial<Att>, { key?: boolean; masks?: boolean; tv?: number }][] = [
    ['dot', {}, {}],
    ['dot, use_scale, return_attention_scores', { useScale: true, returnScores: true }, {}],
    ['dot, key given, Tv ≠ Tq', { useScale: true }, { key: true, tv: 5 }],
    ['dot, causal', { causal: true }, {}],
    ['dot, query and value masks', { returnScores: true }, { masks: true }],
    ['concat', { score: 'concat' }, {}],
    ['concat, use_scale, key, masks', { score: 'concat', useScale: true }, { key: true, masks: true }],
    ['additive (AdditiveAttention), use_scale', { score: 'additive', useScale: true }, {}],
    ['additive without scale, causal, scores', { score: 'additive', causal: true, returnScores: true }, {}],
  ];
  for (const [title, o, opt] of cases) {
    it(title, () => {
      const layer = att(o);
      const r = rng(title.length * 31 + 1);
      const Tq = 4,
        Tv = opt.tv ?? 4;
      const inputs = [randTensor([2, Tq, D], r), randTensor([2, Tv, opt.key ? 2 : D], r)];
      if (opt.key) inputs.push(randTensor([2, Tv, D], r));
      const params: Tensor[] = [];
      if (layer.score === 'additive') {
        if (layer.useScale) params.push(randTensor([D], r));
      } else {
        if (layer.useScale) params.push({ shape: [], data: Float64Array.of(0.7) });
        if (layer.score === 'concat') params.push({ shape: [], data: Float64Array.of(1.3) });
      }
      const masks = opt.masks
        ? [
            mask(2, Tq, [
              [1, 1, 0, 1],
              [1, 0, 1, 1],
            ]),
            mask(2, Tv, [[1, 0, 1, 1, 1].slice(0, Tv), [0, 1, 1, 1, 0].slice(0, Tv)]),
            ...(opt.key ? [null] : []),
          ]
        : undefined;
      // With a query mask, the masked rows of the output are 0: query rows there get no gradient.
      expectGrad({ impl: impl('Attention'), layer, inputs, params, masks });
    });
  }
});

type Mha = Extract<LayerSpec, { type: 'MultiHeadAttention' }>;
describe('MultiHeadAttention', () => {
  const cases: [string, Partial<Mha>, { key?: boolean; masks?: boolean }][] = [
    ['2 heads, bias', {}, {}],
    ['no bias, value_dim ≠ key_dim, output_shape', { useBias: false, valueDim: 3, outputDim: 5 }, {}],
    ['key given, causal, return_attention_scores', { causal: true, returnScores: true }, { key: true }],
    ['query and value masks', {}, { masks: true }],
  ];
  for (const [title, o, opt] of cases) {
    it(title, () => {
      const layer: Mha = {
        ...base('MultiHeadAttention'),
        type: 'MultiHeadAttention',
        numHeads: 2,
        keyDim: 2,
        valueDim: 2,
        outputDim: null,
        useBias: true,
        causal: false,
        returnScores: false,
        ...o,
      };
      const r = rng(title.length * 17);
      const Dq = 3,
        Dv = 4,
        Dk = 2,
        T = 4;
      const inputs = [
        randTensor([2, T, Dq], r),
        randTensor([2, T, Dv], r),
        ...(opt.key ? [randTensor([2, T, Dk], r)] : []),
      ];
      const H = layer.numHeads,
        O = layer.outputDim ?? Dq;
      const b = layer.useBias;
      const params = [
        randTensor([Dq, H, layer.keyDim], r),
        ...(b ? [randTensor([H, layer.keyDim], r)] : []),
        randTensor([opt.key ? Dk : Dv, H, layer.keyDim], r),
        ...(b ? [randTensor([H, layer.keyDim], r)] : []),
        randTensor([Dv, H, layer.valueDim], r),
        ...(b ? [randTensor([H, layer.valueDim], r)] : []),
        randTensor([H, layer.valueDim, O], r),
        ...(b ? [randTensor([O], r)] : []),
      ];
      // A fully masked query row is uniform in float32 (−1e9 absorbs the scores) but not in float64: not an FD case.
      const masks = opt.masks
        ? [
            mask(2, T, [
              [1, 1, 1, 1],
              [1, 1, 1, 1],
            ]),
            mask(2, T, [
              [1, 0, 1, 1],
              [0, 1, 1, 0],
            ]),
          ]
        : undefined;
      // The key bias cancels in the softmax: no effect, and its gradient is left at 0.
      expectGrad({ impl: impl('MultiHeadAttention'), layer, inputs, params, masks, frozen: b ? [3] : [] });
    });
  }
});

describe('Dot', () => {
  const cases: [string, number[], number[], [number, number], boolean][] = [
    ['(B,T,D)·(B,S,D) axes 2', [2, 3, 4], [2, 5, 4], [2, 2], false],
    ['(B,T,D)·(B,T,E) axes 1, normalize', [2, 3, 4], [2, 3, 2], [1, 1], true],
    ['(B,D)·(B,D) axes -1, normalize', [3, 4], [3, 4], [-1, -1], true],
    ['(B,T,D)·(B,D) axes (2, 1)', [2, 3, 4], [2, 4], [2, 1], false],
    ['(B,D)·(B,T,D) axes (1, 2)', [2, 4], [2, 3, 4], [1, 2], false],
    ['(B,T,D)·(B,D,S) axes (2, 1)', [2, 3, 4], [2, 4, 2], [2, 1], true],
  ];
  for (const [title, s1, s2, axes, normalize] of cases) {
    it(title, () => {
      const r = rng(title.length);
      expectGrad({
        impl: impl('Dot'),
        layer: { ...base('Dot'), type: 'Dot', axes, normalize },
        inputs: [randTensor(s1, r), randTensor(s2, r)],
      });
    });
  }
});

type Crf = Extract<LayerSpec, { type: 'CRF' }>;
const crf = (o: Partial<Crf>): Crf => ({
  ...base('CRF'),
  type: 'CRF',
  units: 3,
  learnMode: 'join',
  testMode: 'viterbi',
  sparseTarget: false,
  useBoundary: true,
  useBias: true,
  activation: act('linear'),
  ...o,
});
function crfParams(l: Crf, I: number, r: () => number): Tensor[] {
  const F = l.units;
  return [
    randTensor([I, F], r),
    randTensor([F, F], r),
    ...(l.useBias ? [randTensor([F], r)] : []),
    ...(l.useBoundary ? [randTensor([F], r), randTensor([F], r)] : []),
  ];
}

describe('CRF marginal output (learn_mode marginal, test_mode marginal)', () => {
  for (const [title, o, withMask] of [
    ['boundaries, bias', {}, false],
    ['boundaries, mask', {}, true],
    ['no boundary, no bias, tanh', { useBoundary: false, useBias: false, activation: act('tanh') }, true],
  ] as [string, Partial<Crf>, boolean][]) {
    it(title, () => {
      const layer = crf({ learnMode: 'marginal', testMode: 'marginal', ...o });
      const r = rng(title.length * 3);
      const masks = withMask
        ? [
            mask(2, 4, [
              [1, 1, 1, 0],
              [0, 1, 1, 1],
            ]),
          ]
        : undefined;
      // With a mask the right boundary lands only on masked steps (keras_contrib's end mask): it has no effect, and no
      // gradient.
      const frozen = withMask && layer.useBoundary ? [layer.useBias ? 4 : 3] : [];
      expectGrad({
        impl: impl('CRF'),
        layer,
        inputs: [randTensor([2, 4, 2], r)],
        params: crfParams(layer, 2, r),
        masks,
        frozen,
      });
    });
  }
});

describe('CRF negative log-likelihood (learn_mode join, crf_loss)', () => {
  // L = crf_loss(y_true, CRF(x)); its gradient flows through the layer's backward with dY = 0.
  function nllCase(layer: Crf, m: number[][] | null, sparse: boolean): void {
    const r = rng(41 + (m ? 1 : 0) + (sparse ? 2 : 0));
    const B = 2,
      T = 4,
      I = 2,
      F = layer.units;
    const x = randTensor([B, T, I], r);
    const params = crfParams(layer, I, r);
    const tags = [0, 2, 1, 1, 2, 0, 0, 1];
    const yTrue: Tensor = sparse
      ? { shape: [B, T], data: Float64Array.from(tags) }
      : { shape: [B, T, F], data: Float64Array.from(tags.flatMap((k) => [0, 1, 2].map((j) => (j === k ? 1 : 0)))) };
    const masks = [m ? mask(B, T, m) : null];
    const ctx = ctx64();
    const loss = (): number => crfNll(impl('CRF').forward(ctx, layer, params, [x], masks).outputs[0], yTrue).loss;
    const fwd = impl('CRF').forward(ctx, layer, params, [x], masks);
    crfNll(fwd.outputs[0], yTrue);
    const dParams = params.map((p) => ({ shape: p.shape, data: new Float64Array(p.data.length) }));
    const [dX] = impl('CRF').backward(
      ctx,
      layer,
      params,
      fwd.cache,
      [{ shape: fwd.outputs[0].shape, data: new Float64Array(B * T * F) }],
      dParams,
    );
    let worst = 0;
    for (const [t, g] of [[x, dX!.data], ...params.map((p, k) => [p, dParams[k].data])] as [Tensor, Float64Array][]) {
      const fd = centralDiff(t.data as Float64Array, loss);
      let maxAbs = 1e-3;
      let maxErr = 0;
      fd.forEach((v, i) => {
        maxAbs = Math.max(maxAbs, Math.abs(v));
        maxErr = Math.max(maxErr, Math.abs(v - g[i]!));
      });
      worst = Math.max(worst, maxErr / maxAbs);
    }
    expect(worst).toBeLessThan(LAYER_TOL);
  }
  it('one-hot targets, boundaries, no mask', () => nllCase(crf({}), null, false));
  it('sparse targets, mask with pre- and post-padding', () =>
    nllCase(
      crf({ sparseTarget: true }),
      [
        [1, 1, 1, 0],
        [0, 1, 1, 1],
      ],
      true,
    ));
  it('no boundary, no bias, relu energies', () =>
    nllCase(
      crf({ useBoundary: false, useBias: false, activation: act('tanh') }),
      [
        [1, 1, 0, 0],
        [1, 1, 1, 1],
      ],
      false,
    ));
});
