import { describe, expect, it } from 'vitest';
import { activation, erf, erfc } from '../src/engine/activations.js';
import type { Activation } from '../src/model/types.js';
import { fdGrad, fdScalar, maxRelErr, testValues } from './helpers/numerics-fd.js';

const _K2 = { hardSigmoidSlope: 0.2 };
const _K3 = { hardSigmoidSlope: 1 / 6 };

function fwd(a: Activation, xs: number[] | Float64Array): Float64Array {
  const f = activation(a);
  const x = Float64Array.from(xs);
  const y = new Float64Array(x.length);
  f.forward(x, 0, y, 0, x.length);
  return y;
}

function scalarF(a: Activation): (x: number) => number {
  const f = activation(a);
  const xi = new Float64Array(1);
  const yi = new Float64Array(1);
  return (x) => {
    xi[0] = x;
    f.forward(xi, 0, yi, 0, 1);
    return yi[0];
  };
}

/** f'(x) from the engine's backward with dy = 1, using offsets to exercise the strides. */
function deriv(a: Activation, xs: number[]): Float64Array {
  const f = activation(a);
  const n = xs.length;
  const x = new Float64Array(n + 3);
  x.set(xs, 3);
  const y = new Float64Array(n + 1);
  f.forward(x, 3, y, 1, n);
  const dy = new Float64Array(n + 2).fill(1);
  const dx = new Float64Array(n + 5);
  f.backward(x, 3, y, 1, dy, 2, dx, 5, n);
  return dx.subarray(5);
}

// Points away from every kink (0, ±2.5, ±3, 6, thresholds) plus the extremes ±300.
const PTS = [
  -300, -50, -20, -7.3, -3.7, -2.6, -1.3, -0.7, -0.11, 0.013, 0.37, 1.1, 2.2, 2.9, 4.4, 5.9, 6.3, 9, 20, 50, 300,
];

const CASES: [string, Activation][] = [
  ['linear', { name: 'linear' }],
  ['relu', { name: 'relu' }],
  ['relu slope', { name: 'relu', negativeSlope: 0.1 }],
  ['relu max 6', { name: 'relu', maxValue: 6 }],
  ['relu max 4', { name: 'relu', maxValue: 4 }],
  ['relu thr 1.5', { name: 'relu', threshold: 1.5 }],
  ['relu thr -1 max 5 slope .3', { name: 'relu', threshold: -1, maxValue: 5, negativeSlope: 0.3 }],
  ['relu slope .2 max 3', { name: 'relu', negativeSlope: 0.2, maxValue: 3 }],
  ['relu6', { name: 'relu6' }],
  ['leaky_relu', { name: 'leaky_relu' }],
  ['leaky_relu 0.01', { name: 'leaky_relu', negativeSlope: 0.01 }],
  ['sigmoid', { name: 'sigmoid' }],
  ['hard_sigmoid 0.2', { name: 'hard_sigmoid', hardSigmoidSlope: 0.2 }],
  ['hard_sigmoid 1/6', { name: 'hard_sigmoid', hardSigmoidSlope: 1 / 6 }],
  ['hard_swish', { name: 'hard_swish' }],
  ['tanh', { name: 'tanh' }],
  ['elu', { name: 'elu' }],
  ['elu 0.5', { name: 'elu', alpha: 0.5 }],
  ['selu', { name: 'selu' }],
  ['softplus', { name: 'softplus' }],
  ['softsign', { name: 'softsign' }],
  ['swish', { name: 'swish' }],
  ['gelu exact', { name: 'gelu', approximate: false }],
  ['gelu tanh', { name: 'gelu', approximate: true }],
  ['exponential', { name: 'exponential' }],
  ['mish', { name: 'mish' }],
];

describe('elementwise activations: derivative vs float64 central differences', () => {
  for (const [label, a] of CASES) {
    it(label, () => {
      const xs = PTS.filter((x) => !(label.includes('thr 1.5') && Math.abs(x - 1.5) < 0.01));
      const y = fwd(a, xs);
      for (const v of y) expect(Number.isFinite(v)).toBe(true);
      const d = deriv(a, xs);
      const fd = xs.map((x) => fdScalar(scalarF(a), x));
      for (const v of d) expect(Number.isFinite(v)).toBe(true);
      // relative to max(|f'|, 1e-3): tails like σ'(−50) ≈ 2e-22 are checked absolutely.
      expect(maxRelErr(d, fd, 1e-3)).toBeLessThan(1e-6);
    });
  }
});

describe('values against PyTorch 1.13 float64 references', () => {
  // Produced by /usr/bin/python3 with torch 1.13 (torch.set_default_dtype(torch.float64)):
  // torch.sigmoid, torch.tanh, F.elu(x[, 0.5]), F.selu, F.softplus(x, threshold=1000), F.softsign, F.silu,
  // F.gelu(x[, approximate='tanh']), F.mish, F.hardsigmoid (x/6 + 0.5), F.hardswish, F.relu6, F.leaky_relu(x, 0.2),
  // F.log_softmax/F.softmax over the 10 values as one row; printed with repr(float(v)).
  const X = [-300.0, -20.0, -3.7, -1.3, -0.11, 0.37, 2.2, 4.4, 20.0, 300.0];
  const REF: [Activation, number[]][] = [
    [
      { name: 'sigmoid' },
      [
        5.148200222412014e-131, 2.0611536181902037e-9, 0.024127021417669196, 0.2141650169574414, 0.47252769565540637,
        0.5914589784327801, 0.9002495108803148, 0.9878715650157257, 0.9999999979388463, 1.0,
      ],
    ],
    [
      { name: 'tanh' },
      [
        -1.0, -1.0, -0.9987782412811312, -0.8617231593133063, -0.10955847021442953, 0.35399171247704597,
        0.9757431300314515, 0.9996985792838805, 1.0, 1.0,
      ],
    ],
    [
      { name: 'elu' },
      [
        -1.0, -0.9999999979388464, -0.9752764735296606, -0.7274682069659875, -0.10416586470347178, 0.37, 2.2, 4.4, 20.0,
        300.0,
      ],
    ],
    [
      { name: 'elu', alpha: 0.5 },
      [
        -0.5, -0.4999999989694232, -0.4876382367648303, -0.36373410348299373, -0.05208293235173589, 0.37, 2.2, 4.4,
        20.0, 300.0,
      ],
    ],
    [
      { name: 'selu' },
      [
        -1.7580993408473766, -1.758099337223664, -1.7146329252564503, -1.2789613751543256, -0.18313393807397074,
        0.3887593653215278, 2.3115421721820573, 4.6230843443641145, 21.014019747109607, 315.21029620664416,
      ],
    ],
    [
      { name: 'softplus' },
      [
        5.148200222412013e-131, 2.061153620314381e-9, 0.024422845933779157, 0.2410084538329922, 0.639658918622423,
        0.895162949730635, 2.305083319768696, 4.412202584607696, 20.000000002061153, 300.0,
      ],
    ],
    [
      { name: 'softsign' },
      [
        -0.9966777408637874, -0.9523809523809523, -0.7872340425531915, -0.5652173913043479, -0.09909909909909909,
        0.27007299270072993, 0.6875, 0.8148148148148149, 0.9523809523809523, 0.9966777408637874,
      ],
    ],
    [
      { name: 'swish' },
      [
        -1.5444600667236042e-128, -4.122307236380407e-8, -0.08926997924537602, -0.2784145220446738, -0.0519780465220947,
        0.2188398220201286, 1.980548923936693, 4.346634886069194, 19.999999958776925, 300.0,
      ],
    ],
    [
      { name: 'gelu', approximate: false },
      [
        -0.0, -0.0, -0.000398859013866415, -0.1258406299612934, -0.050182515620345154, 0.2383942392762023,
        2.1694124154703034, 4.399976184806806, 20.0, 300.0,
      ],
    ],
    [
      { name: 'gelu', approximate: true },
      [
        -0.0, -0.0, -0.0002718060213921236, -0.1260709876826906, -0.05018256340073042, 0.23838863701582608,
        2.1696785270380117, 4.39999099805875, 20.0, 300.0,
      ],
    ],
    [
      { name: 'mish' },
      [
        -1.544460066723604e-128, -4.122307240628762e-8, -0.09034656750081306, -0.3073824647494959, -0.06211339966851403,
        0.2641557487922566, 2.1566506288321587, 4.3987057197577695, 20.0, 300.0,
      ],
    ],
    [
      { name: 'hard_sigmoid', hardSigmoidSlope: 1 / 6 },
      [0.0, 0.0, 0.0, 0.2833333333333333, 0.4816666666666667, 0.5616666666666666, 0.8666666666666667, 1.0, 1.0, 1.0],
    ],
    [
      { name: 'hard_swish' },
      [
        -0.0, -0.0, -0.0, -0.36833333333333335, -0.052983333333333334, 0.20781666666666668, 1.906666666666667, 4.4,
        20.0, 300.0,
      ],
    ],
    [{ name: 'relu6' }, [0.0, 0.0, 0.0, 0.0, 0.0, 0.37, 2.2, 4.4, 6.0, 6.0]],
    [{ name: 'relu', maxValue: 6 }, [0.0, 0.0, 0.0, 0.0, 0.0, 0.37, 2.2, 4.4, 6.0, 6.0]],
    [
      { name: 'leaky_relu' },
      [-60.0, -4.0, -0.7400000000000001, -0.26, -0.022000000000000002, 0.37, 2.2, 4.4, 20.0, 300.0],
    ],
    [{ name: 'log_softmax' }, [-600.0, -320.0, -303.7, -301.3, -300.11, -299.63, -297.8, -295.6, -280.0, 0.0]],
    [
      { name: 'softmax' },
      [
        2.6503965530043108e-261, 1.0611231537463512e-139, 1.2728166447341201e-132, 1.4030482375120327e-131,
        4.611933494577798e-131, 7.453227665203332e-131, 4.646257650505764e-130, 4.19325380176631e-129,
        2.4977275669152505e-122, 1.0,
      ],
    ],
  ];
  for (const [a, ref] of REF) {
    it(`${a.name} ${JSON.stringify(a)}`, () => {
      const y = fwd(a, X);
      // gelu at −20 is −5.5e−88 here and −0 in torch: an absolute floor of 1e-16 covers it.
      for (let i = 0; i < X.length; i++)
        expect(Math.abs(y[i] - ref[i])).toBeLessThanOrEqual(1e-13 * Math.abs(ref[i]) + 1e-16);
    });
  }

  it('softmax / log_softmax of a moderate row', () => {
    // torch: F.softmax / F.log_softmax of [0.3, -1.2, 2.5, 0.0] (float64)
    const x = [0.3, -1.2, 2.5, 0.0];
    expect(
      maxRelErr(
        fwd({ name: 'softmax' }, x),
        [0.09100040667134894, 0.020304935314150334, 0.8212798986629193, 0.06741475935158148],
        0,
      ),
    ).toBeLessThan(1e-14);
    expect(
      maxRelErr(
        fwd({ name: 'log_softmax' }, x),
        [-2.39689130355935, -3.89689130355935, -0.19689130355934986, -2.69689130355935],
        0,
      ),
    ).toBeLessThan(1e-14);
  });

  it('Keras ≤ 2 hard_sigmoid is clip(0.2x + 0.5, 0, 1)', () => {
    expect(Array.from(fwd({ name: 'hard_sigmoid', hardSigmoidSlope: 0.2 }, [-3, -2.5, -1, 0, 1, 2.5, 3]))).toEqual([
      0, 0, 0.3, 0.5, 0.7, 1, 1,
    ]);
  });

  it('Keras relu(x, negative_slope, max_value, threshold) docstring examples', () => {
    // keras/src/activations/activations.py relu docstring.
    const x = [-10, -5, 0.0, 5, 10];
    expect(Array.from(fwd({ name: 'relu' }, x))).toEqual([0, 0, 0, 5, 10]);
    expect(Array.from(fwd({ name: 'relu', negativeSlope: 0.5 }, x))).toEqual([-5, -2.5, 0, 5, 10]);
    expect(Array.from(fwd({ name: 'relu', maxValue: 5 }, x))).toEqual([0, 0, 0, 5, 5]);
    expect(Array.from(fwd({ name: 'relu', threshold: 5 }, x)).map((v) => v + 0)).toEqual([0, 0, 0, 0, 10]);
  });
});

describe('derivatives at kinks follow TensorFlow gradient kernels', () => {
  it('relu, relu6, leaky, clip edges', () => {
    expect(Array.from(deriv({ name: 'relu' }, [0]))).toEqual([0]); // ReluGrad: x > 0
    expect(Array.from(deriv({ name: 'relu6' }, [0, 6]))).toEqual([0, 0]); // Relu6Grad: 0 < x < 6
    expect(Array.from(deriv({ name: 'relu', maxValue: 6 }, [0, 6]))).toEqual([0, 0]); // relu6 path
    expect(Array.from(deriv({ name: 'relu', maxValue: 4 }, [0, 4]))).toEqual([0, 1]); // relu then clip_by_value
    expect(Array.from(deriv({ name: 'leaky_relu' }, [0]))).toEqual([0.2]); // LeakyReluGrad: x > 0 ? 1 : α
    expect(Array.from(deriv({ name: 'relu', threshold: 1.5, negativeSlope: 0.1 }, [1.5]))).toEqual([0]);
  });
  it('hard_sigmoid: 0 at ±3 (Keras 3, relu6(x+3)/6), 0.2 at ±2.5 (Keras 2, clip_by_value)', () => {
    expect(Array.from(deriv({ name: 'hard_sigmoid', hardSigmoidSlope: 1 / 6 }, [-3, 3]))).toEqual([0, 0]);
    expect(Array.from(deriv({ name: 'hard_sigmoid', hardSigmoidSlope: 0.2 }, [-2.5, 2.5]))).toEqual([0.2, 0.2]);
  });
  it('elu and selu at 0', () => {
    expect(deriv({ name: 'elu' }, [0])[0]).toBe(1);
    expect(deriv({ name: 'selu' }, [0])[0]).toBeCloseTo(1.0507009873554805, 15);
  });
});

describe('row-wise softmax / log_softmax', () => {
  for (const name of ['softmax', 'log_softmax'] as const) {
    it(`${name} Jacobian-vector product vs FD, and extreme rows`, () => {
      const f = activation({ name });
      expect(f.rowwise).toBe(true);
      const rows = [
        testValues(7, -4, 4, 3),
        Float64Array.from([300, -300, 0, 299.5, -1]),
        Float64Array.from([-300, -300, -299]),
      ];
      for (const x of rows) {
        const n = x.length;
        const w = testValues(n, -1, 1, 11);
        const y = new Float64Array(n);
        const loss = (xx: Float64Array): number => {
          f.forward(xx, 0, y, 0, n);
          let s = 0;
          for (let i = 0; i < n; i++) s += w[i] * y[i];
          return s;
        };
        const fd = fdGrad(loss, x);
        f.forward(x, 0, y, 0, n);
        for (const v of y) expect(Number.isFinite(v)).toBe(true);
        const dx = new Float64Array(n);
        f.backward(x, 0, y, 0, w, 0, dx, 0, n);
        expect(maxRelErr(dx, fd, 1e-3)).toBeLessThan(1e-6);
      }
    });
  }

  it('in place forward and dx aliasing dy give the same result', () => {
    for (const [name, a] of CASES.filter(([, a]) => activation(a).inPlace).concat([
      ['softmax', { name: 'softmax' }],
      ['log_softmax', { name: 'log_softmax' }],
    ])) {
      const f = activation(a);
      const x = testValues(6, -3, 3, 5);
      const y = new Float64Array(6);
      f.forward(x, 0, y, 0, 6);
      const dy = testValues(6, -1, 1, 9);
      const dx = new Float64Array(6);
      f.backward(x, 0, y, 0, dy, 0, dx, 0, 6);
      const buf = Float64Array.from(x);
      f.forward(buf, 0, buf, 0, 6); // y overwrites x
      expect(Array.from(buf), name).toEqual(Array.from(y));
      f.backward(buf, 0, buf, 0, dy, 0, dy, 0, 6); // backward reads only y; dx aliases dy
      expect(Array.from(dy), name).toEqual(Array.from(dx));
    }
  });
});

describe('erf / erfc', () => {
  // Python 3.11 math.erf / math.erfc, printed with repr().
  const X = [-5.5, -2.0, -1.99, -0.3, 1e-3, 0.5, 1.999, 2.0, 3.3, 6.1];
  const ERF = [
    -0.9999999999999927, -0.9953222650189527, -0.995111413199617, -0.3286267594591274, 0.0011283787909692365,
    0.5204998778130465, 0.9953015566513705, 0.9953222650189527, 0.9999969422902035, 1.0,
  ];
  const XC = [...X, 12.0, 26.0];
  const ERFC = [
    1.9999999999999927, 1.9953222650189528, 1.995111413199617, 1.3286267594591274, 0.9988716212090307,
    0.4795001221869535, 0.004698443348629488, 0.004677734981047265, 3.0577097964381654e-6, 6.314602150193718e-18,
    1.3562611692059042e-64, 5.663192408856143e-296,
  ];
  it('erf to 1e-15 relative', () => {
    expect(maxRelErr(X.map(erf), ERF, 0)).toBeLessThan(1e-15);
  });
  it('erfc to 2e-13 relative (1e-14 outside [0.5, 2))', () => {
    const got = XC.map(erfc);
    expect(maxRelErr(got, ERFC, 0)).toBeLessThan(2e-13);
    const far = XC.map((x, i) => [x, i] as const).filter(([x]) => x < 0.5 || x >= 2);
    expect(
      maxRelErr(
        far.map(([x]) => erfc(x)),
        far.map(([, i]) => ERFC[i]),
        0,
      ),
    ).toBeLessThan(1e-14);
    expect(erfc(30)).toBe(0);
    expect(erf(Number.NaN)).toBeNaN();
  });
});
