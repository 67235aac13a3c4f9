import { describe, expect, it } from 'vitest';
import { computeLoss } from '../src/engine/losses.js';
import { lossFlavor, parseLoss, type LossFlavor } from '../src/engine/loss-config.js';
import type { LossConfig } from '../src/model/types.js';
import type { Mask, Tensor } from '../src/engine/tensor.js';
import { DataError, ModelError } from '../src/model/errors.js';
import { fdGrad, maxRelErr, testValues } from './helpers/numerics-fd.js';

const t64 = (shape: number[], v: ArrayLike<number>): Tensor => ({ shape, data: Float64Array.from(v) });
const cfg = (name: string, fromLogits = false, labelSmoothing = 0): LossConfig => ({
  name,
  fromLogits,
  labelSmoothing,
});

// Printed by `/usr/bin/python3 scripts/loss-oracles.py` (PyTorch 1.13 built-ins, float64, autograd gradients).
// [loss, dL/dy_pred flattened]
const ORACLE: Record<string, [number, number[]]> = {
  mse: [
    0.9300166666666668,
    [0.033333333333333326, -0.06666666666666665, 0.5, -0.06666666666666665, -0.003333333333333336, -0.6],
  ],
  mae: [
    0.6350000000000001,
    [
      0.16666666666666666, -0.16666666666666666, 0.16666666666666666, -0.16666666666666666, -0.16666666666666666,
      -0.16666666666666666,
    ],
  ],
  huber: [
    0.3908416666666667,
    [
      0.016666666666666663, -0.033333333333333326, 0.16666666666666666, -0.033333333333333326, -0.001666666666666668,
      -0.16666666666666666,
    ],
  ],
  log_cosh: [
    0.33900465252173495,
    [
      0.016611332437492632, -0.032895886704150654, 0.1508580422741444, -0.03289588670415066, -0.0016666111133332448,
      -0.1578010021410447,
    ],
  ],
  mape: [
    88.84585289514867,
    [
      41.666666666666664, -16.666666666666664, 33.33333333333333, -55.55555555555556, -23.474178403755868,
      -11.11111111111111,
    ],
  ],
  msle: [
    0.2604065288765255,
    [
      0.01533174921932254, 0.11946322126731442, 0.07701635339554948, -0.05062244989792914, -0.0011500234220388418,
      -0.1676734531811959,
    ],
  ],
  cosine_similarity: [
    -0.4533790643013482,
    [
      -0.0333813825456384, 0.08717628713126756, 0.06065111791517014, -0.11075835930948681, -0.23878795716457585,
      -0.5940913531538392,
    ],
  ],
  binary_crossentropy: [
    0.6117486909599058,
    [0.10416666666666664, -0.06666666666666665, 0.0, 0.1587301587301587, -0.27777777777777773, -0.052083333333333315],
  ],
  'binary_crossentropy_ls0.2': [
    0.6657439259978867,
    [
      0.02083333333333332, -0.05333333333333331, -0.03174603174603173, 0.1587301587301587, -0.3703703703703704,
      -0.10416666666666669,
    ],
  ],
  binary_crossentropy_tfkeras: [
    0.6117484655135211,
    [
      0.10416668489581543, -0.06666665333333599, 3.174601664879262e-8, 0.15873008314439724, -0.2777773765436248,
      -0.052083248697966295,
    ],
  ],
  binary_crossentropy_logits: [
    1.2221524372023953,
    [
      0.11959574603227395, -0.02907375280194316, 0.04163899955207966, -0.0634661796629804, 0.058114610018742,
      0.11781545750981898,
    ],
  ],
  categorical_crossentropy: [0.5249110622493389, [0.5, -0.5, 0.5, -0.2142857142857143, 0.5, 0.5]],
  categorical_crossentropy_soft: [
    1.0471835821017803,
    [0.25, -0.09999999999999998, 0.0, 0.14285714285714285, -0.75, -0.125],
  ],
  categorical_crossentropy_logits: [
    2.5644378129400236,
    [
      0.2977460917466098, -0.24251795765088358, -0.055228134095726175, -0.24715981844226156, -0.09369217773600375,
      0.3408519961782653,
    ],
  ],
  'categorical_crossentropy_logits_ls0.1': [
    3.50360447960669,
    [
      0.33107942507994315, -0.40918462431755026, 0.07810519923760716, -0.4638264851089282, 0.014641155597329588,
      0.4491853295115986,
    ],
  ],
  sparse_categorical_crossentropy: [
    0.5249110622493388,
    [0.5000000000000001, -0.4999999999999999, 0.5000000000000001, -0.21428571428571433, 0.5000000000000001, 0.5],
  ],
  sparse_unnormalised_tf: [
    0.49662588650514167,
    [
      0.5555555555555556, -0.4444444444444444, 0.5555555555555556, -0.27777777777777785, 0.5555555555555557,
      0.5555555555555556,
    ],
  ],
  sparse_categorical_crossentropy_logits: [
    3.666937812940023,
    [
      0.3477460917466098, -0.4425179576508836, 0.09477186590427382, -0.49715981844226154, 0.031307822263996254,
      0.4658519961782653,
    ],
  ],
  kl_divergence: [0.07835033425343149, [-0.25, -0.6, -0.5, -0.35714285714285715, -1.25, -0.625]],
  poisson: [
    0.682394407962532,
    [
      0.08333337499997917, -0.03333329333334134, 5.5555537031848345e-8, 0.04761906462584789, -0.24999958333374997,
      -0.04166656250005207,
    ],
  ],
  hinge: [
    2.1833333333333336,
    [
      0.16666666666666666, -0.16666666666666666, -0.16666666666666666, -0.16666666666666666, 0.16666666666666666,
      0.16666666666666666,
    ],
  ],
  squared_hinge: [
    6.058333333333334,
    [0.8333333333333333, -0.43333333333333335, -0.26666666666666666, -1.0, 0.4666666666666666, 1.3666666666666665],
  ],
  categorical_hinge: [4.449999999999999, [0.5, -0.5, 0.0, -0.5, 0.0, 0.5]],
  masked_mse: [
    0.24000000000000002,
    [
      0.09999999999999999, -0.1, 0.03333333333333336, 0.13333333333333333, 0.0, 0.0, -0.3333333333333333, 0.1, 0.0,
      -0.0, 0.0, 0.0,
    ],
  ],
  masked_sparse_logits: [
    0.9727571622995189,
    [
      0.20748644373395153, -0.20748644373395153, -0.11060407594394461, 0.11060407594394463, -0.0, 0.0,
      -0.2619449943475195, 0.2619449943475195, 0.0, -0.0, 0.0, -0.0,
    ],
  ],
};
// Inputs of scripts/loss-oracles.py.
const REG_P = [0.5, -1.2, 2.0, 0.1, 0.7, -0.3];
const REG_T = [0.4, -1.0, 0.5, 0.3, 0.71, 1.5];
const PROB_P = [0.2, 0.5, 0.3, 0.7, 0.1, 0.2];
const PROB_T = [0, 1, 0, 1, 0, 0];
const SOFT_T = [0.1, 0.6, 0.3, 0.5, 0.25, 0.25];
const LOGITS = [1.5, -0.3, 0.2, -2.0, 0.4, 3.1];
const IDS = [1, 0];
const HT = [-1, 1, 1, 1, -1, -1];

function check(
  key: string,
  c: LossConfig,
  flavor: LossFlavor,
  p: Tensor,
  y: Tensor,
  mask: Mask | null = null,
  tol = 1e-12,
): void {
  const [loss, grad] = ORACLE[key];
  const r = computeLoss(c, flavor, p, y, mask);
  expect(Math.abs(r.loss - loss) / Math.abs(loss), key).toBeLessThan(tol);
  expect(maxRelErr(r.dPred, grad, 1e-3), key).toBeLessThan(tol);
}

describe('values and gradients against PyTorch', () => {
  const P = (v: number[]): Tensor => t64([2, 3], v);
  it('regression losses', () => {
    for (const name of ['mse', 'mae', 'huber', 'log_cosh', 'mape', 'cosine_similarity']) {
      for (const flavor of ['keras3', 'tf.keras', 'keras2', 'tfjs'] as const)
        check(name, cfg(name), flavor, P(REG_P), P(REG_T));
    }
    check('msle', cfg('msle'), 'keras3', P([0.5, 1.2, 2.0, 0.1, 0.7, 0.3]), P(REG_T));
  });
  it('binary crossentropy per flavor', () => {
    for (const flavor of ['keras3', 'keras2', 'keras1', 'tfjs'] as const) {
      check('binary_crossentropy', cfg('binary_crossentropy'), flavor, P(PROB_P), P(SOFT_T));
      check('binary_crossentropy_ls0.2', cfg('binary_crossentropy', false, 0.2), flavor, P(PROB_P), P(SOFT_T));
    }
    check('binary_crossentropy_tfkeras', cfg('binary_crossentropy'), 'tf.keras', P(PROB_P), P(SOFT_T));
    check('binary_crossentropy_logits', cfg('binary_crossentropy', true), 'keras3', P(LOGITS), P(SOFT_T));
    check('binary_crossentropy_logits', cfg('binary_crossentropy', true), 'tf.keras', P(LOGITS), P(SOFT_T));
  });
  it('categorical and sparse crossentropy', () => {
    for (const flavor of ['keras3', 'tf.keras', 'keras2', 'tfjs'] as const) {
      check('categorical_crossentropy', cfg('categorical_crossentropy'), flavor, P(PROB_P), P(PROB_T));
      check('categorical_crossentropy_soft', cfg('categorical_crossentropy'), flavor, P(PROB_P), P(SOFT_T));
      check('categorical_crossentropy_logits', cfg('categorical_crossentropy', true), flavor, P(LOGITS), P(SOFT_T));
      check(
        'categorical_crossentropy_logits_ls0.1',
        cfg('categorical_crossentropy', true, 0.1),
        flavor,
        P(LOGITS),
        P(PROB_T),
      );
    }
    for (const flavor of ['keras3', 'tf.keras', 'keras2', 'tfjs'] as const) {
      check(
        'sparse_categorical_crossentropy',
        cfg('sparse_categorical_crossentropy'),
        flavor,
        P(PROB_P),
        t64([2], IDS),
      );
      check(
        'sparse_categorical_crossentropy',
        cfg('sparse_categorical_crossentropy'),
        flavor,
        P(PROB_P),
        t64([2, 1], IDS),
      );
      check(
        'sparse_unnormalised_tf',
        cfg('sparse_categorical_crossentropy'),
        flavor,
        P([0.2, 0.5, 0.2, 0.6, 0.1, 0.2]),
        t64([2], IDS),
      );
    }
    check(
      'sparse_categorical_crossentropy_logits',
      cfg('sparse_categorical_crossentropy', true),
      'keras3',
      P(LOGITS),
      t64([2], IDS),
    );
    // "crossentropy" picks sparse from the target shape (Keras 3 compile_utils.get_loss).
    check('sparse_categorical_crossentropy_logits', cfg('crossentropy', true), 'keras3', P(LOGITS), t64([2], IDS));
  });
  it('kl_divergence, poisson, hinge family', () => {
    for (const flavor of ['keras3', 'keras2', 'tfjs'] as const) {
      check('kl_divergence', cfg('kl_divergence'), flavor, P(PROB_P), P(SOFT_T));
      check('poisson', cfg('poisson'), flavor, P(PROB_P), P(SOFT_T));
      check('hinge', cfg('hinge'), flavor, P(LOGITS), P(HT));
      check('squared_hinge', cfg('squared_hinge'), flavor, P(LOGITS), P(HT));
      check('categorical_hinge', cfg('categorical_hinge'), flavor, P(LOGITS), P(PROB_T));
    }
    // {0,1} labels become ±1 in Keras 3 / tf.keras only.
    const c01 = HT.map((v) => (v + 1) / 2);
    check('hinge', cfg('hinge'), 'keras3', P(LOGITS), P(c01));
    check('squared_hinge', cfg('squared_hinge'), 'tf.keras', P(LOGITS), P(c01));
    const k2 = computeLoss(cfg('hinge'), 'keras2', P(LOGITS), P(c01), null);
    expect(k2.loss).not.toBeCloseTo(ORACLE['hinge'][0], 3);
  });
  it('masked sequence output: mean over valid (b,t) rows', () => {
    const SEQ_P = [0.3, -0.2, 1.1, 0.4, 9.0, 9.0, -0.5, 0.8, 7.0, -7.0, 5.0, 5.0];
    const SEQ_T = [0.0, 0.1, 1.0, 0.0, 0.0, 0.0, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0];
    const mask: Mask = { b: 2, t: 3, data: Uint8Array.from([1, 1, 0, 1, 0, 0]) };
    check('masked_mse', cfg('mse'), 'keras3', t64([2, 3, 2], SEQ_P), t64([2, 3, 2], SEQ_T), mask);
    check(
      'masked_sparse_logits',
      cfg('sparse_categorical_crossentropy', true),
      'tf.keras',
      t64([2, 3, 2], SEQ_P),
      t64([2, 3], [1, 0, 0, 0, 1, 1]),
      mask,
    );
    const r = computeLoss(cfg('mse'), 'keras3', t64([2, 3, 2], SEQ_P), t64([2, 3, 2], SEQ_T), mask);
    // per sample: mean over that sample's valid steps
    expect(r.perSample[0]).toBeCloseTo((0.3 ** 2 + 0.3 ** 2) / 2 / 2 + (0.1 ** 2 + 0.4 ** 2) / 2 / 2, 14);
    expect(r.perSample[1]).toBeCloseTo((1.0 ** 2 + 0.3 ** 2) / 2, 14);
    // every row masked: divide_no_nan → 0 loss, 0 gradient
    const none = computeLoss(cfg('mse'), 'keras3', t64([2, 3, 2], SEQ_P), t64([2, 3, 2], SEQ_T), {
      b: 2,
      t: 3,
      data: new Uint8Array(6),
    });
    expect(none.loss).toBe(0);
    expect(Array.from(none.dPred).every((v) => v === 0)).toBe(true);
    // TF.js ignores the mask in the loss (training.ts: mean over all elements).
    const tfjs = computeLoss(cfg('mse'), 'tfjs', t64([2, 3, 2], SEQ_P), t64([2, 3, 2], SEQ_T), mask);
    const plain = computeLoss(cfg('mse'), 'keras3', t64([2, 3, 2], SEQ_P), t64([2, 3, 2], SEQ_T), null);
    expect(tfjs.loss).toBe(plain.loss);
  });
});

describe('gradient vs float64 central differences, every loss and option', () => {
  const FLAVORS: LossFlavor[] = ['keras3', 'tf.keras', 'keras2', 'keras1', 'tfjs'];
  type Gen = {
    name: string;
    logits?: boolean;
    ls?: number;
    pred: (n: number, s: number) => Float64Array;
    target: (rows: number, C: number, s: number) => Float64Array;
    sparse?: boolean;
  };
  const probs = (n: number, s: number) => testValues(n, 0.05, 0.95, s);
  const reals = (n: number, s: number) => testValues(n, -2.5, 2.5, s);
  const positive = (n: number, s: number) => testValues(n, 0.2, 3, s);
  const soft = (rows: number, C: number, s: number) => testValues(rows * C, 0.02, 1, s);
  const onehot = (rows: number, C: number, s: number) => {
    const ids = testValues(rows, 0, C, s);
    const out = new Float64Array(rows * C);
    for (let r = 0; r < rows; r++) out[r * C + Math.floor(ids[r])] = 1;
    return out;
  };
  const ids = (rows: number, C: number, s: number) => testValues(rows, 0, C, s).map(Math.floor);
  const signs = (rows: number, C: number, s: number) => testValues(rows * C, -1, 1, s).map((v) => (v < 0 ? -1 : 1));
  const GENS: Gen[] = [
    { name: 'mse', pred: reals, target: (r, C, s) => testValues(r * C, -2, 2, s) },
    { name: 'mae', pred: reals, target: (r, C, s) => testValues(r * C, -2, 2, s) },
    { name: 'mape', pred: reals, target: (r, C, s) => testValues(r * C, 0.5, 2, s) },
    { name: 'msle', pred: positive, target: (r, C, s) => testValues(r * C, 0, 3, s) },
    { name: 'huber', pred: reals, target: (r, C, s) => testValues(r * C, -2, 2, s) },
    { name: 'log_cosh', pred: (n, s) => testValues(n, -30, 30, s), target: (r, C, s) => testValues(r * C, -2, 2, s) },
    { name: 'binary_crossentropy', pred: probs, target: soft },
    { name: 'binary_crossentropy', ls: 0.1, pred: probs, target: onehot },
    { name: 'binary_crossentropy', logits: true, pred: (n, s) => testValues(n, -40, 40, s), target: soft },
    { name: 'binary_crossentropy', logits: true, ls: 0.2, pred: reals, target: onehot },
    { name: 'categorical_crossentropy', pred: probs, target: soft },
    { name: 'categorical_crossentropy', ls: 0.1, pred: probs, target: onehot },
    { name: 'categorical_crossentropy', logits: true, pred: reals, target: soft },
    {
      name: 'categorical_crossentropy',
      logits: true,
      ls: 0.1,
      pred: (n, s) => testValues(n, -300, 300, s),
      target: onehot,
    },
    { name: 'sparse_categorical_crossentropy', sparse: true, pred: probs, target: ids },
    { name: 'sparse_categorical_crossentropy', sparse: true, logits: true, pred: reals, target: ids },
    { name: 'kl_divergence', pred: probs, target: soft },
    { name: 'poisson', pred: positive, target: (r, C, s) => testValues(r * C, 0, 4, s) },
    { name: 'hinge', pred: reals, target: signs },
    { name: 'hinge', pred: reals, target: (r, C, s) => signs(r, C, s).map((v) => (v + 1) / 2) },
    { name: 'squared_hinge', pred: reals, target: signs },
    { name: 'categorical_hinge', pred: reals, target: onehot },
    { name: 'cosine_similarity', pred: reals, target: (r, C, s) => testValues(r * C, -2, 2, s) },
  ];
  for (const gen of GENS) {
    for (const flavor of FLAVORS) {
      if (flavor === 'tfjs' && gen.logits && gen.name === 'sparse_categorical_crossentropy') continue; // below
      it(`${gen.name}${gen.logits ? ' logits' : ''}${gen.ls ? ` ls=${gen.ls}` : ''} [${flavor}]`, () => {
        for (const [shape, mask] of [
          [[3, 4], null],
          [[2, 3, 4], { b: 2, t: 3, data: Uint8Array.from([1, 0, 1, 1, 1, 0]) }],
        ] as [number[], Mask | null][]) {
          const n = shape.reduce((a, b) => a * b, 1);
          const C = shape[shape.length - 1];
          const rows = n / C;
          const p = gen.pred(n, 7 + n);
          const y = gen.target(rows, C, 3 + n);
          const yT = gen.sparse ? t64(shape.slice(0, -1), y) : t64(shape, y);
          const c = cfg(gen.name, gen.logits ?? false, gen.ls ?? 0);
          const f = (x: Float64Array): number => computeLoss(c, flavor, { shape, data: x }, yT, mask).loss;
          const r = computeLoss(c, flavor, { shape, data: p }, yT, mask);
          expect(Number.isFinite(r.loss)).toBe(true);
          const fd = fdGrad(f, p);
          expect(maxRelErr(r.dPred, fd, 1e-2)).toBeLessThan(1e-6);
        }
      });
    }
  }
  it('tfjs sparse from logits (logits clipped first, as tfjs does)', () => {
    const shape = [3, 4];
    const p = testValues(12, 0.05, 0.95, 5); // inside the clip range, where the gradient is non-zero
    const yT = t64([3], [0, 3, 1]);
    const c = cfg('sparse_categorical_crossentropy', true);
    const fd = fdGrad((x) => computeLoss(c, 'tfjs', { shape, data: x }, yT, null).loss, p);
    expect(maxRelErr(computeLoss(c, 'tfjs', { shape, data: p }, yT, null).dPred, fd, 1e-2)).toBeLessThan(1e-6);
  });
});

describe('clipping: values and zero gradients where clip_by_value is active', () => {
  it('bce with saturated probabilities', () => {
    const r = computeLoss(
      cfg('binary_crossentropy'),
      'keras3',
      t64([1, 3], [1e-9, 1, 0.5]),
      t64([1, 3], [1, 0, 1]),
      null,
    );
    expect(r.dPred[0]).toBe(0);
    expect(r.dPred[1]).toBe(0);
    expect(r.loss).toBeCloseTo((-Math.log(1e-7) - Math.log(1 - (1 - 1e-7)) - Math.log(0.5)) / 3, 6);
  });
  it('float32 runs clip at the float32 constants TF uses', () => {
    // fround(1 − fround(1e-7)) = 0.99999988079071044921875, so −log(1 − p') = −log(1.1920928955e-7) = 15.942385...
    const p = new Float32Array([Math.fround(0.99999994)]);
    const r = computeLoss(cfg('binary_crossentropy'), 'keras3', { shape: [1, 1], data: p }, t64([1, 1], [0]), null);
    expect(r.loss).toBeCloseTo(-Math.log(1 - 0.99999988079071044921875), 9);
    expect(r.dPred).toBeInstanceOf(Float32Array);
    expect(r.dPred[0]).toBe(0);
  });
  it('categorical crossentropy: clipped class gets no gradient from its own log', () => {
    const r = computeLoss(
      cfg('categorical_crossentropy'),
      'keras3',
      t64([1, 3], [1e-12, 0.3, 0.7]),
      t64([1, 3], [1, 0, 0]),
      null,
    );
    expect(r.loss).toBeCloseTo(-Math.log(1e-7), 9);
    expect(Array.from(r.dPred).every((v) => v === 0)).toBe(true); // dL/dq = 0 everywhere → 0 after normalisation
  });
  it('extreme logits stay finite', () => {
    for (const name of ['binary_crossentropy', 'categorical_crossentropy', 'sparse_categorical_crossentropy']) {
      const y = name.startsWith('sparse') ? t64([2], [0, 2]) : t64([2, 3], [1, 0, 0, 0, 0, 1]);
      const r = computeLoss(cfg(name, true), 'keras3', t64([2, 3], [-300, 300, 0, 300, -300, 1]), y, null);
      expect(Number.isFinite(r.loss)).toBe(true);
      expect(Array.from(r.dPred).every(Number.isFinite)).toBe(true);
    }
  });
});

describe('errors', () => {
  it('target shape and class id mismatches are DataErrors with one sentence', () => {
    expect(() => computeLoss(cfg('mse'), 'keras3', t64([2, 3], REG_P), t64([2, 2], [1, 2, 3, 4]), null)).toThrow(
      DataError,
    );
    expect(() => computeLoss(cfg('mse'), 'keras3', t64([2, 3], REG_P), t64([2, 2], [1, 2, 3, 4]), null)).toThrow(
      'Targets for loss mse have shape (2, 2) but predictions have shape (2, 3); expected the same shape; check the target file against the model output.',
    );
    expect(() =>
      computeLoss(cfg('sparse_categorical_crossentropy'), 'keras3', t64([2, 3], PROB_P), t64([2], [1, 3]), null),
    ).toThrow(
      'Target class id 3 at row 1 is not an integer in [0, 3); expected class ids for 3 classes; check the target encoding.',
    );
    expect(() =>
      computeLoss(cfg('mse'), 'keras3', t64([2, 3], REG_P), t64([2, 3], REG_T), {
        b: 2,
        t: 3,
        data: new Uint8Array(6),
      }),
    ).toThrow(DataError);
  });
});

describe('parseLoss and lossFlavor', () => {
  it('string aliases and TF.js camelCase', () => {
    for (const s of ['mse', 'MSE', 'mean_squared_error', 'meanSquaredError', 'keras.losses.mean_squared_error'])
      expect(parseLoss(s)).toEqual(cfg('mse'));
    expect(parseLoss('kld').name).toBe('kl_divergence');
    expect(parseLoss('kullback_leibler_divergence').name).toBe('kl_divergence');
    expect(parseLoss('logcosh').name).toBe('log_cosh');
    expect(parseLoss('cosineProximity').name).toBe('cosine_similarity');
    expect(parseLoss('sparseCategoricalCrossentropy').name).toBe('sparse_categorical_crossentropy');
    expect(parseLoss('BCE').name).toBe('binary_crossentropy');
  });
  it('serialized objects', () => {
    expect(
      parseLoss({
        module: 'keras.losses',
        class_name: 'BinaryCrossentropy',
        config: {
          name: 'binary_crossentropy',
          reduction: 'sum_over_batch_size',
          from_logits: true,
          label_smoothing: 0.1,
          axis: -1,
        },
        registered_name: null,
      }),
    ).toEqual(cfg('binary_crossentropy', true, 0.1));
    expect(
      parseLoss({
        module: 'builtins',
        class_name: 'function',
        config: 'mean_squared_error',
        registered_name: 'function',
      }),
    ).toEqual(cfg('mse'));
    expect(
      parseLoss({
        class_name: 'CategoricalCrossentropy',
        config: { reduction: 'auto', from_logits: false, label_smoothing: 0 },
      }),
    ).toEqual(cfg('categorical_crossentropy'));
    expect(parseLoss({ class_name: 'Huber', config: { delta: 1.0 } }).name).toBe('huber');
  });
  it('unknown or unsupported → ModelError', () => {
    expect(() => parseLoss('focal')).toThrow(ModelError);
    expect(() => parseLoss('focal')).toThrow(
      /^Loss 'focal' is not supported; expected one of mse, .*; choose a supported loss with --loss\.$/,
    );
    expect(() => parseLoss({ class_name: 'Huber', config: { delta: 2 } })).toThrow(ModelError);
    expect(() => parseLoss({ class_name: 'MeanSquaredError', config: { reduction: 'sum' } })).toThrow(ModelError);
    expect(() => parseLoss({ out1: 'mse' })).toThrow(ModelError);
    expect(() => parseLoss(['mse'])).toThrow(ModelError);
  });
  it('flavors', () => {
    expect(lossFlavor('3.3.3', 'keras-v3')).toBe('keras3');
    expect(lossFlavor('2.2.4-tf', 'keras-h5')).toBe('tf.keras');
    expect(lossFlavor('2.12.0', 'keras-h5')).toBe('tf.keras');
    expect(lossFlavor('2.2.4', 'keras-h5')).toBe('keras2');
    expect(lossFlavor('1', 'keras-h5')).toBe('keras1');
    expect(lossFlavor('2.2.4', 'tfjs-layers')).toBe('tfjs');
  });
});

describe('loss names are looked up without the object prototype', () => {
  it("'constructor' and 'toString' are not losses", () => {
    expect(() => parseLoss('constructor')).toThrow(/not supported/);
    expect(() => parseLoss('toString')).toThrow(/not supported/);
  });
});
