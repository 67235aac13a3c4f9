// Keras initialisers, drawn from a seeded Rng (src/engine/rng.ts).
//
// Distributions and scales follow keras/src/initializers/random_initializers.py
// (VarianceScaling, Orthogonal, compute_fans) and constant_initializers.py.
// Keras note: the numbers differ from Keras's own (different generator); the
// distributions are the same.

import { ModelError } from '../model/errors.js';
import type { Rng } from './rng.js';

/** (fan_in, fan_out) as keras/src/initializers/random_initializers.py compute_fans. */
export function computeFans(shape: readonly number[]): [number, number] {
  if (shape.length < 1) return [1, 1];
  if (shape.length === 1) return [shape[0], shape[0]];
  if (shape.length === 2) return [shape[0], shape[1]];
  let receptive = 1;
  for (const d of shape.slice(0, -2)) receptive *= d;
  return [shape[shape.length - 2] * receptive, shape[shape.length - 1] * receptive];
}

function count(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** TF truncated_normal: values beyond 2 standard deviations are re-drawn. */
function truncatedNormal(rng: Rng, out: Float64Array, mean: number, stddev: number): void {
  for (let i = 0; i < out.length; i++) {
    let z: number;
    do z = rng.normal();
    while (z < -2 || z > 2);
    out[i] = mean + stddev * z;
  }
}

type Mode = 'fan_in' | 'fan_out' | 'fan_avg';
type Dist = 'uniform' | 'truncated_normal' | 'untruncated_normal';

function varianceScaling(rng: Rng, shape: readonly number[], scale: number, mode: Mode, dist: Dist): Float64Array {
  const out = new Float64Array(count(shape));
  const [fanIn, fanOut] = computeFans(shape);
  let s = scale;
  if (mode === 'fan_in') s /= Math.max(1, fanIn);
  else if (mode === 'fan_out') s /= Math.max(1, fanOut);
  else s /= Math.max(1, (fanIn + fanOut) / 2);
  if (dist === 'truncated_normal') {
    // stddev of a unit normal truncated to [−2, 2] is 0.87962566103423978.
    truncatedNormal(rng, out, 0, Math.sqrt(s) / 0.87962566103423978);
  } else if (dist === 'untruncated_normal') {
    const sd = Math.sqrt(s);
    for (let i = 0; i < out.length; i++) out[i] = sd * rng.normal();
  } else {
    const limit = Math.sqrt(3 * s);
    for (let i = 0; i < out.length; i++) out[i] = -limit + 2 * limit * rng.uniform();
  }
  return out;
}

/**
 * Keras Orthogonal: a (max(r,c), min(r,c)) standard normal matrix, thin QR (Householder, float64),
 * Q·sign(diag R), transposed when rows < cols, times gain. rows = prod(shape[:-1]), cols = shape[-1].
 */
export function orthogonal(rng: Rng, shape: readonly number[], gain = 1): Float64Array {
  if (shape.length < 2) {
    throw new ModelError(
      `The orthogonal initializer got shape [${shape.join(', ')}]; expected at least 2 dimensions; use another initializer for vectors.`,
    );
  }
  const cols = shape[shape.length - 1];
  const rows = count(shape) / cols;
  const m = Math.max(rows, cols);
  const n = Math.min(rows, cols);
  const a = new Float64Array(m * n); // row-major m×n
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  const vs = new Float64Array(m * n); // Householder vectors, column k holds v_k (rows k..m)
  const rdiag = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let norm = 0;
    for (let i = k; i < m; i++) norm += a[i * n + k] ** 2;
    norm = Math.sqrt(norm);
    const x0 = a[k * n + k];
    const alpha = x0 >= 0 ? -norm : norm;
    rdiag[k] = alpha;
    let vnorm = 0;
    for (let i = k; i < m; i++) {
      const v = i === k ? x0 - alpha : a[i * n + k];
      vs[i * n + k] = v;
      vnorm += v * v;
    }
    vnorm = Math.sqrt(vnorm);
    if (vnorm === 0) continue; // column already zero below the diagonal: H = I
    for (let i = k; i < m; i++) vs[i * n + k] /= vnorm;
    for (let j = k; j < n; j++) {
      let dot = 0;
      for (let i = k; i < m; i++) dot += vs[i * n + k] * a[i * n + j];
      for (let i = k; i < m; i++) a[i * n + j] -= 2 * vs[i * n + k] * dot;
    }
  }
  // Thin Q = H_0 … H_{n−1}·I[:, :n], applied right to left.
  const q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) q[j * n + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let i = k; i < m; i++) dot += vs[i * n + k] * q[i * n + j];
      for (let i = k; i < m; i++) q[i * n + j] -= 2 * vs[i * n + k] * dot;
    }
  }
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const v = gain * q[i * n + j] * Math.sign(rdiag[j]);
      if (rows < cols)
        out[j * cols + i] = v; // transpose: (n, m) = (rows, cols)
      else out[i * cols + j] = v;
    }
  }
  return out;
}

type InitSpec = string | Record<string, unknown>;

function num(v: unknown, dflt: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : dflt;
}

/** Values of `shape` from a Keras initializer name or serialized {class_name, config}. */
export function initialize(spec: InitSpec, shape: readonly number[], rng: Rng): Float64Array {
  let cls: string;
  let cfg: Record<string, unknown> = {};
  if (typeof spec === 'string') cls = spec;
  else {
    cls = String(spec['class_name'] ?? spec['className'] ?? '');
    const c = spec['config'];
    if (typeof c === 'object' && c !== null) cfg = c as Record<string, unknown>;
  }
  // snake_case, CamelCase (Keras classes) and camelCase (TF.js) all normalise to one key.
  const key = cls.replace(/_/g, '').toLowerCase();
  const n = count(shape);
  switch (key) {
    case 'zeros':
    case 'zero':
      return new Float64Array(n);
    case 'ones':
    case 'one':
      return new Float64Array(n).fill(1);
    case 'constant':
      return new Float64Array(n).fill(num(cfg['value'], 0));
    case 'glorotuniform':
      return varianceScaling(rng, shape, 1, 'fan_avg', 'uniform');
    case 'glorotnormal':
      return varianceScaling(rng, shape, 1, 'fan_avg', 'truncated_normal');
    case 'heuniform':
      return varianceScaling(rng, shape, 2, 'fan_in', 'uniform');
    case 'henormal':
      return varianceScaling(rng, shape, 2, 'fan_in', 'truncated_normal');
    case 'lecununiform':
      return varianceScaling(rng, shape, 1, 'fan_in', 'uniform');
    case 'lecunnormal':
      return varianceScaling(rng, shape, 1, 'fan_in', 'truncated_normal');
    case 'variancescaling': {
      const mode = String(cfg['mode'] ?? 'fan_in') as Mode;
      let dist = String(cfg['distribution'] ?? 'truncated_normal').toLowerCase();
      if (dist === 'normal') dist = 'truncated_normal';
      return varianceScaling(rng, shape, num(cfg['scale'], 1), mode, dist as Dist);
    }
    case 'orthogonal':
    case 'orthogonalinitializer':
      return orthogonal(rng, shape, num(cfg['gain'], 1));
    // Keras 1/2 'uniform' / 'normal' are RandomUniform(−0.05, 0.05) / RandomNormal(0, 0.05).
    case 'randomuniform':
    case 'uniform': {
      const lo = num(cfg['minval'], -0.05);
      const hi = num(cfg['maxval'], 0.05);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng.uniform();
      return out;
    }
    case 'randomnormal':
    case 'normal': {
      const mean = num(cfg['mean'], 0);
      const sd = num(cfg['stddev'], 0.05);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = mean + sd * rng.normal();
      return out;
    }
    case 'truncatednormal': {
      const out = new Float64Array(n);
      truncatedNormal(rng, out, num(cfg['mean'], 0), num(cfg['stddev'], 0.05));
      return out;
    }
    case 'identity': {
      if (shape.length !== 2)
        throw new ModelError(
          `The identity initializer got shape [${shape.join(', ')}]; expected a 2-D shape; use another initializer.`,
        );
      const out = new Float64Array(n);
      const gain = num(cfg['gain'], 1);
      for (let i = 0; i < Math.min(shape[0], shape[1]); i++) out[i * shape[1] + i] = gain;
      return out;
    }
  }
  throw new ModelError(
    `Initializer '${cls}' is not supported; expected one of zeros, ones, constant, glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_uniform, lecun_normal, variance_scaling, orthogonal, random_uniform, random_normal, truncated_normal, identity; pick a supported initializer.`,
  );
}

/** Keras defaults per parameter name (LSTM/GRU/SimpleRNN, Dense, Conv1D, Embedding, normalisation layers). */
function defaultInitializer(name: string): string {
  switch (name) {
    case 'kernel':
      return 'glorot_uniform';
    case 'recurrent_kernel':
      return 'orthogonal';
    case 'embeddings':
      return 'uniform'; // Embedding(embeddings_initializer="uniform")
    case 'gamma':
    case 'moving_variance':
      return 'ones';
    default:
      return 'zeros'; // bias, beta, moving_mean
  }
}

/**
 * Initial values of one parameter. LSTM bias with unit_forget_bias: init(U) ‖ ones(U) ‖ init(2U)
 * (keras/src/layers/rnn/lstm.py bias_initializer), where init is the bias initializer (zeros by default).
 */
export function initParam(
  name:
    | 'kernel'
    | 'recurrent_kernel'
    | 'bias'
    | 'embeddings'
    | 'gamma'
    | 'beta'
    | 'moving_mean'
    | 'moving_variance'
    | (string & {}),
  shape: number[],
  opts: { initializer?: InitSpec; unitForgetBias?: boolean; units?: number; rng: Rng },
): Float64Array {
  const spec = opts.initializer ?? defaultInitializer(name);
  if (name === 'bias' && opts.unitForgetBias) {
    const u = opts.units;
    if (u === undefined || shape.length !== 1 || shape[0] !== 4 * u) {
      throw new ModelError(
        `unit_forget_bias needs an LSTM bias of shape [4·units]; got shape [${shape.join(', ')}] with units=${String(u)}; pass the LSTM units.`,
      );
    }
    const out = new Float64Array(4 * u);
    out.set(initialize(spec, [u], opts.rng), 0);
    out.fill(1, u, 2 * u);
    out.set(initialize(spec, [2 * u], opts.rng), 2 * u);
    return out;
  }
  return initialize(spec, shape, opts.rng);
}
