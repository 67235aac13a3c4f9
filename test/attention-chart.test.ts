// The attention chart (src/report/charts/attention.ts) on a computed analysis: one row per step and
// path with the analysis's numbers, labelled directly, the other readers' line only when h has
// other readers, and it renders in Node without warnings.

import { describe, expect, it } from 'vitest';
import { attentionChart } from '../src/report/charts/attention.js';
import { r4 } from '../src/report/charts/common.js';
import { renderSVG } from '../src/report/render-node.js';
import { attentionExample } from './helpers/attention-example.js';

type Row = { q: string; t: number; p50: number | null; norm: number | null };
const rowsOf = (spec: object) => (spec as { datasets: { rows: Row[] } }).datasets.rows;

describe('attention chart', () => {
  const a = attentionExample();
  const ra = a.recurrent[0]!;

  it("draws each path's median and norm per input position, as the analysis holds them", () => {
    const rows = rowsOf(attentionChart(a, { interactive: false }));
    const series = {
      'through attention': ra.attention!.viaAttention,
      'through the recurrence': ra.attention!.viaRecurrence,
      'through other layers': ra.attention!.viaOther,
    };
    expect([...new Set(rows.map((r) => r.q))]).toEqual(Object.keys(series));
    for (const [q, s] of Object.entries(series))
      for (let t = 0; t < ra.steps; t++) {
        const row = rows.find((r) => r.q === q && r.t === t)!;
        expect([row.p50, row.norm]).toEqual([r4(s.p50[t]), r4(s.norm[t])]);
      }
  });

  it('leaves out the other readers when attention is the only one', () => {
    const zero = ra.attention!.viaOther.norm.map(() => 0);
    const only = {
      ...a,
      recurrent: [
        { ...ra, attention: { ...ra.attention!, viaOther: { norm: zero, p10: zero, p50: zero, p90: zero } } },
      ],
    };
    expect(new Set(rowsOf(attentionChart(only)).map((r) => r.q))).toEqual(
      new Set(['through attention', 'through the recurrence']),
    );
  });

  it('renders with its direct labels and no warnings', async () => {
    const warnings: string[] = [];
    const svg = await renderSVG(attentionChart(a, { interactive: false }), { warnings });
    expect(warnings).toEqual([]);
    for (const label of ['through attention', 'through the recurrence', 'through other layers'])
      expect(svg).toContain(label);
  });
});
