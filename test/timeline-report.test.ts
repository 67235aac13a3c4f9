// The timeline in the report: what each timeline chart carries (against the timeline's own
// numbers), static rendering without warnings, the "Over training" panel, the live page's extra
// script and Content-Security-Policy, and the terminal summary.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AnalysisSet } from '../src/analysis/schema.js';
import { chartDef } from '../src/report/charts/index.js';
import { r4 } from '../src/report/charts/common.js';
import { intervalText } from '../src/report/charts/timeline-common.js';
import { reportHtml } from '../src/report/html.js';
import { renderSVG } from '../src/report/render-node.js';
import { summaryText } from '../src/report/summary.js';
import { LIVE_SCRIPT, waitingPage } from '../src/report/timeline-page.js';

const set = (): AnalysisSet =>
  JSON.parse(readFileSync(new URL('./fixtures/analysis/example-timeline.json', import.meta.url), 'utf8'));
type Rows = Record<string, unknown>[];
const data = (spec: object) => (spec as { datasets: Record<string, Rows> }).datasets;
const build = (id: string, s: AnalysisSet) => chartDef(id as never)!.build(s, { interactive: false });

describe("timeline charts carry the timeline's numbers", () => {
  const s = set(),
    t = s.timeline!;

  it('fixture: six checkpoints, the last diverged', () => {
    expect(t.points.map((p) => p.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(t.points.map((p) => p.nonFiniteWeights)).toEqual([0, 0, 0, 0, 0, 1]);
  });

  it('heatmap: one cell per step bin with a value, the horizon of each finite checkpoint, the diverged row', () => {
    const d = data(build('timeline-heatmap', s));
    const nonNull = t.points.reduce((n, p) => n + p.layers[0]!.relLog10.filter((v) => v !== null).length, 0);
    expect(d.cells).toHaveLength(nonNull);
    const c = d.cells!.find((r) => r.x === 3 && r.t0 === 7)!;
    expect(c.v).toBe(t.points[2]!.layers[0]!.relLog10[7]);
    expect(d.horizon!.map((r) => r.steps)).toEqual(
      t.points.filter((p) => p.layers[0]!.horizon.steps !== null).map((p) => p.layers[0]!.horizon.steps),
    );
    expect(d.diverged!.map((r) => r.x)).toEqual([6]);
  });

  it('scalars: loss and global gradient norm per checkpoint; horizons only where weights are finite', () => {
    const d = data(build('timeline-scalars', s));
    expect(d.points!.map((r) => r.loss)).toEqual(t.points.map((p) => r4(p.loss)));
    expect(d.points!.map((r) => r.norm)).toEqual(t.points.map((p) => r4(p.gradNorm)));
    expect(d.horizons).toHaveLength(5);
  });

  it('gates: share, mean and saturation of every gate at every finite checkpoint', () => {
    const rows = data(build('timeline-gates', s)).rows!;
    expect(rows).toHaveLength(5 * 4);
    const f3 = rows.find((r) => r.x === 3 && r.gate === 'f')!;
    const g = t.points[2]!.layers[0]!.gates.find((x) => x.gate === 'f')!;
    expect([f3.share, f3.mean, f3.sat]).toEqual([r4(g.share), r4(g.mean), r4(g.saturated)]);
  });

  it('update ratios: gate × group per interval, and the interval is stated', () => {
    const spec = build('timeline-updates', s);
    const rows = data(spec).rows!;
    expect(rows.every((r) => (r.ratio as number) > 0 || r.ratio === null)).toBe(true);
    expect(new Set(rows.map((r) => r.x))).toEqual(new Set([2, 3, 4, 5, 6]));
    const u = t.points[3]!.updates.ratios.find((x) => x.gate === 'c' && x.group === 'recurrent_kernel')!;
    expect(rows.find((r) => r.x === 4 && r.gate === 'c' && r.group === 'recurrent_kernel')!.ratio).toBe(r4(u.ratio));
    expect(intervalText(t)).toBe('between consecutive checkpoints, 1 epoch apart');
    expect(JSON.stringify(spec)).toContain('Measured between consecutive checkpoints, 1 epoch apart.');
  });

  it('bands: nine percentiles of log10|g| per trainable tensor and checkpoint, nested', () => {
    const rows = data(build('timeline-bands', s)).rows!;
    const r = rows.find((x) => x.x === 2 && x.key === 'lstm/kernel')!;
    const b = t.points[1]!.bands.find((x) => x.key === 'lstm/kernel')!;
    expect(Array.from({ length: 9 }, (_, i) => r[`q${i}`])).toEqual(b.values);
    for (const x of rows)
      for (let i = 1; i < 9; i++) expect(x[`q${i}`] as number).toBeGreaterThanOrEqual(x[`q${i - 1}`] as number);
  });

  for (const id of ['timeline-heatmap', 'timeline-scalars', 'timeline-gates', 'timeline-updates', 'timeline-bands']) {
    it(`${id} renders to SVG without a Vega warning`, async () => {
      const warnings: string[] = [];
      const svg = await renderSVG(build(id, s), { warnings });
      expect(warnings).toEqual([]);
      expect(svg.startsWith('<svg')).toBe(true);
    });
  }
});

describe('the page and the terminal', () => {
  it('leads with "Over training": the horizon per layer, the findings over time; the checkpoint\'s own diagnosis is folded', () => {
    const html = reportHtml(set(), { bundles: [] });
    const over = html.indexOf('<h2>Over training</h2>'),
      diag = html.indexOf('<section id="diagnosis"'),
      heat = html.indexOf('id="chart-timeline-heatmap"');
    expect(over).toBeGreaterThan(0);
    expect(over).toBeLessThan(diag);
    expect(diag).toBeLessThan(heat);
    expect(html).toContain('<details class="run-diagnosis">');
    expect(html).toContain('Training diverged: epoch 6 holds 1 NaN/Inf weight value(s) (in lstm/recurrent_kernel)');
    expect(html).toMatch(
      /How far back the gradient reaches \(horizon: steps within 1\/100 of the peak\), epoch 1 → epoch 5: <span class="reach"><b>lstm<\/b> \d+ → \d+ of 20 steps/,
    );
  });

  it('a live page adds its update script and may connect only to its own server; the snapshot may not connect at all', () => {
    const live = reportHtml(set(), { bundles: [], live: { status: 'live', version: 3 } });
    const still = reportHtml(set(), { bundles: [] });
    expect(live).toContain('id="rnnscope-live-script"');
    expect(live).toContain(LIVE_SCRIPT.slice(0, 200));
    expect(live).toContain('data-version="3"');
    expect(live).toContain('connect-src &#39;self&#39;');
    expect(still).not.toContain('rnnscope-live-script');
    expect(still).not.toContain('connect-src');
    expect(waitingPage('ckpt')).toContain('connect-src &#39;self&#39;');
  });

  it('summary: the horizon per layer, the findings over time, then the latest checkpoint', () => {
    const text = summaryText(set());
    expect(
      text.startsWith(
        'Training timeline of adding_lstm: 6 checkpoints, epoch 1 to epoch 6\nHorizon (steps within 1/100 of the peak of ‖∂L/∂h_t‖), epoch 1 → epoch 5:\n  lstm  ',
      ),
    ).toBe(true);
    expect(text).toContain('Over training:\n  ERROR   Training diverged: epoch 6');
    expect(text).toContain('\nepoch06.keras\nModel adding_lstm');
  });
});

describe('reading a timeline back (rnnscope report)', () => {
  it('accepts the fixture and names the first bad timeline field', async () => {
    const { validateReportInput } = await import('../src/analysis/validate.js');
    expect(() => validateReportInput(set())).not.toThrow();
    const bad = set();
    bad.timeline!.points[2]!.layers[0]!.relLog10.pop();
    expect(() => validateReportInput(bad)).toThrow(
      "Analysis JSON field '$.timeline.points[2].layers[0].relLog10' is an array of length 19; expected an array of length 20",
    );
    const loop = set();
    loop.timeline!.points[1]!.updates.from = 3;
    expect(() => validateReportInput(loop)).toThrow(
      "'$.timeline.points[1].updates.from' is the number 3; expected the index of an earlier point (< 1) or null",
    );
    const markup = set();
    (markup.timeline!.points[0] as unknown as { loss: unknown }).loss = '<script>';
    expect(() => validateReportInput(markup)).toThrow("'$.timeline.points[0].loss'");
  });
});
