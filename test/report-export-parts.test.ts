// The pieces of the chart exports, each against an independent oracle: the PNG encoder against
// numpy/zlib's reading of it and resvg's, the rasterised heatmap against resvg's drawing of the
// vector cells, the contrast ratio against WCAG's published reference pairs, the power-of-ten labels
// against the numbers they stand for, and the file names against the rules in docs/outputs.md.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { afterAll, describe, expect, it } from 'vitest';
import type { Analysis } from '../src/analysis/schema.js';
import { heatmapChart } from '../src/report/charts/heatmap.js';
import { CHARTS } from '../src/report/charts/index.js';
import { contrastRatio, ensureTextContrast, textColors } from '../src/report/contrast.js';
import { planExports, safeName } from '../src/report/export-names.js';
import { base64, encodePNG, parseColor, rasterizeRectMarks } from '../src/report/raster.js';
import { exportChart, renderSVG } from '../src/report/render-node.js';
import { hasPython, PYTHON } from './helpers/cli-run.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'rnnscope-export-parts-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const example = (): Analysis =>
  JSON.parse(readFileSync(new URL('./fixtures/analysis/example.json', import.meta.url), 'utf8'));

/** Random bytes from a fixed seed (xorshift32). */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 255;
  }
  return out;
}

/** resvg's pixels (RGBA) of an SVG holding only `png` at its own size. */
function resvgDecode(png: Uint8Array, w: number, h: number): Uint8Array {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${w}" height="${h}">` +
    `<image width="${w}" height="${h}" image-rendering="optimizeSpeed" xlink:href="data:image/png;base64,${base64(png)}"/></svg>`;
  return new Resvg(svg).render().pixels;
}

describe('PNG encoder', () => {
  it('opaque pixels read back exactly by resvg (blocks, gradients and noise, so every filter is used)', () => {
    const w = 37,
      h = 23;
    const rgba = new Uint8Array(w * h * 4);
    const noise = bytes(w * h * 4, 7);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const k = (y * w + x) * 4;
        const v = y < 8 ? (x >> 3) * 40 : y < 16 ? x * 6 + y : noise[k]!;
        rgba.set([v & 255, (v * 3) & 255, 255 - (v & 255), 255], k);
      }
    const png = encodePNG(rgba, w, h);
    expect([...resvgDecode(png, w, h)]).toEqual([...rgba]);
  });

  it.skipIf(!hasPython())('RGBA with alpha read back exactly by numpy + zlib (an independent decoder)', () => {
    const w = 19,
      h = 11;
    const rgba = bytes(w * h * 4, 42);
    const file = path.join(tmp, 'a.png');
    writeFileSync(file, encodePNG(rgba, w, h));
    // A PNG reader in numpy: chunks, zlib, and the five scanline filters of the PNG specification.
    const py = `
import sys, struct, zlib, numpy as np
b = open(sys.argv[1], 'rb').read()
assert b[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
i, idat = 8, b''
while i < len(b):
    n, t = struct.unpack('>I4s', b[i:i+8]); d = b[i+8:i+8+n]
    assert zlib.crc32(b[i+4:i+8+n]) & 0xffffffff == struct.unpack('>I', b[i+8+n:i+12+n])[0]
    if t == b'IHDR': W, H, depth, ct = struct.unpack('>IIBB', d[:10])
    if t == b'IDAT': idat += d
    i += 12 + n
bpp = {2: 3, 6: 4}[ct]; raw = zlib.decompress(idat); s = W * bpp
out = np.zeros((H, s), np.int64); prev = np.zeros(s, np.int64)
for y in range(H):
    f = raw[y*(s+1)]; r = np.frombuffer(raw[y*(s+1)+1:(y+1)*(s+1)], np.uint8).astype(np.int64); cur = np.zeros(s, np.int64)
    for x in range(s):
        a = cur[x-bpp] if x >= bpp else 0; c = prev[x-bpp] if x >= bpp else 0; up = prev[x]
        p = a + up - c; pa, pb, pc = abs(p-a), abs(p-up), abs(p-c)
        pr = a if pa <= pb and pa <= pc else (up if pb <= pc else c)
        cur[x] = (r[x] + [0, a, up, (a + up) // 2, pr][f]) & 255
    out[y] = cur; prev = cur
sys.stdout.write(' '.join(map(str, [W, H, ct] + out.reshape(-1).tolist())))
`;
    const r = spawnSync(PYTHON, ['-c', py, file], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const [W, H, ct, ...px] = r.stdout.split(' ').map(Number);
    expect([W, H, ct]).toEqual([w, h, 6]);
    expect(px).toEqual([...rgba]);
  });
});

describe('heatmap cells as one image', () => {
  it('resvg draws the rasterised heatmap like the vector one: the same pixels away from cell edges', async () => {
    const svg = await renderSVG(heatmapChart(example(), { interactive: false }));
    const r = rasterizeRectMarks(svg);
    expect(r.replaced.length).toBeGreaterThanOrEqual(1);
    expect(r.svg.length).toBeLessThan(svg.length / 5);
    const draw = (s: string) => new Resvg(s, { background: 'white', fitTo: { mode: 'zoom', value: 2 } }).render();
    const ra = draw(svg),
      rb = draw(r.svg);
    expect([rb.width, rb.height]).toEqual([ra.width, ra.height]);
    // resvg's `pixels` copies the image at each read: read once.
    const a = { pixels: ra.pixels },
      b = { pixels: rb.pixels };
    // Pixels differ only where anti-aliasing blends neighbouring vector cells: on their edges. A pixel is
    // inside a cell when its four neighbours in the vector drawing have its colour.
    const W = ra.width,
      H = ra.height;
    const diff = (p: Uint8Array, q: Uint8Array, i: number, j: number) =>
      Math.max(Math.abs(p[i]! - q[j]!), Math.abs(p[i + 1]! - q[j + 1]!), Math.abs(p[i + 2]! - q[j + 2]!));
    let inside = 0,
      insideSame = 0,
      far = 0;
    for (let y = 1; y < H - 1; y++)
      for (let x = 1; x < W - 1; x++) {
        const k = (y * W + x) * 4;
        const d = diff(a.pixels, b.pixels, k, k);
        if (d > 64) far++;
        if ([-4, 4, -4 * W, 4 * W].every((o) => diff(a.pixels, a.pixels, k, k + o) <= 2)) {
          inside++;
          if (d <= 2) insideSame++;
        }
      }
    expect(inside / (W * H)).toBeGreaterThan(0.8);
    expect(insideSame / inside).toBeGreaterThan(0.999);
    expect(far / (W * H)).toBeLessThan(0.01);
  });

  it('bars (different sizes) and small marks stay vector', async () => {
    const bars = Array.from({ length: 40 }, (_, i) => `<path d="M${i * 5},${100 - i}h4v${i}h-4Z" fill="#336699"/>`);
    const svg = `<svg><g class="mark-rect role-mark bars" role="graphics-object">${bars.join('')}</g></svg>`;
    expect(rasterizeRectMarks(svg).replaced).toEqual([]);
    const cells = Array.from(
      { length: 16 },
      (_, i) => `<path d="M${(i % 4) * 5},${(i >> 2) * 5}h5v5h-5Z" fill="red"/>`,
    );
    expect(rasterizeRectMarks(`<svg><g class="mark-rect role-mark c">${cells.join('')}</g></svg>`).replaced).toEqual(
      [],
    );
  });
});

describe('contrast', () => {
  it('matches WCAG reference ratios', () => {
    const c = (s: string) => parseColor(s)!;
    expect(contrastRatio(c('#000'), c('#fff'))).toBeCloseTo(21, 6);
    expect(contrastRatio(c('#fff'), c('#fff'))).toBeCloseTo(1, 6);
    // WebAIM's contrast checker: #767676 on white 4.54:1, #777777 4.48:1, #0000ff 8.59:1.
    expect(contrastRatio(c('#767676'), c('#fff'))).toBeCloseTo(4.54, 2);
    expect(contrastRatio(c('#777777'), c('#fff'))).toBeCloseTo(4.48, 2);
    expect(contrastRatio(c('#0000ff'), c('#fff'))).toBeCloseTo(8.59, 2);
  });

  it('darkens text below 4.5:1 to at least 4.5:1, keeping its hue; leaves the rest', () => {
    const svg =
      '<svg><rect width="10" height="10" fill="white"/>' +
      '<text fill="#e07b00" opacity="1">orange</text><text fill="#8a8a8a">grey</text>' +
      '<text fill="#000" opacity="0.5">faded</text><text fill="#555">ok</text></svg>';
    const r = ensureTextContrast(svg);
    const after = textColors(r.svg);
    expect(after.map((t) => t.text)).toEqual(['orange', 'grey', 'faded', 'ok']);
    for (const t of after) expect(t.ratio).toBeGreaterThanOrEqual(4.5);
    expect(after[3]!.fill).toBe('#555');
    // Hue kept: the orange stays orange (red > green > blue, in the same proportions within rounding).
    const o = parseColor(after[0]!.fill)!;
    expect(o.r / o.g).toBeCloseTo(0xe0 / 0x7b, 1);
    expect(o.b).toBe(0);
    // As light as allowed: one step lighter would fall below 4.5.
    expect(after[0]!.ratio).toBeLessThan(4.6);
    expect(r.changed.map((c) => c.from)).toEqual(['#e07b00', '#8a8a8a', '#000']);
  });

  it('exportChart: every drawn text of every chart of the example has at least 4.5:1', async () => {
    const a = example();
    for (const c of CHARTS.filter((c) => c.applies([a], a))) {
      const img = await exportChart(c.build(a, { interactive: false }), { noPng: true });
      for (const t of textColors(img.svg)) expect(t.ratio, `${c.id}: ${t.text}`).toBeGreaterThanOrEqual(4.5);
    }
  });
});

describe('power-of-ten labels', () => {
  it('axis and legend labels in exponent notation become 10ⁿ / m×10ⁿ, equal to the numbers they label', async () => {
    const spec = {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      data: { values: [1e-14, 3e-9, 2e-3, 5, 4e3].map((v, i) => ({ i, v })) },
      mark: 'point',
      encoding: {
        x: { field: 'i', type: 'quantitative' },
        y: { field: 'v', type: 'quantitative', scale: { type: 'log' }, axis: { format: '.0e' } },
        color: { field: 'v', type: 'quantitative', scale: { type: 'log' }, legend: { format: '.0e' } },
      },
    };
    const { svg } = await exportChart(spec as never, { noPng: true });
    const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
    const sup = '⁰¹²³⁴⁵⁶⁷⁸⁹';
    const pow = texts.filter((t) => /^(\d(\.\d+)?×)?10⁻?[⁰¹²³⁴⁵⁶⁷⁸⁹]+$/.test(t));
    expect(pow.length).toBeGreaterThanOrEqual(8);
    for (const t of pow) {
      const [, m, e] = /^(?:(.+)×)?10(.+)$/.exec(t)!;
      const exp = Number([...e!].map((ch) => (ch === '⁻' ? '-' : String(sup.indexOf(ch)))).join(''));
      const value = Number(m ?? 1) * 10 ** exp;
      expect(value).toBeGreaterThanOrEqual(1e-15);
      expect(value).toBeLessThanOrEqual(1e5);
      expect(Number.isInteger(Math.log10(value / Number(m ?? 1)))).toBe(true);
    }
    expect(pow).toContain('10⁻¹⁴');
    expect(texts.filter((t) => /\de[-+]?\d/.test(t))).toEqual([]);
  });
});

describe('file names', () => {
  it('free text becomes lower-case ASCII without accents, reserved device names and edge dots', () => {
    expect(safeName('Modèle LSTM: épreuve/1', 'x')).toBe('modele-lstm-epreuve-1');
    expect(safeName('..hidden..', 'x')).toBe('hidden');
    expect(safeName('CON', 'x')).toBe('con_');
    expect(safeName('∂∂∂', 'fallback')).toBe('fallback');
    expect(safeName('a'.repeat(100), 'x')).toBe('a'.repeat(60));
  });

  it("a chart's own test for nothing to show (the registry's `empty`) leaves it out with its reason", () => {
    const a = example();
    const gates = CHARTS.find((c) => c.id === 'gates')!;
    const empty = (_a: Analysis, r: { id: string } | null) => (r?.id === 'lstm_1' ? 'no gate is ever saturated' : null);
    const charts = CHARTS.map((c) => (c === gates ? { ...c, empty } : c));
    const { jobs, skipped } = planExports(a, charts);
    expect(jobs.filter((j) => j.chart === 'gates').map((j) => j.layer)).toEqual([
      'bidirectional_1/forward',
      'bidirectional_1/backward',
    ]);
    expect(
      skipped.filter((x) => x.chart === 'gates').map(({ chart, layer, reason }) => ({ chart, layer, reason })),
    ).toEqual([{ chart: 'gates', layer: 'lstm_1', reason: 'no gate is ever saturated' }]);
  });

  it('layers and runs that would share a name, even only in case, get -2; folders never end in .svg', () => {
    const a = example();
    const r0 = a.recurrent[0]!;
    const twin = (id: string, layer: string) => ({ ...r0, id, layer, direction: null });
    a.recurrent = [twin('LSTM', 'LSTM'), twin('lstm', 'lstm'), twin('l/stm', 'l stm')];
    const one = planExports(a, CHARTS);
    const dh = one.jobs.filter((j) => j.chart === 'dh').map((j) => j.path);
    expect(dh).toEqual(['charts/lstm-dh', 'charts/lstm-2-dh', 'charts/l-stm-dh']);
    const b = { ...example(), run: { ...example().run, label: 'Run.svg', group: null } };
    const set = { schema: 'rnnscope.analysis-set/1', runs: [b, b] } as never;
    const folders = new Set(planExports(set, CHARTS).jobs.map((j) => j.path.split('/').slice(0, -1).join('/')));
    expect([...folders].sort()).toEqual(['charts', 'charts/run.svg_', 'charts/run.svg_-2']);
  });
});
