// Vanishing and exploding findings are consistent for one layer: both are read from ‖∂L/∂h_t‖ as it
// flows back from the last step (vanishing: it falls below 1% of the peak reached so far; exploding:
// it grows). Checked on models built with the library (the demo's SimpleRNN on the adding problem,
// its recurrent kernel as initialised, scaled by 4, or replaced by a rotation) and, for the
// decision rules alone, on hand-written series.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../src/analysis/analyze.js';
import { addingProblem, buildDemoModel } from '../src/analysis/demo.js';
import { DEFAULT_THRESHOLDS, diagnose } from '../src/analysis/diagnose.js';
import { horizon } from '../src/analysis/recurrent.js';
import type { Analysis, RecurrentAnalysis } from '../src/analysis/schema.js';
import { makeRng } from '../src/engine/rng.js';
import type { ModelSpec } from '../src/model/types.js';

const T = 100;

function demoSimpleRnn(edit: (R: Float64Array | Float32Array, U: number) => void, activation?: 'linear'): ModelSpec {
  const m = buildDemoModel('SimpleRNN', T, 32, makeRng(7));
  const l = m.layers.find((x) => x.type === 'Recurrent')!;
  if (activation && l.type === 'Recurrent') l.rnn.activation = { name: activation };
  edit(m.weights.get(`${l.name}/recurrent_kernel`)!.data, 32);
  return m;
}

function run(m: ModelSpec) {
  const { x, y } = addingProblem(makeRng(8), 32, T);
  return analyzeModel(m, { inputs: [x], targets: [y] }, {}).analysis;
}

const codes = (a: Analysis): string[] => a.findings.filter((f) => f.layer !== null).map((f) => f.code);

describe('vanishing and exploding on the demo SimpleRNN (built with the library)', () => {
  it('recurrent kernel scaled by 4: exploding only, the horizon spans every step', () => {
    const a = run(
      demoSimpleRnn((R) => {
        for (let i = 0; i < R.length; i++) R[i] *= 4;
      }),
    );
    const ra = a.recurrent[0]!;
    const dh = ra.dh.norm as number[];
    // The measured gradient at the first step dwarfs the one at the last step.
    expect(dh[0]! / dh[T - 1]!).toBeGreaterThan(1e6);
    expect(codes(a)).toContain('exploding');
    expect(codes(a)).not.toContain('vanishing');
    const f = a.findings.find((x) => x.code === 'exploding')!;
    expect(f.evidence['growth']).toBe(Number((Math.max(...dh) / dh[T - 1]!).toPrecision(3)));
    // Going back, ‖∂L/∂h_t‖ never falls below 1% of the peak it has reached (checked step by step).
    let peak = 0;
    for (let t = T - 1; t >= 0; t--) {
      expect(dh[t]!).toBeGreaterThanOrEqual(0.01 * peak);
      peak = Math.max(peak, dh[t]!);
    }
    expect(ra.horizon).toMatchObject({ steps: T, from: T - 1, to: 0 });
  });

  it('recurrent kernel as initialised: vanishing only, within the horizon', () => {
    const a = run(demoSimpleRnn(() => undefined));
    const ra = a.recurrent[0]!,
      dh = ra.dh.norm as number[];
    expect(codes(a)).toContain('vanishing');
    expect(codes(a)).not.toContain('exploding');
    const h = ra.horizon.steps!;
    expect(h).toBeLessThan(T / 2);
    // The step just beyond the horizon is below 1% of the peak over the steps within it.
    const peak = Math.max(...dh.slice(T - h));
    expect(dh[T - 1 - h]!).toBeLessThan(0.01 * peak);
    expect(a.findings.find((x) => x.code === 'vanishing')!.evidence['effectiveHorizon']).toBe(h);
  });

  it('a rotation with a linear activation keeps ‖∂L/∂h_t‖: neither vanishing nor exploding', () => {
    // R = a cyclic permutation: orthogonal, so each sample's gradient keeps its norm going back.
    const a = run(
      demoSimpleRnn((R, U) => {
        R.fill(0);
        for (let u = 0; u < U; u++) R[u * U + ((u + 1) % U)] = 1;
      }, 'linear'),
    );
    const dh = a.recurrent[0]!.dh.norm as number[];
    expect(Math.max(...dh) / Math.min(...dh)).toBeLessThan(1 + 1e-5);
    expect(codes(a)).not.toContain('vanishing');
    expect(codes(a)).not.toContain('exploding');
    expect(a.recurrent[0]!.horizon.steps).toBe(T);
  });
});

describe('the decision rules on hand-written series', () => {
  const layer = (norm: number[], lossSteps: 'all' | 'last', log10Product: number[] | null = null): Analysis => {
    const n = norm.length;
    const ra = {
      id: 'r',
      layer: 'r',
      direction: null,
      kind: 'SimpleRNN',
      goBackwards: false,
      steps: n,
      units: 4,
      inputDim: 1,
      gates: ['h'],
      lossSteps,
      dh: { norm, p10: norm, p50: norm, p90: norm },
      dc: null,
      dx: { norm, p10: norm, p50: norm, p90: norm },
      contributions: [],
      jacobian: log10Product
        ? {
            state: 'h',
            median: norm.map(() => 1),
            max: norm.map(() => 1),
            log10ProductMedian: log10Product,
            log10ProductMax: log10Product,
            samples: 1,
            iterations: 1,
          }
        : null,
      gateStats: [],
      deadUnits: { threshold: 1e-8, units: [] },
      heatmap: { stepBin: 1, unitBin: 1, values: [] },
      connectivity: null,
      horizon: horizon(norm, false, DEFAULT_THRESHOLDS.horizonRatio),
      density: [],
    } as RecurrentAnalysis;
    return {
      recurrent: [ra],
      params: [],
      batches: { norms: [], sizes: [], clipping: [], suggestedClipnorm: null },
    } as unknown as Analysis;
  };
  const found = (a: Analysis): string[] => diagnose(a, DEFAULT_THRESHOLDS).map((f) => f.code);
  // 1 at the last step
  const geo = (n: number, r: number): number[] => Array.from({ length: n }, (_, t) => r ** (n - 1 - t));

  it('growing going back: exploding, not vanishing', () => {
    expect(found(layer(geo(40, 1.5), 'last'))).toEqual(['exploding']);
  });
  it('decaying going back: vanishing, not exploding', () => {
    expect(found(layer(geo(40, 0.7), 'last'))).toEqual(['vanishing']);
  });
  it('flat: neither', () => {
    expect(found(layer(geo(40, 1), 'last'))).toEqual([]);
  });
  it('grows 1e4× over the last 10 steps, then falls below 1% of that peak: both, each true of the measured series', () => {
    const s = [...geo(30, 0.5).map((v) => v * 1e4), ...geo(10, 2.8)];
    const a = layer(s, 'last');
    expect(a.recurrent[0]!.horizon.steps).toBeLessThan(20);
    expect(found(a)).toEqual(['vanishing', 'exploding']);
  });
  it('returned sequences: growth from per-step losses without a growing Jacobian product is not exploding', () => {
    const s = geo(40, 1.3); // the last step's own loss is small
    expect(
      found(
        layer(
          s,
          'all',
          s.map(() => -0.001),
        ),
      ),
    ).toEqual([]);
    expect(
      found(
        layer(
          s,
          'all',
          s.map((_, t) => 0.2 * (39 - t)),
        ),
      ),
    ).toEqual(['exploding']);
  });
});
