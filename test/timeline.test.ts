// The training timeline (src/analysis/timeline.ts): checkpoint names, percentile bands against exact
// quantiles, every point of a real training series against the analysis of that checkpoint alone
// and against independent float64 computations, update ratios against explicit gate slicing, a
// diverged checkpoint, out-of-order checkpoints, and the findings over time in words.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../src/analysis/analyze.js';
import { addingProblem, buildDemoModel, train } from '../src/analysis/demo.js';
import { histogram } from '../src/analysis/params.js';
import { orderCheckpoints, parseCheckpointName } from '../src/analysis/checkpoint-names.js';
import {
  histogramQuantile,
  summarizePoint,
  snapshotWeights,
  TimelineBuilder,
  type Timeline,
  type TimelinePoint,
} from '../src/analysis/timeline.js';
import { timelineFindings } from '../src/analysis/timeline-findings.js';
import { DEFAULT_THRESHOLDS } from '../src/analysis/diagnose.js';
import { lossAndGrads } from '../src/engine/run.js';
import { makeRng } from '../src/engine/rng.js';
import { ModelError } from '../src/model/errors.js';
import type { ModelSpec } from '../src/model/types.js';
import { lcg } from './helpers/rng.js';

describe('checkpoint names', () => {
  const cases: [string, number | null, number | null][] = [
    ['ckpt/epoch003.keras', 3, null],
    ['weights.02-0.45.h5', 2, null],
    ['weights.10-1.23.hdf5', 10, null],
    ['model-e05-b0100.keras', 5, 100],
    ['ckpt_10.weights.h5', 10, null],
    ['epoch=3-step=120.ckpt', 3, 120],
    ['lstm2_05.h5', 5, null],
    ['model_lr1e-3_epoch05.keras', 5, null],
    ['step_500.keras', null, 500],
    ['best.keras', null, null],
    ['model.keras', null, null],
  ];
  for (const [name, epoch, batch] of cases) {
    it(`${name} → epoch ${epoch}, batch ${batch}`, () => expect(parseCheckpointName(name)).toEqual({ epoch, batch }));
  }

  it('orders by the numbers when every name has one (10 after 9), else by modification time', () => {
    const files = [
      { name: 'ckpt-10.h5', mtimeMs: 1 },
      { name: 'ckpt-9.h5', mtimeMs: 2 },
      { name: 'ckpt-1.h5', mtimeMs: 3 },
    ];
    expect(orderCheckpoints(files).map((f) => f.name)).toEqual(['ckpt-1.h5', 'ckpt-9.h5', 'ckpt-10.h5']);
    const mixed = [...files, { name: 'best.h5', mtimeMs: 0 }];
    expect(orderCheckpoints(mixed).map((f) => f.name)).toEqual(['best.h5', 'ckpt-10.h5', 'ckpt-9.h5', 'ckpt-1.h5']);
    // A checkpoint saved at the end of an epoch (no batch number) comes after that epoch's batches.
    const batches = [
      { name: 'e2.keras', mtimeMs: 0 },
      { name: 'e2-b50.keras', mtimeMs: 0 },
      { name: 'e1-b50.keras', mtimeMs: 0 },
    ];
    expect(orderCheckpoints(batches).map((f) => f.name)).toEqual(['e1-b50.keras', 'e2-b50.keras', 'e2.keras']);
  });
});

describe('percentile bands', () => {
  it('histogram quantiles of log10|g| are within a tenth of a decade of the exact quantiles', () => {
    const r = lcg(5);
    const g = new Float64Array(20000);
    for (let i = 0; i < g.length; i++) g[i] = (r() < 0.5 ? -1 : 1) * 10 ** (-7 + 5 * r() * r());
    const exact = Array.from(g, (v) => Math.log10(Math.abs(v))).sort((a, b) => a - b);
    const h = histogram(g);
    for (const q of [0.01, 0.16, 0.5, 0.84, 0.99]) {
      const e = exact[Math.round(q * (exact.length - 1))]!;
      expect(Math.abs(histogramQuantile(h, q)! - e)).toBeLessThan(0.1);
    }
  });

  it('zeros and underflow sit at the floor; an empty tensor has no bands', () => {
    const h = histogram(Float64Array.from([0, 0, 0, 1e-20, 1e-3]));
    expect(histogramQuantile(h, 0.5)).toBe(-16);
    expect(histogramQuantile(h, 1)).toBeCloseTo(-2.5, 6);
    expect(histogramQuantile(histogram(new Float64Array(0)), 0.5)).toBeNull();
  });
});

/** A real series: the demo's LSTM trained by rnnscope's engine (Adam), a checkpoint every `every` steps. */
function series(
  n: number,
  every = 15,
  T = 24,
  units = 8,
): {
  snaps: ModelSpec[];
  data: { x: { shape: number[]; data: Float32Array }; y: { shape: number[]; data: Float32Array } };
} {
  const rng = makeRng(11);
  const model = buildDemoModel('LSTM', T, units, rng);
  const ev = addingProblem(makeRng(12), 40, T);
  const snaps: ModelSpec[] = [];
  for (let k = 0; k < n; k++) {
    if (k > 0) train(model, rng, every, 16, T);
    snaps.push({
      ...model,
      weights: new Map(
        [...model.weights].map(([key, w]) => [
          key,
          { shape: [...w.shape], data: Float64Array.from(w.data as ArrayLike<number>) },
        ]),
      ),
    });
  }
  return { snaps, data: { x: ev.x as never, y: ev.y as never } };
}

const analyse = (m: ModelSpec, d: ReturnType<typeof series>['data']) =>
  analyzeModel(m, { inputs: [d.x], targets: [d.y] }, { batchSize: 16 }).analysis;

describe('timeline of a real training series', () => {
  const { snaps, data } = series(4);
  const builder = new TimelineBuilder();
  snaps.forEach((m, k) =>
    builder.add(m, analyse(m, data), { label: `epoch${k + 1}.keras`, epoch: k + 1, batch: null }),
  );
  const tl = builder.timeline();

  it('each point equals the summary of that checkpoint analysed alone', () => {
    expect(tl.points.map((p) => p.epoch)).toEqual([1, 2, 3, 4]);
    snaps.forEach((m, k) => {
      const alone = summarizePoint(
        analyse(m, data),
        snapshotWeights(m),
        k > 0 ? { index: k - 1, weights: snapshotWeights(snaps[k - 1]!) } : null,
        { index: k, label: `epoch${k + 1}.keras`, epoch: k + 1, batch: null },
      );
      expect(tl.points[k]).toEqual(alone);
    });
  });

  it("loss, horizon and ‖∂L/∂h_t‖ relative to its peak are those of the checkpoint's analysis", () => {
    snaps.forEach((m, k) => {
      const a = analyse(m, data),
        p = tl.points[k]!;
      expect(p.loss).toBe(a.objective.value);
      expect(p.layers[0]!.horizon).toEqual(a.recurrent[0]!.horizon);
      const norm = a.recurrent[0]!.dh.norm as number[];
      const peak = Math.max(...norm);
      norm.forEach((v, t) => expect(Math.abs(p.layers[0]!.relLog10[t]! - Math.log10(v / peak))).toBeLessThan(1e-4));
    });
  });

  it('the global gradient norm matches a float64 gradient of the whole data in one batch', () => {
    snaps.forEach((m, k) => {
      const r = lossAndGrads(m, [data.x], [data.y], {
        losses: [{ name: 'mse', fromLogits: false, labelSmoothing: 0 }],
        flavor: 'keras3',
        dtype: 'float64',
      });
      const norm = Math.sqrt(r.grads.flat().reduce((s, g) => s + Array.from(g.data).reduce((a, v) => a + v * v, 0), 0));
      expect(Math.abs(tl.points[k]!.gradNorm! - norm) / norm).toBeLessThan(1e-4);
      expect(Math.abs(tl.points[k]!.loss! - r.loss) / r.loss).toBeLessThan(1e-5);
    });
  });

  it("gate shares are each gate's part of the squared gradient norm of its kernel, recurrent kernel and bias", () => {
    const a = analyse(snaps[2]!, data);
    const blocks = (g: string) =>
      a.params
        .filter((q) => q.layer === 'lstm')
        .reduce((s, q) => s + (q.blocks!.find((b) => b.gate === g)!.gradNorm ?? 0) ** 2, 0);
    const all = ['i', 'f', 'c', 'o'].reduce((s, g) => s + blocks(g), 0);
    for (const gs of tl.points[2]!.layers[0]!.gates)
      expect(Math.abs(gs.share! - blocks(gs.gate) / all)).toBeLessThan(1e-5);
    expect(tl.points[2]!.layers[0]!.gates.reduce((s, g) => s + g.share!, 0)).toBeCloseTo(1, 10);
  });

  it('update ratios ‖W_k − W_k−1‖/‖W_k−1‖ per gate block, sliced by hand from the Keras layout (i, f, c, o column blocks)', () => {
    const U = 8;
    for (let k = 1; k < 4; k++) {
      const p = tl.points[k]!;
      expect(p.updates.from).toBe(k - 1);
      for (const name of ['kernel', 'recurrent_kernel', 'bias']) {
        const now = snaps[k]!.weights.get(`lstm/${name}`)!,
          prev = snaps[k - 1]!.weights.get(`lstm/${name}`)!;
        const cols = 4 * U,
          rows = now.data.length / cols;
        ['i', 'f', 'c', 'o'].forEach((gate, g) => {
          let d = 0,
            w = 0;
          for (let r = 0; r < rows; r++)
            for (let u = 0; u < U; u++) {
              const j = r * cols + g * U + u;
              d += (now.data[j]! - prev.data[j]!) ** 2;
              w += prev.data[j]! ** 2;
            }
          const got = p.updates.ratios.find((x) => x.key === `lstm/${name}` && x.gate === gate)!.ratio;
          // The initial bias blocks of i, c and o are zeros (unit_forget_bias sets only f): no ratio.
          if (w === 0) expect(got).toBeNull();
          else expect(Math.abs(got! - Math.sqrt(d / w)) / Math.sqrt(d / w)).toBeLessThan(1e-12);
        });
      }
    }
    expect(tl.points[0]!.updates).toEqual({ from: null, ratios: [] });
  });

  it('a checkpoint of another architecture is refused with a ModelError', () => {
    const other = buildDemoModel('GRU', 24, 8, makeRng(1));
    expect(
      () =>
        new TimelineBuilder().add(snaps[0]!, analyse(snaps[0]!, data), { label: 'a', epoch: 1, batch: null }) &&
        undefined,
    ).not.toThrow();
    const b = new TimelineBuilder();
    b.add(snaps[0]!, analyse(snaps[0]!, data), { label: 'a', epoch: 1, batch: null });
    expect(() => b.add(other, analyse(other, data), { label: 'gru.keras', epoch: 2, batch: null })).toThrow(ModelError);
  });

  it('a checkpoint that arrives out of order is placed in order, without update ratios; the others keep theirs', () => {
    const b = new TimelineBuilder();
    for (const k of [0, 1, 3, 2])
      b.add(snaps[k]!, analyse(snaps[k]!, data), { label: `e${k + 1}`, epoch: k + 1, batch: null });
    const t = b.timeline();
    expect(t.points.map((p) => p.label)).toEqual(['e1', 'e2', 'e3', 'e4']);
    expect(t.points.map((p) => p.updates.from)).toEqual([null, 0, null, 1]);
    // e4's ratios were measured against e2 (the checkpoint before it when it arrived), and say so.
    const direct = tl.points[3]!.updates.ratios[0]!.ratio!;
    expect(t.points[3]!.updates.ratios[0]!.ratio).not.toBeCloseTo(direct, 6);
  });
});

describe('a diverged checkpoint', () => {
  it('is reported with its first epoch and does not stop the timeline', () => {
    const { snaps, data } = series(3, 10);
    const broken: ModelSpec = { ...snaps[2]!, weights: new Map(snaps[2]!.weights) };
    const rk = broken.weights.get('lstm/recurrent_kernel')!;
    const d = Float64Array.from(rk.data as ArrayLike<number>);
    d[5] = NaN;
    d[6] = Infinity;
    broken.weights.set('lstm/recurrent_kernel', { shape: rk.shape, data: d });
    const b = new TimelineBuilder();
    [snaps[0]!, snaps[1]!, broken, snaps[1]!].forEach((m, k) =>
      b.add(m, analyse(m, data), { label: `weights.${String(k + 1).padStart(2, '0')}.h5`, epoch: k + 1, batch: null }),
    );
    const t = b.timeline();
    expect(t.points).toHaveLength(4);
    expect(t.points[2]!.nonFiniteWeights).toBe(2);
    expect(t.points[2]!.nonFiniteTensors).toEqual(['lstm/recurrent_kernel']);
    expect(t.points[3]!.loss).not.toBeNull();
    const f = t.findings.find((x) => x.code === 'diverged')!;
    expect(f.message).toBe(
      'Training diverged: epoch 3 holds 2 NaN/Inf weight value(s) (in lstm/recurrent_kernel); the last checkpoint before it with finite weights is epoch 2. 1 of 4 checkpoints is diverged.',
    );
    expect(f.at).toBe(2);
    expect(t.findings[0]!.code).toBe('diverged');
  });
});

describe('a checkpoint the loader refuses for NaN/Inf weights', () => {
  it("is a point without measurements; the next checkpoint's update ratios are against the last finite one", () => {
    const { snaps, data } = series(3, 10);
    const b = new TimelineBuilder();
    b.add(snaps[0]!, analyse(snaps[0]!, data), { label: 'e1', epoch: 1, batch: null });
    b.add(snaps[1]!, analyse(snaps[1]!, data), { label: 'e2', epoch: 2, batch: null });
    b.addDiverged({ label: 'e3', epoch: 3, batch: null }, { count: 32, tensors: ['lstm/kernel'] });
    b.add(snaps[2]!, analyse(snaps[2]!, data), { label: 'e4', epoch: 4, batch: null });
    const t = b.timeline();
    expect(t.points.map((p) => [p.label, p.nonFiniteWeights, p.updates.from])).toEqual([
      ['e1', 0, null],
      ['e2', 0, 0],
      ['e3', 32, null],
      ['e4', 0, 1],
    ]);
    expect(t.points[2]!.layers[0]!.relLog10).toEqual(new Array(24).fill(null));
    expect(t.points[2]!.layers[0]!.horizon.steps).toBeNull();
    expect(t.findings.find((f) => f.code === 'diverged')!.message).toBe(
      'Training diverged: epoch 3 holds 32 NaN/Inf weight value(s) (in lstm/kernel); the last checkpoint before it with finite weights is epoch 2. 1 of 4 checkpoints is diverged.',
    );
  });
});

/** Hand-made points for the wording of findings over time. */
function point(
  i: number,
  epoch: number,
  o: { horizon?: number; findings?: TimelinePoint['findings']; gradNorm?: number } = {},
): TimelinePoint {
  return {
    index: i,
    label: `epoch${epoch}.keras`,
    epoch,
    batch: null,
    loss: 1,
    gradNorm: o.gradNorm ?? 1,
    nonFiniteWeights: 0,
    nonFiniteTensors: [],
    nonFiniteGrads: 0,
    layers: [
      {
        id: 'lstm_1',
        relLog10: [],
        peak: 1,
        horizon: { ratio: 0.01, steps: o.horizon ?? 60, from: 99, to: 99 - (o.horizon ?? 60) + 1 },
        gates: [],
      },
    ],
    updates: { from: i > 0 ? i - 1 : null, ratios: [] },
    bands: [],
    findings: o.findings ?? [],
    seconds: null,
  };
}

function timelineOf(points: TimelinePoint[]): Timeline {
  return {
    schema: 'rnnscope.timeline/1',
    model: 'm',
    order: 'name',
    percentiles: [],
    thresholds: {},
    tensors: [],
    points,
    findings: [],
    layers: [
      {
        id: 'lstm_1',
        layer: 'lstm_1',
        direction: null,
        kind: 'LSTM',
        steps: 100,
        units: 32,
        gates: ['i', 'f', 'c', 'o'],
        goBackwards: false,
        stepBin: 1,
      },
    ],
  };
}

describe('findings over time, in words', () => {
  it('a sharp fall of the horizon names both epochs', () => {
    const t = timelineOf([
      point(0, 1),
      point(1, 2),
      point(2, 3),
      point(3, 4, { horizon: 8 }),
      point(4, 5, { horizon: 9 }),
    ]);
    const msgs = timelineFindings(t, DEFAULT_THRESHOLDS).map((f) => f.message);
    expect(msgs).toContain(
      'The horizon of lstm_1 fell from 60 to 8 steps between epochs 3 and 4: the gradient reaches much less far back into the sequence after this update.',
    );
    expect(msgs).toContain(
      'Over training the horizon of lstm_1 went from 60 to 9 of 100 steps (epoch 1 → epoch 5; shortest 8 at epoch 4, longest 60 at epoch 1).',
    );
  });

  it('a gradual change is a trend, not a fall', () => {
    const t = timelineOf([50, 45, 40, 35, 30].map((h, i) => point(i, i + 1, { horizon: h })));
    expect(timelineFindings(t, DEFAULT_THRESHOLDS).map((f) => f.code)).toEqual(['horizon-trend']);
  });

  it('the onset of exploding gradients and of a saturated forget gate', () => {
    const explode = { code: 'exploding', layer: 'lstm_1', direction: null, gate: null, severity: 'error' as const };
    const forget = {
      code: 'gate-saturated',
      layer: 'lstm_1',
      direction: null,
      gate: 'f',
      severity: 'warning' as const,
    };
    const pts = Array.from({ length: 30 }, (_, i) =>
      point(i, i + 1, { findings: [...(i + 1 >= 12 ? [explode] : []), ...(i + 1 >= 20 ? [forget] : [])] }),
    );
    const fs = timelineFindings(timelineOf(pts), DEFAULT_THRESHOLDS);
    expect(fs.find((f) => f.code === 'exploding-onset')!.message).toBe(
      'Gradients started to explode in lstm_1 at epoch 12, and it persists through the last checkpoint (epoch 30).',
    );
    expect(fs.find((f) => f.code === 'gate-saturated-onset')!.message).toBe(
      'The forget gate of lstm_1 saturated from epoch 20, and it persists through the last checkpoint (epoch 30).',
    );
    expect(fs.find((f) => f.code === 'exploding-onset')!.at).toBe(11);
  });

  it('a finding that comes and goes says how often, and one present throughout says so', () => {
    const v = { code: 'vanishing', layer: 'lstm_1', direction: null, gate: null, severity: 'warning' as const };
    const fs = timelineFindings(
      timelineOf([0, 1, 2, 3, 4].map((i) => point(i, i + 1, { findings: i === 1 || i === 2 ? [v] : [] }))),
      DEFAULT_THRESHOLDS,
    );
    expect(fs[0]!.message).toBe(
      'Gradients vanish in lstm_1 from epoch 2 until epoch 3; seen in 2 of 5 checkpoints, not in the last.',
    );
    const all = timelineFindings(
      timelineOf([0, 1, 2].map((i) => point(i, i + 1, { findings: [v] }))),
      DEFAULT_THRESHOLDS,
    );
    expect(all[0]!.message).toBe('Gradients vanish in lstm_1 at every checkpoint (epoch 1 to epoch 3).');
  });

  it('a jump of the global gradient norm', () => {
    const fs = timelineFindings(
      timelineOf([1, 2, 1.5, 400, 3].map((g, i) => point(i, i + 1, { gradNorm: g }))),
      DEFAULT_THRESHOLDS,
    );
    expect(fs.map((f) => f.message)).toEqual([
      'The global gradient norm jumped to 400 at epoch 4, 267× the median (1.5) of the checkpoints before it.',
    ]);
  });
});
