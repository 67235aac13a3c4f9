// The page's packed values (packed.ts) and the drill-down data (drilldown-data.ts), in Node: a packed value
// comes back exactly, small values stay as they are, and the drill-down holds each sample's numbers row-major
// under the layer selector's keys, or one line saying why a run has none.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Analysis, SampleView } from '../src/analysis/schema.js';
import { drillData } from '../src/report/drilldown-data.js';
import { isPacked, pack, packIfLarge, unpack } from '../src/report/packed.js';

const fixture = (): Analysis =>
  JSON.parse(readFileSync(new URL('./fixtures/analysis/example.json', import.meta.url), 'utf8'));

describe('packed values', () => {
  it('come back exactly (numbers, nulls, text), and shorter than their JSON when large', () => {
    const value = {
      v: Array.from({ length: 5000 }, (_, i) => (i % 7 === 0 ? null : Number(Math.sin(i).toPrecision(4)))),
    };
    const p = pack(value);
    expect(isPacked(p)).toBe(true);
    expect(unpack(p)).toEqual(value);
    expect(p.z.length).toBeLessThan(JSON.stringify(value).length / 2);
    expect(unpack(pack('a "quoted" </script> text ✓'))).toBe('a "quoted" </script> text ✓');
  });

  it('packIfLarge leaves small values, and values that would not get shorter, as they are', () => {
    expect(packIfLarge([1, 2, 3])).toEqual([1, 2, 3]);
    const big = Array.from({ length: 3000 }, (_, i) => i % 3);
    expect(isPacked(packIfLarge(big))).toBe(true);
    // Random CJK text: three UTF-8 bytes a character, so its base64 is longer than its JSON.
    let x = 12345;
    const noise = Array.from({ length: 3000 }, () => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return String.fromCharCode(0x4e00 + (x % 0x5000));
    }).join('');
    expect(packIfLarge(noise)).toBe(noise);
  });
});

describe('drill-down data', () => {
  it('an analysis without samples: one line saying why', () => {
    const d = drillData([fixture()]);
    expect(d.runs).toEqual({});
    expect(d.reasons[0]).toMatch(/^No sample to show: this analysis was written without per-sample data/);
  });

  it('samples flattened row-major under the layer keys; runs without samples point to those with', () => {
    const a = fixture();
    const r = a.recurrent[0]!;
    const s: SampleView = {
      role: 'worst',
      index: 3,
      loss: 0.5,
      steps: [0, 1, 2],
      x: [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      dx: [
        [0.1, 0.2],
        [0.3, 0.4],
        [0.5, 0.6],
      ],
      layers: [
        {
          id: r.id,
          steps: [0, 1, 2],
          units: [0, 5],
          h: [
            [1, 2],
            [3, 4],
            [null, null],
          ],
          gates: [
            {
              gate: r.gates[0]!,
              values: [
                [0.1, 0.2],
                [0.3, 0.4],
                [0.5, 0.6],
              ],
            },
          ],
          connectivity: null,
        },
      ],
    };
    const other = { ...fixture(), run: { label: 'before', group: null, index: 1 } };
    const d = drillData([{ ...a, samples: [s] }, other]);
    const [ds] = d.runs[0]!;
    expect(ds!.features).toBe(2);
    expect(ds!.x).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ds!.dx).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
    const l = ds!.layers[0]!;
    expect(l.key).toBe(`0|${r.id}`);
    expect(l.kind).toBe(r.kind);
    expect(l.h).toEqual([1, 2, 3, 4, null, null]);
    expect(l.gates[0]).toEqual({
      gate: r.gates[0],
      act: r.gateStats.find((g) => g.gate === r.gates[0])?.activation ?? null,
      v: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
    });
    expect(l.conn).toBeNull();
    expect(d.runs[1]).toBeUndefined();
    expect(d.reasons[1]).toMatch(/^No sample to show for this run: samples were recorded for .* only; choose it/);
  });
});
