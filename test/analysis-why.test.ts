// The report's "why" data against independent float64 computations (test/helpers/rnn-ref.ts, a
// forward pass written from the Keras equations, and central finite differences; no engine code):
//   - recurrent[].stepRatio: per-sample ‖∂ℓ_n/∂h_prev‖ / ‖∂ℓ_n/∂h_t‖ quantiles, with ∂ℓ_n/∂h_t by finite
//     differences of the reference, for forward and go_backwards layers;
//   - recurrent[].memory: the keep gate's mean (LSTM forget gate, GRU update gate) from the reference's
//     gate activations, ln 0.01 / ln f̄, the gate's mean bias and the documented "explains" rule;
//   - objective.baseline: the mean (mse) and class-prior (crossentropy) losses written out here;
//   - samples: worst/median/best by the reference's per-sample loss, with x, ∂ℓ_n/∂x_t (finite
//     differences), h_t (the reference's returned sequence) and gate activations.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../src/analysis/analyze.js';
import type { Analysis } from '../src/analysis/schema.js';
import type { ModelSpec, RecurrentSpec } from '../src/model/types.js';
import { dense, recurrent, rnnSpec, sequential } from './helpers/models.js';
import { lcg, randArr } from './helpers/rng.js';
import { refRecurrent, type Perturb } from './helpers/rnn-ref.js';

const N = 7,
  T = 9,
  I = 2,
  U = 3;
const EPS = 1e-6;

/** numpy's default (linear) quantile, written out. */
function npQuantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  return s[lo]! + (h - lo) * ((s[Math.min(lo + 1, s.length - 1)] ?? s[lo]!) - s[lo]!);
}

interface Setup {
  model: ModelSpec;
  spec: RecurrentSpec;
  x: Float64Array;
  y: Float64Array;
}

function setup(kind: 'LSTM' | 'GRU' | 'SimpleRNN', goBackwards: boolean, seed: number): Setup {
  const spec = rnnSpec(kind, I, U, { goBackwards });
  const model = sequential(T, I, [recurrent('rnn', spec), dense('d', 1)], seed, 0.6);
  return { model, spec, x: randArr(lcg(seed + 1), N * T * I), y: randArr(lcg(seed + 2), N) };
}

const w = (m: ModelSpec, k: string): Float64Array => m.weights.get(k)!.data as Float64Array;

/** Per-sample loss ℓ_n = (y_n − target_n)² of the reference forward pass (mse over one output). */
function refLosses(s: Setup, pert: Perturb | null = null, x: ArrayLike<number> = s.x): number[] {
  const { model, spec } = s;
  const r = refRecurrent(
    spec,
    { K: w(model, 'rnn/kernel'), R: w(model, 'rnn/recurrent_kernel'), b: w(model, 'rnn/bias') },
    x,
    N,
    T,
    null,
    null,
    pert,
  );
  const Wd = w(model, 'd/kernel'),
    bd = w(model, 'd/bias');
  return Array.from({ length: N }, (_, n) => {
    let o = bd[0]!;
    for (let u = 0; u < U; u++) o += r.y[n * U + u]! * Wd[u]!;
    return (o - s.y[n]!) ** 2;
  });
}

/** ‖∂ℓ_n/∂h_t‖ by central differences of the reference: rows n, columns t (input positions). */
function dhNorms(s: Setup): number[][] {
  const out = Array.from({ length: N }, () => new Array<number>(T).fill(0));
  for (let t = 0; t < T; t++)
    for (let j = 0; j < U; j++)
      for (let b = 0; b < N; b++) {
        const p = refLosses(s, { at: 'h', b, t, j, eps: EPS })[b]!;
        const m = refLosses(s, { at: 'h', b, t, j, eps: -EPS })[b]!;
        out[b]![t]! += ((p - m) / (2 * EPS)) ** 2;
      }
  return out.map((r) => r.map(Math.sqrt));
}

function analyse(s: Setup): Analysis {
  return analyzeModel(
    s.model,
    { inputs: [{ shape: [N, T, I], data: s.x }], targets: [{ shape: [N, 1], data: s.y }] },
    { loss: 'mse', dtype: 'float64', batchSize: 3 },
  ).analysis;
}

describe('stepRatio: measured per-sample gradient ratio per step', () => {
  for (const goBackwards of [false, true]) {
    it(`LSTM${goBackwards ? ' go_backwards' : ''}: quantiles of ‖∂ℓ_n/∂h_prev‖/‖∂ℓ_n/∂h_t‖ from finite differences`, () => {
      const s = setup('LSTM', goBackwards, 11);
      const a = analyse(s);
      const sr = a.recurrent[0]!.stepRatio!;
      const dh = dhNorms(s);
      for (let t = 0; t < T; t++) {
        const prev = goBackwards ? t + 1 : t - 1;
        if (prev < 0 || prev >= T) {
          expect(sr.p50[t]).toBeNull();
          continue;
        }
        const col = dh.map((r) => r[prev]! / r[t]!);
        for (const [q, v] of [
          [0.1, sr.p10[t]],
          [0.5, sr.p50[t]],
          [0.9, sr.p90[t]],
        ] as const)
          expect(Math.abs(v! - npQuantile(col, q)) / npQuantile(col, q)).toBeLessThan(1e-5);
      }
    });
  }
});

describe('memory: the keep gate against the reference gate activations', () => {
  for (const [kind, gate, g, G] of [
    ['LSTM', 'f', 1, 4],
    ['GRU', 'z', 0, 3],
  ] as const) {
    it(`${kind}: mean ${gate}, ln 0.01 / ln mean, mean bias and the explains rule`, () => {
      const s = setup(kind, false, 21);
      const ra = analyse(s).recurrent[0]!;
      const b = w(s.model, 'rnn/bias');
      const r = refRecurrent(
        s.spec,
        { K: w(s.model, 'rnn/kernel'), R: w(s.model, 'rnn/recurrent_kernel'), b },
        s.x,
        N,
        T,
        null,
        null,
      );
      const A = r.rec.gates!;
      let sum = 0;
      for (let n = 0; n < N; n++)
        for (let t = 0; t < T; t++) for (let u = 0; u < U; u++) sum += A[(n * T + t) * G * U + g * U + u]!;
      const mean = sum / (N * T * U);
      // The bias of the gate's block, summed over the bias rows (GRU reset_after has two), averaged over units.
      const rows = b.length / (G * U);
      let bias = 0;
      for (let row = 0; row < rows; row++) for (let u = 0; u < U; u++) bias += b[row * G * U + g * U + u]!;
      const m = ra.memory!;
      expect(m.gate).toBe(gate);
      expect(Math.abs(m.mean! - mean)).toBeLessThan(1e-9);
      expect(Math.abs(m.steps! - Math.log(0.01) / Math.log(mean))).toBeLessThan(1e-6);
      expect(m.bias!).toBeCloseTo(bias / U, 12);
      expect(m.horizon).toBe(ra.horizon.steps);
      const h = ra.horizon.steps!;
      const ex = h >= T ? m.steps! >= T / 2 : m.steps! / h <= 2 && h / m.steps! <= 2;
      expect(m.explains).toBe(ex);
      expect(m.sentence).toContain(mean.toFixed(2));
    });
  }
  it('SimpleRNN has no keep gate: memory is null', () => {
    expect(analyse(setup('SimpleRNN', false, 5)).recurrent[0]!.memory).toBeNull();
  });
});

describe('objective.baseline', () => {
  it('mse: the targets mean, and the learned verdict from the documented gain thresholds', () => {
    const s = setup('LSTM', false, 31);
    const a = analyse(s);
    const mu = s.y.reduce((p, q) => p + q, 0) / N;
    const base = s.y.reduce((p, q) => p + (q - mu) ** 2, 0) / N;
    const bl = a.objective.baseline!;
    expect(bl.kind).toBe('mean');
    expect(Math.abs(bl.value! - base) / base).toBeLessThan(1e-12);
    const L = refLosses(s).reduce((p, q) => p + q, 0) / N;
    expect(Math.abs(a.objective.value! - L) / L).toBeLessThan(1e-9);
    const gain = (base - L) / base;
    expect(bl.learned).toBe(gain < 0.05 ? 'no' : gain < 0.2 ? 'barely' : 'yes');
    if (bl.learned === 'no') expect(a.findings.map((f) => f.code)).toContain('not-learned');
  });

  it('categorical crossentropy: the class prior, −Σ_c f_c ln f_c', () => {
    const C = 3;
    const model = sequential(T, I, [recurrent('rnn', rnnSpec('GRU', I, U)), dense('d', C, 'softmax')], 41, 0.6);
    const cls = [0, 0, 1, 2, 0, 1, 0];
    const onehot = new Float64Array(N * C);
    cls.forEach((c, n) => {
      onehot[n * C + c] = 1;
    });
    const x = randArr(lcg(42), N * T * I);
    for (const [loss, targets] of [
      ['categorical_crossentropy', { shape: [N, C], data: onehot }],
      ['sparse_categorical_crossentropy', { shape: [N], data: Float64Array.from(cls) }],
    ] as const) {
      const a = analyzeModel(
        model,
        { inputs: [{ shape: [N, T, I], data: x }], targets: [{ shape: [...targets.shape], data: targets.data }] },
        { loss, dtype: 'float64' },
      ).analysis;
      const f = [0, 1, 2].map((c) => cls.filter((k) => k === c).length / N);
      const H = -f.reduce((p, q) => p + q * Math.log(q), 0);
      expect(a.objective.baseline!.kind).toBe('class-prior');
      expect(Math.abs(a.objective.baseline!.value! - H) / H).toBeLessThan(1e-6);
    }
  });

  it('self-objectives have no baseline', () => {
    const s = setup('GRU', false, 51);
    const a = analyzeModel(s.model, { inputs: [{ shape: [N, T, I], data: s.x }], targets: null }, {}).analysis;
    expect(a.objective.baseline).toBeNull();
  });
});

describe('samples: worst, median and best by loss', () => {
  for (const goBackwards of [false, true]) {
    it(`LSTM${goBackwards ? ' go_backwards' : ''}: losses, x, ∂ℓ_n/∂x_t, h_t and gates against the reference`, () => {
      const s = setup('LSTM', goBackwards, 61);
      const a = analyse(s);
      const losses = refLosses(s);
      const order = losses.map((_, i) => i).sort((p, q) => losses[p]! - losses[q]!);
      const want = { worst: order[N - 1]!, median: order[(N - 1) >> 1]!, best: order[0]! };
      expect(a.samples!.map((v) => [v.role, v.index])).toEqual(Object.entries(want));
      const seq = refRecurrent(
        { ...s.spec, returnSequences: true },
        { K: w(s.model, 'rnn/kernel'), R: w(s.model, 'rnn/recurrent_kernel'), b: w(s.model, 'rnn/bias') },
        s.x,
        N,
        T,
        null,
        null,
      );
      const near = (got: number | null, ref: number): void => {
        expect(got).not.toBeNull();
        expect(Math.abs(got! - ref)).toBeLessThanOrEqual(Math.abs(ref) * 1e-3 + 1e-12);
      };
      for (const v of a.samples!) {
        const n = v.index;
        near(v.loss, losses[n]!);
        expect(v.steps).toEqual(Array.from({ length: T }, (_, t) => t));
        for (let t = 0; t < T; t++)
          for (let j = 0; j < I; j++) {
            near(v.x[t]![j]!, s.x[(n * T + t) * I + j]!);
            const p = refLosses(s, { at: 'x', b: n, t, j, eps: EPS })[n]!;
            const m = refLosses(s, { at: 'x', b: n, t, j, eps: -EPS })[n]!;
            const fd = (p - m) / (2 * EPS);
            expect(Math.abs(v.dx[t]![j]! - fd)).toBeLessThanOrEqual(Math.abs(fd) * 2e-3 + 1e-8);
          }
        const l = v.layers[0]!;
        expect(l.units).toEqual([0, 1, 2]);
        for (let k = 0; k < T; k++) {
          const t = goBackwards ? T - 1 - k : k;
          for (let u = 0; u < U; u++) {
            // The state after the last processed step is not recorded (null); every other h_t is.
            if (k === T - 1) expect(l.h[t]![u]).toBeNull();
            else near(l.h[t]![u]!, seq.y[(n * T + k) * U + u]!);
            l.gates.forEach((g, gi) => near(g.values[t]![u]!, seq.rec.gates![(n * T + t) * 4 * U + gi * U + u]!));
          }
        }
      }
    });
  }
});

describe('validate.ts: the new fields are checked, and files without them still read', () => {
  it('a fresh analysis round-trips; a wrong type in each new field is named; the old fixture still validates', async () => {
    const { validateAnalysis, validateReportInput } = await import('../src/analysis/validate.js');
    const { readFileSync } = await import('node:fs');
    const a = JSON.parse(JSON.stringify(analyse(setup('GRU', false, 71))));
    expect(a.samples.length).toBeGreaterThan(0);
    expect(() => validateAnalysis(a)).not.toThrow();
    const bad: [string, (x: Analysis) => void][] = [
      ['objective.baseline.learned', (x) => ((x.objective.baseline as { learned: unknown }).learned = 'maybe')],
      ['recurrent[0].memory.explains', (x) => ((x.recurrent[0]!.memory as { explains: unknown }).explains = 'yes')],
      ['recurrent[0].stepRatio.p50', (x) => x.recurrent[0]!.stepRatio!.p50.pop()],
      ['findings[0].remedyId', (x) => ((x.findings[0] as { remedyId: unknown }).remedyId = 3)],
      ['samples[0].layers[0].h', (x) => ((x.samples![0]!.layers[0] as { h: unknown }).h = 'h')],
    ];
    for (const [where, edit] of bad) {
      const b = JSON.parse(JSON.stringify(a));
      edit(b);
      expect(() => validateAnalysis(b), where).toThrow(where);
    }
    const old = JSON.parse(readFileSync(new URL('./fixtures/analysis/example.json', import.meta.url), 'utf8'));
    expect(old.samples).toBeUndefined();
    expect(old.recurrent[0].memory).toBeUndefined();
    expect(() => validateReportInput(old)).not.toThrow();
  });
});

describe('samples: per-sample connectivity of a sequence output', () => {
  it('‖∂ℓ_{n,τ}/∂x_t‖ of each shown sample against finite differences of the reference', () => {
    const C = 2;
    const spec = rnnSpec('LSTM', I, U, { returnSequences: true });
    const model = sequential(T, I, [recurrent('rnn', spec), dense('d', C)], 81, 0.6);
    const x = randArr(lcg(82), N * T * I),
      y = randArr(lcg(83), N * T * C);
    const a = analyzeModel(
      model,
      { inputs: [{ shape: [N, T, I], data: x }], targets: [{ shape: [N, T, C], data: y }] },
      { loss: 'mse', dtype: 'float64', connectivity: true },
    ).analysis;
    const Wd = w(model, 'd/kernel'),
      bd = w(model, 'd/bias');
    /** ℓ_{n,τ}: sample n's mse restricted to output step τ, as a share of its mean over T × C. */
    const lossAt = (n: number, tau: number, pert: Perturb | null): number => {
      const r = refRecurrent(
        spec,
        { K: w(model, 'rnn/kernel'), R: w(model, 'rnn/recurrent_kernel'), b: w(model, 'rnn/bias') },
        x,
        N,
        T,
        null,
        null,
        pert,
      );
      let s = 0;
      for (let c = 0; c < C; c++) {
        let o = bd[c]!;
        for (let u = 0; u < U; u++) o += r.y[(n * T + tau) * U + u]! * Wd[u * C + c]!;
        s += (o - y[(n * T + tau) * C + c]!) ** 2;
      }
      return s / (T * C);
    };
    const conn = a.recurrent[0]!.connectivity!;
    expect(a.samples!.length).toBe(3);
    for (const v of a.samples!) {
      const m = v.layers[0]!.connectivity!;
      conn.outputSteps.forEach((tau, i) =>
        conn.inputSteps.forEach((t, j) => {
          let sq = 0;
          for (let k = 0; k < I; k++) {
            const p = lossAt(v.index, tau, { at: 'x', b: v.index, t, j: k, eps: EPS });
            const q = lossAt(v.index, tau, { at: 'x', b: v.index, t, j: k, eps: -EPS });
            sq += ((p - q) / (2 * EPS)) ** 2;
          }
          const ref = Math.sqrt(sq);
          expect(Math.abs((m[i]![j] ?? 0) - ref)).toBeLessThanOrEqual(ref * 2e-3 + 1e-9);
        }),
      );
    }
  });
});
