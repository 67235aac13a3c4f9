// Activation functions with their derivatives beside them.
//
// Every ActivationName of src/model/types.ts, elementwise on a strided window of a
// flat array, except softmax / log_softmax which act on one row per call.
// Values follow Keras 3 (keras/src/activations/activations.py) unless noted.
// Derivatives at kinks are the ones TensorFlow's gradient kernels return, so a
// gradient computed here equals what Keras-TF would compute at the same input:
//   ReluGrad        dy·[x > 0]                  (relu'(0) = 0)
//   Relu6Grad       dy·[0 < x < 6]              (0 at both edges)
//   LeakyReluGrad   x > 0 ? dy : α·dy           (α at 0)
//   EluGrad         x > 0 ? dy : dy·(y + 1)     (1 at 0 when α = 1)
//   SeluGrad        x < 0 ? dy·(y + scale·α) : dy·scale
//   ClipByValueGrad dy·[lo ≤ x ≤ hi]            (passes at the edges)
// (tensorflow/core/kernels/relu_op_functor.h, tensorflow/python/ops/clip_ops.py.)

import type { Activation } from '../model/types.js';
import { ModelError } from '../model/errors.js';
import type { Arr } from './tensor.js';

export interface ActFn {
  readonly name: string;
  /** y[yo .. yo+n) = f(x[xo .. xo+n)). For softmax/log_softmax the n values are one row (the axis). y may alias x only
   * if `inPlace` is true. */
  forward(x: Arr, xo: number, y: Arr, yo: number, n: number): void;
  /** dx[dxo..) = dy ⊙ f'(x) (or the row Jacobian-vector product for softmax/log_softmax), given x and y = f(x). dx may
   * alias dy. */
  backward(x: Arr, xo: number, y: Arr, yo: number, dy: Arr, dyo: number, dx: Arr, dxo: number, n: number): void;
  /** true when f is applied row-wise (softmax, log_softmax): callers pass one row per call. */
  readonly rowwise: boolean;
  /** true when backward reads only y, so forward may overwrite x (y aliasing x at the same offset). */
  readonly inPlace: boolean;
}

// ---------------------------------------------------------------------------
// erf / erfc. Hand-written because JavaScript has no Math.erf.
// |x| < 2: the everywhere-positive series erf x = 2/√π·e^{−x²}·Σ 2ⁿx^{2n+1}/(2n+1)!!
// (no cancellation; ≤ ~70 terms). |x| ≥ 2: the continued fraction
// √π·e^{x²}·erfc x = 1/(x + ½/(x + 1/(x + 3⁄2/(x + …)))) (Abramowitz & Stegun 7.1.14),
// evaluated with modified Lentz. Measured against Python math.erf/erfc on [−7, 7]:
// erf relative error < 1e-15; erfc relative error < 2e-13 on [0.5, 2) (1 − erf
// there; absolute error < 1e-16), < 1e-15 elsewhere.

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const INV_SQRT_PI = 0.5641895835477563;

function erfSeries(x: number): number {
  const a = Math.abs(x);
  const a2 = a * a;
  let term = a;
  let sum = a;
  for (let n = 0; n < 300; n++) {
    term *= (2 * a2) / (2 * n + 3);
    sum += term;
    if (term <= sum * 1e-17) break;
  }
  const r = TWO_OVER_SQRT_PI * Math.exp(-a2) * sum;
  return x < 0 ? -r : r;
}

/** erfc(x) for x ≥ 2 by continued fraction. */
function erfcLarge(x: number): number {
  if (x > 27.3) return 0; // e^{−x²} underflows float64
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = 1 / (x + a * d);
    c = x + a / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 2e-16) break;
  }
  return (Math.exp(-x * x) * INV_SQRT_PI) / f;
}

export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x > -2 && x < 2) return erfSeries(x);
  return x > 0 ? 1 - erfcLarge(x) : erfcLarge(-x) - 1;
}

export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x > -2 && x < 2) return 1 - erfSeries(x);
  return x > 0 ? erfcLarge(x) : 2 - erfcLarge(-x);
}

// ---------------------------------------------------------------------------
// Scalar helpers (stable forms).

/** σ(x) without overflow: e^{−|x|} never exceeds 1. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log(1 + e^x) = max(x, 0) + log1p(e^{−|x|}). */
export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;
const SQRT_2_OVER_PI = 0.7978845608028654;
const INV_SQRT_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 0.3989422804014327;
const GELU_C = 0.044715;

// ---------------------------------------------------------------------------
// Elementwise activations: a scalar value f(x) and derivative f'(x, y).
// Speed: the per-element switch is hoisted by making one closure pair per
// activation object (created once per layer), not per element.

type Scalar = (x: number) => number;
type Deriv = (x: number, y: number) => number;

function elementwise(name: string, f: Scalar, df: Deriv, inPlace: boolean): ActFn {
  return {
    name,
    rowwise: false,
    inPlace,
    forward(x, xo, y, yo, n) {
      for (let i = 0; i < n; i++) y[yo + i] = f(x[xo + i]);
    },
    backward(x, xo, y, yo, dy, dyo, dx, dxo, n) {
      for (let i = 0; i < n; i++) dx[dxo + i] = dy[dyo + i] * df(x[xo + i], y[yo + i]);
    },
  };
}

// Speed: sigmoid and tanh are the gate activations of every LSTM/GRU step. They get their own
// loops: through `elementwise` the call f(x) is shared by every activation and stays megamorphic
// in V8 (measured: the W benchmark's gate math ~2× slower).
const SIGMOID: ActFn = {
  name: 'sigmoid',
  rowwise: false,
  inPlace: true,
  forward(x, xo, y, yo, n) {
    for (let i = 0; i < n; i++) {
      const v = x[xo + i]!;
      if (v >= 0) y[yo + i] = 1 / (1 + Math.exp(-v));
      else {
        const e = Math.exp(v);
        y[yo + i] = e / (1 + e);
      }
    }
  },
  backward(_x, _xo, y, yo, dy, dyo, dx, dxo, n) {
    for (let i = 0; i < n; i++) {
      const a = y[yo + i]!;
      dx[dxo + i] = dy[dyo + i]! * a * (1 - a);
    }
  },
};

const TANH: ActFn = {
  name: 'tanh',
  rowwise: false,
  inPlace: true,
  forward(x, xo, y, yo, n) {
    for (let i = 0; i < n; i++) y[yo + i] = Math.tanh(x[xo + i]!);
  },
  backward(_x, _xo, y, yo, dy, dyo, dx, dxo, n) {
    for (let i = 0; i < n; i++) {
      const a = y[yo + i]!;
      dx[dxo + i] = dy[dyo + i]! * (1 - a * a);
    }
  },
};

/**
 * Keras 3 `relu(x, negative_slope, max_value, threshold)` (ReLU.static_call):
 *   p = threshold ≠ 0 ? x·[x > threshold] : max_value == 6 ? relu6(x) : relu(x)
 *   p = clip(p, 0, max_value)          (when max_value is set and the relu6 path was not taken)
 *   f = p − negative_slope·relu(threshold − x)
 * with the shortcut negative_slope ≠ 0, no max_value, threshold 0 → leaky_relu.
 */
function reluFn(a: Activation): ActFn {
  const slope = a.negativeSlope ?? 0;
  const maxV = a.maxValue ?? null;
  const thr = a.threshold ?? 0;
  if (slope === 0 && maxV === null && thr === 0) {
    return elementwise(
      'relu',
      (x) => Math.max(x, 0),
      (x) => (x > 0 ? 1 : 0),
      false,
    );
  }
  if (slope !== 0 && maxV === null && thr === 0) return leaky('relu', slope);
  const relu6Path = thr === 0 && maxV === 6;
  const clip = maxV !== null && !relu6Path;
  const hi = maxV ?? Infinity;
  const f = (x: number): number => {
    let p = thr !== 0 ? (x > thr ? x : 0) : relu6Path ? Math.min(Math.max(x, 0), 6) : Math.max(x, 0);
    if (clip) p = Math.min(Math.max(p, 0), hi);
    return slope !== 0 ? p - slope * Math.max(thr - x, 0) : p;
  };
  const df = (x: number): number => {
    let p: number;
    let d: number;
    if (thr !== 0) {
      p = x > thr ? x : 0;
      d = x > thr ? 1 : 0;
    } else if (relu6Path) {
      p = Math.min(Math.max(x, 0), 6);
      d = x > 0 && x < 6 ? 1 : 0;
    } else {
      p = Math.max(x, 0);
      d = x > 0 ? 1 : 0;
    }
    if (clip && (p < 0 || p > hi)) d = 0; // ClipByValueGrad passes at the edges
    return slope !== 0 && thr - x > 0 ? d + slope : d;
  };
  return elementwise('relu', f, df, false);
}

function leaky(name: string, slope: number): ActFn {
  return elementwise(
    name,
    (x) => (x > 0 ? x : slope * x),
    (x) => (x > 0 ? 1 : slope),
    false,
  );
}

/**
 * clip(slope·x + 0.5, 0, 1). Keras 3 (slope 1/6) computes relu6(x + 3)/6 on the TF
 * backend, whose gradient is 0 at x = ±3; Keras ≤ 2 / tf.keras / TF.js (slope 0.2)
 * compute clip_by_value(0.2x + 0.5, 0, 1), whose gradient passes at x = ±2.5.
 */
function hardSigmoidParts(slope: number): { f: Scalar; df: Scalar } {
  if (slope === 1 / 6) {
    return {
      f: (x) => Math.min(Math.max(x + 3, 0), 6) / 6,
      df: (x) => (x > -3 && x < 3 ? 1 / 6 : 0),
    };
  }
  return {
    f: (x) => Math.min(Math.max(slope * x + 0.5, 0), 1),
    df: (x) => {
      const v = slope * x + 0.5;
      return v >= 0 && v <= 1 ? slope : 0;
    },
  };
}

function softmaxFn(): ActFn {
  return {
    name: 'softmax',
    rowwise: true,
    inPlace: true,
    forward(x, xo, y, yo, n) {
      let m = -Infinity;
      for (let i = 0; i < n; i++) if (x[xo + i] > m) m = x[xo + i];
      let s = 0;
      for (let i = 0; i < n; i++) {
        const e = Math.exp(x[xo + i] - m);
        y[yo + i] = e;
        s += e;
      }
      const inv = 1 / s;
      for (let i = 0; i < n; i++) y[yo + i] *= inv;
    },
    // dx_i = y_i·(dy_i − Σ_j dy_j·y_j)
    backward(_x, _xo, y, yo, dy, dyo, dx, dxo, n) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += dy[dyo + i] * y[yo + i];
      for (let i = 0; i < n; i++) dx[dxo + i] = y[yo + i] * (dy[dyo + i] - dot);
    },
  };
}

function logSoftmaxFn(): ActFn {
  return {
    name: 'log_softmax',
    rowwise: true,
    inPlace: true,
    forward(x, xo, y, yo, n) {
      let m = -Infinity;
      for (let i = 0; i < n; i++) if (x[xo + i] > m) m = x[xo + i];
      let s = 0;
      for (let i = 0; i < n; i++) s += Math.exp(x[xo + i] - m);
      const lse = m + Math.log(s);
      for (let i = 0; i < n; i++) y[yo + i] = x[xo + i] - lse;
    },
    // dx_i = dy_i − softmax_i·Σ_j dy_j, softmax_i = e^{y_i}
    backward(_x, _xo, y, yo, dy, dyo, dx, dxo, n) {
      let s = 0;
      for (let i = 0; i < n; i++) s += dy[dyo + i];
      for (let i = 0; i < n; i++) dx[dxo + i] = dy[dyo + i] - Math.exp(y[yo + i]) * s;
    },
  };
}

/** The engine implementation of a resolved Activation. */
export function activation(spec: Activation): ActFn {
  switch (spec.name) {
    case 'linear':
      return elementwise(
        'linear',
        (x) => x,
        () => 1,
        true,
      );
    case 'relu':
      return reluFn(spec);
    case 'relu6':
      return elementwise(
        'relu6',
        (x) => Math.min(Math.max(x, 0), 6),
        (x) => (x > 0 && x < 6 ? 1 : 0),
        false,
      );
    case 'leaky_relu':
      return leaky('leaky_relu', spec.negativeSlope ?? 0.2);
    case 'sigmoid':
      return SIGMOID;
    case 'hard_sigmoid': {
      const { f, df } = hardSigmoidParts(spec.hardSigmoidSlope ?? 0.2);
      return elementwise('hard_sigmoid', f, df, false);
    }
    case 'hard_swish': {
      // x·hard_sigmoid(x); Keras 3 defines it with the x/6 + 0.5 form (keras/src/backend/tensorflow/nn.py hard_silu).
      const { f, df } = hardSigmoidParts(spec.hardSigmoidSlope ?? 1 / 6);
      return elementwise(
        'hard_swish',
        (x) => x * f(x),
        (x) => f(x) + x * df(x),
        false,
      );
    }
    case 'tanh':
      return TANH;
    case 'softmax':
      return softmaxFn();
    case 'log_softmax':
      return logSoftmaxFn();
    case 'elu': {
      const alpha = spec.alpha ?? 1;
      return elementwise(
        'elu',
        (x) => (x > 0 ? x : alpha * Math.expm1(x)),
        (x) => (x > 0 ? 1 : alpha * Math.exp(x)),
        false,
      );
    }
    case 'selu':
      return elementwise(
        'selu',
        (x) => (x > 0 ? SELU_SCALE * x : SELU_SCALE * SELU_ALPHA * Math.expm1(x)),
        (x) => (x < 0 ? SELU_SCALE * SELU_ALPHA * Math.exp(x) : SELU_SCALE),
        false,
      );
    case 'softplus':
      return elementwise('softplus', softplus, (x) => sigmoid(x), false);
    case 'softsign':
      return elementwise(
        'softsign',
        (x) => x / (1 + Math.abs(x)),
        (x) => {
          const d = 1 + Math.abs(x);
          return 1 / (d * d);
        },
        false,
      );
    case 'swish':
      return elementwise(
        'swish',
        (x) => x * sigmoid(x),
        (x) => {
          const s = sigmoid(x);
          return s + x * s * (1 - s);
        },
        false,
      );
    case 'gelu':
      if (spec.approximate) {
        // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
        return elementwise(
          'gelu',
          (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x))),
          (x) => {
            const t = Math.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x));
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_C * x * x);
          },
          false,
        );
      }
      // x·Φ(x) with Φ(x) = ½·erfc(−x/√2): erfc keeps relative accuracy in the left tail.
      return elementwise(
        'gelu',
        (x) => 0.5 * x * erfc(-x * INV_SQRT_2),
        (x) => {
          return 0.5 * erfc(-x * INV_SQRT_2) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
        },
        false,
      );
    case 'exponential':
      return elementwise('exponential', Math.exp, (_x, y) => y, true);
    case 'mish':
      // x·tanh(softplus(x)); d/dx = tanh(sp) + x·(1 − tanh²(sp))·σ(x)
      return elementwise(
        'mish',
        (x) => x * Math.tanh(softplus(x)),
        (x) => {
          const t = Math.tanh(softplus(x));
          return t + x * (1 - t * t) * sigmoid(x);
        },
        false,
      );
  }
  const never: never = spec.name;
  throw new ModelError(
    `Activation '${String(never)}' has no engine implementation; expected one of the names in ActivationName (src/model/types.ts); report this as a bug.`,
  );
}
