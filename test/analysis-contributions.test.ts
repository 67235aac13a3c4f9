// Per-step contributions C_t (contributions.ts) in each representation against an independent float64
// reference: the engine's float64 taps of ALL samples in one batch, with every C_t formed explicitly by
// plain loops. The representations see the samples in several batches, so the cross-batch terms of
// ‖Σ_n ·‖ are exercised. The sketch is checked against its stated bound.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../src/analysis/analyze.js';
import {
  addBatch,
  chooseContributionMode,
  contributionNormOf,
  contributionTotalOf,
  finishContributions,
  GROUPS,
  newContributions,
  operandsOf,
  type Contributions,
  type ContributionMode,
} from '../src/analysis/contributions.js';
import { lossAndGrads } from '../src/engine/run.js';
import type { ModelSpec, RecurrentKind, RecurrentSpec } from '../src/model/types.js';
import { cellOf } from '../src/engine/cells/index.js';
import { dense, recurrent, rnnSpec, sequential } from './helpers/models.js';
import { lcg, randArr } from './helpers/rng.js';

const MSE = [{ name: 'mse', fromLogits: false, labelSmoothing: 0 }];
const TAPS = { x: true, hPrev: true, gateGrad: true, gates: true } as const;

function setup(
  kind: RecurrentKind,
  extra: Partial<RecurrentSpec>,
  T: number,
  I: number,
  U: number,
  N: number,
  seed = 3,
) {
  const m = sequential(T, I, [recurrent('rnn', rnnSpec(kind, I, U, extra)), dense('out', 2)], seed, 0.6);
  const x = { shape: [N, T, I], data: randArr(lcg(seed + 1), N * T * I, 1) };
  const y = { shape: [N, 2], data: randArr(lcg(seed + 2), N * 2, 1) };
  return { m, x, y, spec: (m.layers[0] as Extract<ModelSpec['layers'][number], { type: 'Recurrent' }>).rnn };
}

/** ‖C_t‖ per 'gate/group' (length T) and ‖Σ_t C_t‖, from float64 taps of all samples at once. */
function reference(
  m: ModelSpec,
  spec: RecurrentSpec,
  x: { shape: number[]; data: Float64Array },
  y: { shape: number[]; data: Float64Array },
) {
  const r = lossAndGrads(m, [x], [y], { losses: MSE, flavor: 'keras3', dtype: 'float64', taps: TAPS });
  const tp = r.taps.get('rnn')!;
  const { batch: N, steps: T, units: U, inputDim: I } = tp;
  const G = cellOf(spec.kind).gates.length,
    GU = G * U;
  const X = tp.data.x!,
    H = tp.data.hPrev!,
    D = tp.data.gateGrad!,
    A = tp.data.gates!;
  const gru = spec.kind === 'GRU',
    after = gru && spec.resetAfter;
  const left = (n: number, t: number, g: number, j: number): number =>
    (gru && !after && g === 2 ? A[(n * T + t) * GU + U + j]! : 1) * H[(n * T + t) * U + j]!;
  const right = (n: number, t: number, g: number, u: number): number =>
    D[(n * T + t) * GU + g * U + u]! * (after && g === 2 ? A[(n * T + t) * GU + U + u]! : 1);
  const norms = new Map<string, number[]>(),
    sums = new Map<string, Float64Array>();
  for (let g = 0; g < G; g++)
    for (const group of GROUPS) {
      const rows = group === 'kernel' ? I : group === 'recurrent_kernel' ? U : after ? 2 : 1;
      const sum = new Float64Array(rows * U);
      const series: number[] = [];
      for (let t = 0; t < T; t++) {
        let sq = 0;
        for (let i = 0; i < rows; i++)
          for (let u = 0; u < U; u++) {
            let v = 0;
            for (let n = 0; n < N; n++) {
              if (group === 'kernel') v += X[(n * T + t) * I + i]! * D[(n * T + t) * GU + g * U + u]!;
              else if (group === 'recurrent_kernel') v += left(n, t, g, i) * right(n, t, g, u);
              else v += i === 0 ? D[(n * T + t) * GU + g * U + u]! : right(n, t, g, u);
            }
            sq += v * v;
            sum[i * U + u] += v;
          }
        series.push(Math.sqrt(sq));
      }
      norms.set(`${g}/${group}`, series);
      sums.set(`${g}/${group}`, sum);
    }
  const totals = new Map([...sums].map(([k, s]) => [k, Math.hypot(...s)]));
  return { norms, totals, T, G };
}

/** Feeds the samples in batches of `batch` to a fresh representation and finishes it. */
function represent(
  m: ModelSpec,
  spec: RecurrentSpec,
  x: { shape: number[]; data: Float64Array },
  y: { shape: number[]; data: Float64Array },
  batch: number,
  mode: ContributionMode,
  dtype: 'float32' | 'float64',
  how: 'gram' | 'rebuild' | 'auto' = 'auto',
  k = 0,
): Contributions {
  const [N, T, I] = x.shape as [number, number, number];
  const c = newContributions(spec, T, mode, k, 5, dtype === 'float32');
  for (let lo = 0; lo < N; lo += batch) {
    const hi = Math.min(N, lo + batch);
    const xb = { shape: [hi - lo, T, I], data: x.data.slice(lo * T * I, hi * T * I) };
    const yb = { shape: [hi - lo, 2], data: y.data.slice(lo * 2, hi * 2) };
    const r = lossAndGrads(m, [xb], [yb], { losses: MSE, flavor: 'keras3', dtype, taps: TAPS });
    addBatch(c, operandsOf(spec, r.taps.get('rnn')!, (hi - lo) / N));
  }
  finishContributions(c, how);
  return c;
}

const CASES: [RecurrentKind, Partial<RecurrentSpec>][] = [
  ['LSTM', {}],
  ['GRU', {}],
  ['GRU', { resetAfter: false }],
  ['SimpleRNN', {}],
  ['LSTM', { goBackwards: true }],
];

describe('per-step contributions against float64 matrices formed from all samples at once', () => {
  for (const [kind, extra] of CASES) {
    it(`${kind} ${JSON.stringify(extra)}: matrix, factors (rebuilt and Gram) agree with the reference in float64, and to float32 precision in float32`, () => {
      const { m, x, y, spec } = setup(kind, extra, 9, 4, 6, 10);
      const ref = reference(m, spec, x, y);
      const ways: [ContributionMode, 'gram' | 'rebuild' | 'auto'][] = [
        ['matrix', 'auto'],
        ['factors', 'rebuild'],
        ['factors', 'gram'],
      ];
      for (const dtype of ['float64', 'float32'] as const) {
        for (const [mode, how] of ways) {
          const c = represent(m, spec, x, y, 4, mode, dtype, how); // batches of 4, 4, 2
          const tol = dtype === 'float64' ? 1e-11 : 2e-5;
          for (let g = 0; g < ref.G; g++)
            for (const group of GROUPS) {
              if (group === 'bias' && !spec.useBias) continue;
              const want = ref.norms.get(`${g}/${group}`)!,
                scale = Math.max(...want);
              for (let t = 0; t < ref.T; t++) {
                const got = contributionNormOf(c, group, g, t);
                expect(
                  Math.abs(got - want[t]!),
                  `${dtype} ${mode}/${how} gate ${g} ${group} t=${t}`,
                ).toBeLessThanOrEqual(tol * (want[t]! + 0.01 * scale));
              }
              const total = ref.totals.get(`${g}/${group}`)!;
              expect(Math.abs(contributionTotalOf(c, group, g) - total)).toBeLessThanOrEqual(tol * total);
            }
        }
      }
    });
  }
});

describe('sketched contributions', () => {
  it('estimate every ‖C_t‖² within the stated bound (relative standard deviation ≤ √(8/k)); totals and bias stay exact', () => {
    const { m, x, y, spec } = setup('LSTM', {}, 10, 24, 24, 40, 11);
    const ref = reference(m, spec, x, y);
    const k = 1024,
      bound = Math.sqrt(8 / k);
    const c = represent(m, spec, x, y, 16, 'sketch', 'float64', 'auto', k);
    const rel: number[] = [];
    for (let g = 0; g < ref.G; g++)
      for (const group of GROUPS) {
        const want = ref.norms.get(`${g}/${group}`)!;
        for (let t = 0; t < ref.T; t++) {
          const got = contributionNormOf(c, group, g, t);
          if (group === 'bias') expect(Math.abs(got - want[t]!)).toBeLessThanOrEqual(1e-12 * want[t]!);
          else if (want[t] === 0)
            expect(got).toBe(0); // h_{−1} = 0: nothing to estimate
          else rel.push(got ** 2 / want[t]! ** 2 - 1);
        }
        expect(Math.abs(contributionTotalOf(c, group, g) - ref.totals.get(`${g}/${group}`)!)).toBeLessThanOrEqual(
          1e-11 * ref.totals.get(`${g}/${group}`)!,
        );
      }
    // Each estimate is within 4 worst-case standard deviations, their spread is within the bound, and the
    // standard error measured from the k projections matches the errors observed against the reference.
    const rms = Math.sqrt(rel.reduce((s, v) => s + v * v, 0) / rel.length);
    expect(Math.max(...rel.map(Math.abs))).toBeLessThan(4 * bound);
    expect(rms).toBeLessThan(bound);
    expect(c.sketchError!).toBeGreaterThan(0.5 * rms);
    expect(c.sketchError!).toBeLessThan(2 * rms);
  });
});

describe('choice of representation', () => {
  const spec = rnnSpec('LSTM', 32, 256);
  it('factors when they fit and are smaller, else matrix when it fits, else factors, else a sketch', () => {
    // 100 steps: matrices 100 × (32 + 256 + 1) × 1024 × 8 B = 237 MB; factors 1.3 MB per sample.
    expect(chooseContributionMode(spec, 100, 256, 512 * 2 ** 20, 1, 4)).toEqual({ mode: 'factors', k: 0 });
    expect(chooseContributionMode(spec, 100, 1024, 512 * 2 ** 20, 1, 4)).toEqual({ mode: 'matrix', k: 0 });
    // W-long: 10,000 steps × (32 + 256 + 1) × 1024 × 8 B = 23.7 GB as matrices; 4 samples are 210 MB of factors.
    expect(chooseContributionMode(spec, 10_000, 4, 512 * 2 ** 20, 1, 4)).toEqual({ mode: 'factors', k: 0 });
    const s = chooseContributionMode(spec, 10_000, 64, 512 * 2 ** 20, 1, 4);
    expect(s.mode).toBe('sketch');
    expect(s.k).toBe(Math.floor((512 * 2 ** 20 - 10_000 * 1024 * 8) / (10_000 * 4 * 2 * 8)));
    // Each thread holds its own matrices.
    expect(chooseContributionMode(spec, 100, 500, 600 * 2 ** 20, 1, 4).mode).toBe('matrix');
    expect(chooseContributionMode(spec, 100, 500, 600 * 2 ** 20, 2, 4).mode).toBe('factors');
  });

  it('the analysis gives the same contributions whichever representation its memory allows, and says when it sketched', () => {
    const { m, x, y } = setup('GRU', {}, 9, 4, 6, 10);
    const input = { inputs: [x], targets: [y] };
    const base = analyzeModel(m, input, { loss: 'mse', batchSize: 4 }).analysis;
    // matrix: 9 × 11 × 18 × 8 B = 14 KB; factors: 9 × 10 × (4 + 6 + 18 + 6) × 4 B = 12 KB.
    const fac = analyzeModel(m, input, { loss: 'mse', batchSize: 4, contributionMemory: 13_000 }).analysis;
    const sk = analyzeModel(m, input, { loss: 'mse', batchSize: 4, contributionMemory: 5_000 }).analysis;
    const a = base.recurrent[0]!.contributions,
      b = fac.recurrent[0]!.contributions,
      s = sk.recurrent[0]!.contributions;
    a.forEach((c, i) => {
      c.norm.forEach((v, t) => expect(Math.abs(b[i]!.norm[t]! - v!)).toBeLessThanOrEqual(2e-5 * v! + 1e-9));
      expect(Math.abs(b[i]!.total! - c.total!)).toBeLessThanOrEqual(1e-5 * c.total!);
      expect(Math.abs(s[i]!.total! - c.total!)).toBeLessThanOrEqual(1e-5 * c.total!);
    });
    expect(base.objective.warnings.map((w) => w.code)).not.toContain('contributions-sketched');
    expect(fac.objective.warnings.map((w) => w.code)).not.toContain('contributions-sketched');
    expect(sk.objective.warnings.find((w) => w.code === 'contributions-sketched')?.message).toMatch(
      /16 random projections.*at most 71 %/,
    );
  });
});
