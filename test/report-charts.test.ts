// Chart definitions: golden specs (data summarised: row count, first and last
// row, so goldens stay small and stable), every spec compiles without a
// Vega-Lite warning and renders, and the data each chart carries is right.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runsOf, type Analysis, type AnalysisSet, type Histogram } from '../src/analysis/schema.js';
import { CHARTS } from '../src/report/charts/index.js';
import { dhChart } from '../src/report/charts/dh.js';
import { batchesChart } from '../src/report/charts/batches.js';
import { compareChart } from '../src/report/charts/compare.js';
import { contributionsChart, sameCourse } from '../src/report/charts/contributions.js';
import { blockLeftOut, densityChart } from '../src/report/charts/density.js';
import { gatesChart } from '../src/report/charts/gates.js';
import { histQuantile, paramNormsChart } from '../src/report/charts/param-norms.js';
import { r4, runLabel as runLabelOf } from '../src/report/charts/common.js';
import { OKABE_ITO } from '../src/report/charts/palette.js';
import { compileSpec, renderSVG } from '../src/report/render-node.js';
import { textWidth } from '../src/report/text-metrics.js';
import { attentionExample } from './helpers/attention-example.js';

const example = (): Analysis =>
  JSON.parse(readFileSync(new URL('./fixtures/analysis/example.json', import.meta.url), 'utf8'));
const exampleSet = (): AnalysisSet =>
  JSON.parse(readFileSync(new URL('./fixtures/analysis/example-set.json', import.meta.url), 'utf8'));
const exampleTimeline = (): AnalysisSet =>
  JSON.parse(readFileSync(new URL('./fixtures/analysis/example-timeline.json', import.meta.url), 'utf8'));

type Rows = Record<string, unknown>[];
const datasets = (spec: object) => (spec as { datasets: Record<string, Rows> }).datasets;
const param = (spec: object, name: string) =>
  (spec as { params: { name: string; value: unknown }[] }).params.find((p) => p.name === name)?.value;

function golden(spec: object): string {
  const { datasets: ds, ...rest } = spec as { datasets: Record<string, Rows> };
  const summary = Object.fromEntries(
    Object.entries(ds).map(([k, rows]) => [
      k,
      { rows: rows.length, first: rows[0] ?? null, last: rows[rows.length - 1] ?? null },
    ]),
  );
  return `${JSON.stringify({ ...rest, datasets: summary }, null, 1)}\n`;
}

describe('chart specs', () => {
  for (const c of CHARTS) {
    it(`${c.id}: golden, compiles without warnings, both scale variants`, async () => {
      const input =
        c.id === 'compare'
          ? exampleSet()
          : c.id.startsWith('timeline-')
            ? exampleTimeline()
            : c.id === 'attention'
              ? attentionExample()
              : example();
      const spec = c.build(input, { interactive: true });
      await expect(golden(spec)).toMatchFileSnapshot(`./__snapshots__/report-charts/${c.id}.json`);
      for (const scale of ['log', 'linear'] as const) {
        const warnings: string[] = [];
        compileSpec(c.build(input, { scale }), { warnings });
        expect(warnings).toEqual([]);
      }
    });
  }

  it('every chart applies to the example (and compare only to the set)', () => {
    const runs = [example()];
    const timeline = CHARTS.filter((c) => c.id.startsWith('timeline-')).map((c) => c.id);
    // The examples have no attention layer; attentionExample has one.
    const noAtt = (ids: string[]) => ids.filter((id) => id !== 'attention');
    expect(noAtt(CHARTS.filter((c) => !c.applies(runs, runs[0])).map((c) => c.id))).toEqual([...timeline, 'compare']);
    expect(noAtt(CHARTS.filter((c) => !c.applies(exampleSet().runs, exampleSet())).map((c) => c.id))).toEqual(timeline);
    expect(noAtt(CHARTS.filter((c) => !c.applies(exampleTimeline().runs, exampleTimeline())).map((c) => c.id))).toEqual(
      ['compare'],
    );
    expect(CHARTS.find((c) => c.id === 'attention')!.applies(runs, runs[0])).toBe(false);
    expect(CHARTS.find((c) => c.id === 'attention')!.applies([attentionExample()])).toBe(true);
  });

  it('renders static SVG with marks and no interaction (no pointer in Node)', async () => {
    const warnings: string[] = [];
    const svg = await renderSVG(dhChart(example(), { interactive: false, layer: 'bidirectional_1/forward' }), {
      warnings,
    });
    expect(warnings).toEqual([]);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('bidirectional_1 · forward (GRU, 16 units, 60 steps)');
    expect(svg).toContain('horizon: 19 of 60 steps');
    expect((svg.match(/class="mark-line/g) ?? []).length).toBeGreaterThan(0);
    expect(JSON.stringify(dhChart(example(), { interactive: false }))).not.toContain('"select"');
  });
});

describe('chart data', () => {
  it('dh: one row per step and quantity per layer, horizon ends, selection follows the option', () => {
    const a = example();
    const spec = dhChart(a, { layer: 'bidirectional_1/backward' });
    const rows = datasets(spec).rows;
    expect(rows.filter((r) => r.key === '0|lstm_1')).toHaveLength(60 * 2); // h and c
    expect(rows.filter((r) => r.key === '0|bidirectional_1/forward')).toHaveLength(60);
    const r = rows.find((x) => x.key === '0|bidirectional_1/backward' && x.t === 7)!;
    expect(r.norm).toBe(r4(a.recurrent[2].dh.norm[7]));
    expect(r.p90).toBe(r4(a.recurrent[2].dh.p90[7]));
    const h = datasets(spec).horizon.find((x) => x.key === '0|bidirectional_1/backward')!;
    expect(h).toMatchObject({ lo: 0, hi: 31, to: 31 });
    expect(param(spec, 'sel')).toBe('0|bidirectional_1/backward');
    expect(param(dhChart(a), 'sel')).toBe('0|lstm_1');
    expect(param(dhChart(a, { layer: 'no-such-layer' }), 'sel')).toBe('0|lstm_1');
  });

  it('log scale drops values a log axis cannot draw; linear keeps zeros', () => {
    const log = JSON.stringify(dhChart(example(), { scale: 'log' }));
    const lin = JSON.stringify(dhChart(example(), { scale: 'linear' }));
    expect(log).toContain("datum['p50'] > 0");
    expect(lin).not.toContain("datum['p50'] > 0");
    expect(log).toContain('"type":"log"');
    expect(lin).not.toContain('"type":"log"');
  });

  it('histQuantile reads quantiles of |g| off the log10 histogram', () => {
    const h: Histogram = {
      edges: [-3, -2, -1, 0],
      counts: [10, 80, 10],
      zero: 5,
      underflow: 0,
      overflow: 0,
      nonFinite: 0,
    };
    expect(histQuantile(h, 0.05)).toBeCloseTo(10 ** -2.5);
    expect(histQuantile(h, 0.5)).toBeCloseTo(10 ** -1.5);
    expect(histQuantile(h, 0.95)).toBeCloseTo(10 ** -0.5);
    expect(histQuantile({ ...h, counts: [0, 0, 0] }, 0.5)).toBeNull();
    expect(histQuantile({ ...h, underflow: 100 }, 0.1)).toBe(10 ** -3);
  });

  it('param norms: one row per tensor in model order, selected layer highlighted by key', () => {
    const a = example();
    const rows = datasets(paramNormsChart(a)).rows;
    expect(rows.map((r) => r.tensor)).toEqual(a.params.map((p) => p.key));
    expect(rows.find((r) => r.tensor === 'bidirectional_1/forward/bias')!.lkey).toBe('0|bidirectional_1/forward');
    expect(rows.find((r) => r.tensor === 'dense_1/kernel')!.mean).toBe(r4(a.params[9].meanAbsGrad));
  });

  it('batches: thresholds at the same value share one labelled line; an empty-curve run still builds', () => {
    const a = example();
    // Ten batches: as many as the analysis takes percentiles from (MIN_CLIP_BATCHES).
    a.batches.norms = [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9];
    a.batches.sizes = a.batches.norms.map(() => 32);
    a.batches.clipping = [
      { threshold: 0.5, source: 'quantile', quantile: 0.5, fractionClipped: 0.5 },
      { threshold: 0.9, source: 'quantile', quantile: 0.9, fractionClipped: 0.125 },
    ];
    a.batches.suggestedClipnorm = 0.9;
    const clips = datasets(batchesChart(a)).clips;
    expect(clips.map((c) => c.label)).toEqual(['p50: 50% clipped', 'p90 = suggested: 13% clipped']);
    expect(clips[1].kind).toBe('suggested');
    a.batches.norms = [];
    expect(datasets(batchesChart(a)).rows).toEqual([]);
  });

  it('batches: no percentile lines from fewer batches than a clipnorm needs (a note says so); one batch: left out', () => {
    const a = example(); // 8 batches, with p50/p90/p99 and a suggestion from an older rnnscope
    const spec = batchesChart(a) as unknown as { params: { name: string; value: unknown }[] };
    expect(datasets(spec as never).clips).toEqual([]);
    const subs = spec.params.find((p) => p.name === 'subs')!.value as Record<string, string[]>;
    expect(subs['0']!.join(' ')).toContain('8 batches are too few (they need 10)');
    const batches = CHARTS.find((c) => c.id === 'batches')!;
    expect(batches.empty!(a, null, a)).toBeNull();
    a.batches.norms = [0.5];
    expect(batches.empty!(a, null, a)).toMatch(/^there is one batch \(all 256 samples\)/);
  });

  it('gates: left out for a SimpleRNN (no gates); a layer never saturated gets a line instead of flat lines', () => {
    const s = exampleSet();
    const gates = CHARTS.find((c) => c.id === 'gates')!;
    const rnn = s.runs[0]!;
    expect(gates.empty!(rnn, rnn.recurrent[0]!, s)).toMatch(/^a SimpleRNN has no gates/);
    const lstm = s.runs[2]!;
    expect(gates.empty!(lstm, lstm.recurrent[0]!, s)).toBeNull();
    for (const g of lstm.recurrent[0]!.gateStats) g.saturated = g.saturated.map(() => 0);
    const d = datasets(gatesChart(lstm));
    expect(d.never).toHaveLength(1);
    expect(d.rows.every((r) => r.sat === null)).toBe(true);
    expect(d.ends.map((e) => e.panel)).toEqual(['mean', 'mean', 'mean', 'mean']);
  });

  it('contributions: panels within a small part of the log axis at every step are drawn as one, with a note', () => {
    const a = example();
    const r = a.recurrent[0]!;
    expect(sameCourse(r)).toBeNull();
    // Every panel the first one times a factor within 1.5: the same course on an axis of many decades.
    const base = r.contributions[0]!.norm.map((_, t) => 10 ** (-t / 5));
    r.contributions.forEach((c, i) => (c.norm = base.map((v) => v * (1 + (i % 3) * 0.25))));
    const same = sameCourse(r)!;
    expect(same.factor).toBeCloseTo(1.5, 6);
    const spec = contributionsChart(a) as unknown as { params: { name: string; value: unknown }[] };
    const rows = datasets(spec as never).rows.filter((x) => x.key === '0|lstm_1');
    expect(new Set(rows.map((x) => `${x.gate}/${x.group}`))).toEqual(
      new Set([`all/all ${r.contributions.length} panels`]),
    );
    const subs = spec.params.find((p) => p.name === 'subs')!.value as Record<string, string[]>;
    expect(subs['0|lstm_1']!.join(' ')).toContain(`The ${r.contributions.length} panels`);
    expect(subs['0|lstm_1']!.join(' ')).toContain('within a factor of 1.5');
  });

  it('density: an all-equal block (a zero bias over a made-up axis) is not drawn, named in a note', () => {
    const a = example();
    const r = a.recurrent[0]!;
    const d = r.density[0]!;
    const nx = d.xEdges.length - 1;
    // As the analysis bins a block whose weights all equal 0: range widened to ±0.5, one occupied column.
    d.xEdges = Array.from({ length: nx + 1 }, (_, i) => -0.5 + i / nx);
    d.counts = d.counts.map((row) => row.map((_, i) => (i === Math.floor(nx / 2) ? 3 : 0)));
    expect(blockLeftOut(d)).toMatch(/^all \d+ weights of gate i · kernel \(input\) are 0$/);
    expect(blockLeftOut(r.density[1]!)).toBeNull();
    const spec = densityChart(a) as unknown as { params: { name: string; value: unknown }[] };
    expect(
      datasets(spec as never).rows.some(
        (x) => x.key === '0|lstm_1' && x.gate === 'gate i' && x.group === 'kernel (input)',
      ),
    ).toBe(false);
    const subs = spec.params.find((p) => p.name === 'subs')!.value as Record<string, string[]>;
    expect(subs['0|lstm_1']!.join(' ')).toContain('Not drawn: all');
    const density = CHARTS.find((c) => c.id === 'density')!;
    expect(density.empty!(a, r, a)).toBeNull();
    for (const b of r.density) {
      b.xEdges = d.xEdges;
      b.counts = d.counts;
    }
    expect(density.empty!(a, r, a)).toMatch(/^every weight block is constant/);
  });

  it('compare: each run normalised to its own peak, against input position (most recent on the right)', () => {
    const s = exampleSet();
    const spec = compareChart(s) as unknown as {
      concat: { layer: { encoding: { x: { field: string; title?: string }; text?: unknown } }[] }[];
    };
    const rows = datasets(spec as never).rows;
    for (let run = 0; run < s.runs.length; run++) {
      const mine = rows.filter((r) => r.run === run);
      expect(mine).toHaveLength(100);
      expect(Math.max(...mine.map((r) => r.v as number))).toBe(1);
      expect(mine.map((r) => r.t)).toEqual([...Array(100).keys()]);
      expect(mine[0]!.back).toBeUndefined();
    }
    expect(spec.concat[0]!.layer[0]!.encoding.x).toMatchObject({
      field: 't',
      title: 'input position t (most recent →)',
    });
    // Every line named at its left end, in place of a legend.
    expect(datasets(spec as never).ends.map((e) => e.series)).toEqual(s.runs.map(runLabelOf));
    const h = datasets(compareChart(s)).horizons;
    expect(h.map((x) => x.steps)).toEqual(s.runs.map((a) => a.recurrent[0].horizon.steps));
  });

  it("colour-blind-safe colours: every hue a chart names is Okabe–Ito's, its schemes viridis or inferno", () => {
    const hues: string[] = [];
    const schemes: string[] = [];
    const walk = (o: unknown, key = ''): void => {
      if (typeof o === 'string') {
        if (/^#[0-9a-f]{6}$/i.test(o)) hues.push(o);
        if (key === 'scheme') schemes.push(o);
      } else if (Array.isArray(o)) o.forEach((x) => walk(x, key));
      else if (o && typeof o === 'object') for (const [k, v] of Object.entries(o)) if (k !== 'datasets') walk(v, k);
    };
    for (const input of [example(), exampleSet(), exampleTimeline()])
      for (const c of CHARTS) if (c.applies(runsOf(input), input)) walk(c.build(input));
    // Greys, pale backgrounds (every channel ≥ 0xc0) and near-black shades (every channel ≤ 0x80) carry no hue a
    // reader must tell apart.
    const ch = (h: string) => [1, 3, 5].map((i) => Number.parseInt(h.slice(i, i + 2), 16));
    const neutral = (h: string) => {
      const [r, g, b] = ch(h) as [number, number, number];
      return Math.max(r, g, b) - Math.min(r, g, b) <= 30 || Math.min(r, g, b) >= 0xc0 || Math.max(r, g, b) <= 0x80;
    };
    const okabe = new Set(OKABE_ITO.map((h) => h.toLowerCase()));
    expect([...new Set(hues.map((h) => h.toLowerCase()))].filter((h) => !okabe.has(h) && !neutral(h))).toEqual([]);
    expect([...new Set(schemes)].filter((x) => x !== 'viridis' && x !== 'inferno')).toEqual([]);
  });

  it('text widths follow DejaVu Sans (not vega’s 0.8 em guess)', () => {
    expect(textWidth('iiii', 10, false)).toBeCloseTo(4 * 2.78, 5);
    expect(textWidth('MMMM', 10, false)).toBeCloseTo(4 * 8.63, 5);
    expect(textWidth('MMMM', 10, true)).toBeGreaterThan(textWidth('MMMM', 10, false));
  });
});
