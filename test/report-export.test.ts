// The report's chart images as a user gets them: `rnnscope analyze … --out DIR` and `rnnscope report …
// --out DIR` run as child processes (node bin/rnnscope.js) on a corpus model with numpy-written data
// (the ECG BiLSTM autoencoder, test/fixtures/userdata/ecg) and on the analysis fixtures (six runs; a
// training timeline). Checked from the files alone: every run and every layer/direction has its
// images under the names docs/outputs.md gives (derived here from analysis.json), the index and the
// manifest agree with the disk, heatmaps are one embedded PNG, log ticks read 10⁻ⁿ, every text has
// WCAG AA contrast (computed here from the SVG's fill colours with WCAG's formula), and a chart with
// nothing to show is left out with its reason.

import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Analysis, AnalysisSet } from '../src/analysis/schema.js';
import { CORPUS, ROOT, USERDATA, rnnscope, type CliResult } from './helpers/cli-run.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'rnnscope-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const FIX = path.join(ROOT, 'test', 'fixtures', 'analysis');
const ECG = path.join(CORPUS, 'w_chen_ecg_bilstm_autoencoder');

const LAYER_CHARTS = ['dh', 'jacobian', 'contributions', 'heatmap', 'gates', 'dx', 'density'];
const RUN_CHARTS = ['param-norms', 'histograms', 'batches'];

function expectOk(r: CliResult, what: string): void {
  expect(r.stderr, `${what}: stderr`).not.toMatch(/error:|bug in rnnscope/);
  expect(r.code, `${what} exited ${r.code}: ${r.stderr}`).toBe(0);
}

/** Every file under `dir`, relative, with '/' separators. */
function files(dir: string, rel = ''): string[] {
  return readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(dir, path.posix.join(rel, e.name)) : [path.posix.join(rel, e.name)],
  );
}

/** The name part docs/outputs.md describes, written out independently of src/report/export-names.ts. */
const part = (s: string) => s.toLowerCase().replace(/[^a-z0-9._]+/g, '-');

/** Whether the analysis holds the data a chart draws (docs/analysis-schema.md). */
function hasData(a: Analysis, r: Analysis['recurrent'][number] | null, chart: string): boolean {
  switch (chart) {
    case 'jacobian':
      return r!.jacobian !== null;
    case 'contributions':
      return r!.contributions.length > 0;
    case 'gates':
      // A SimpleRNN has one activation and no gates: its gate chart is left out.
      return r!.gateStats.length > 0 && r!.kind !== 'SimpleRNN';
    case 'density':
      return r!.density.length > 0;
    case 'param-norms':
    case 'histograms':
      return a.params.length > 0;
    case 'batches':
      return a.batches.norms.length > 0;
    default:
      return true;
  }
}

interface Out {
  dir: string;
  r: CliResult;
}
const out: Record<'ecg' | 'set' | 'skip' | 'timeline', Out> = {} as never;

beforeAll(async () => {
  // One recurrent entry of example.json without a Jacobian, contributions or densities: three charts with nothing
  // to show for that layer.
  const ex = JSON.parse(readFileSync(path.join(FIX, 'example.json'), 'utf8')) as Analysis;
  const back = ex.recurrent.find((r) => r.id === 'bidirectional_1/backward')!;
  back.jacobian = null;
  back.contributions = [];
  back.density = [];
  writeFileSync(path.join(tmp, 'skip.json'), JSON.stringify(ex));
  const run = async (key: keyof typeof out, args: string[]) => {
    const dir = path.join(tmp, key);
    out[key] = { dir, r: await rnnscope([...args, '--out', dir]) };
  };
  await Promise.all([
    run('ecg', [
      'analyze',
      path.join(ECG, 'bidirectional-lstm-auto-encoder-architecture.json'),
      '--weights',
      path.join(ECG, 'bidirectional-lstm-auto-encoder-weights.h5'),
      '--data',
      path.join(USERDATA, 'ecg', 'x.npy'),
      '--targets',
      path.join(USERDATA, 'ecg', 'y.npy'),
      '--max-samples',
      '4',
      '--batch-size',
      '2',
    ]),
    run('set', ['report', path.join(FIX, 'example-set.json')]),
    run('skip', ['report', path.join(tmp, 'skip.json')]),
    run('timeline', ['report', path.join(FIX, 'example-timeline.json')]),
  ]);
}, 900_000);

const json = (f: string) => JSON.parse(readFileSync(f, 'utf8'));
const svgsOf = (o: Out) => files(path.join(o.dir, 'charts')).filter((f) => f.endsWith('.svg'));

describe('every run and every layer/direction, under descriptive names', () => {
  it('one model (ECG BiLSTM): <layer>-<direction>-<chart> for both directions, the model charts by id', () => {
    expectOk(out.ecg.r, 'analyze ecg');
    const a = json(path.join(out.ecg.dir, 'analysis.json')) as Analysis;
    expect(a.recurrent.map((r) => r.id)).toEqual(['bidirectional_1/forward', 'bidirectional_1/backward']);
    const expected = [
      ...a.recurrent.flatMap((r) => LAYER_CHARTS.map((c) => `${part(r.layer)}-${r.direction}-${c}`)),
      ...RUN_CHARTS,
    ].flatMap((n) => [`${n}.svg`, `${n}.png`]);
    expect(files(path.join(out.ecg.dir, 'charts')).sort()).toEqual([...expected, 'index.json'].sort());
    expect(out.ecg.r.stderr).toContain(`Wrote 17 charts (SVG and PNG) under ${out.ecg.dir}/charts`);
  });

  it('six runs: a folder per run named after its label, each with every chart of its layer', () => {
    expectOk(out.set.r, 'report set');
    const set = json(path.join(FIX, 'example-set.json')) as AnalysisSet;
    const got = files(path.join(out.set.dir, 'charts'));
    const expected = ['compare.svg', 'compare.png', 'index.json'];
    for (const a of set.runs) {
      // "SimpleRNN" + "before training" → simplernn-before-training
      const folder = part(`${a.run.group} ${a.run.label}`);
      for (const r of a.recurrent)
        for (const c of LAYER_CHARTS.filter((c) => hasData(a, r, c)))
          expected.push(`${folder}/${part(r.layer)}-${c}.svg`, `${folder}/${part(r.layer)}-${c}.png`);
      for (const c of RUN_CHARTS.filter((c) => hasData(a, null, c)))
        expected.push(`${folder}/${c}.svg`, `${folder}/${c}.png`);
    }
    expect(got.sort()).toEqual(expected.sort());
    expect(new Set(got.map((f) => f.split('/')[0])).size).toBe(set.runs.length + 3);
  });

  it('a training timeline: the timeline charts per layer, the whole-timeline charts by id', () => {
    expectOk(out.timeline.r, 'report timeline');
    const got = files(path.join(out.timeline.dir, 'charts')).filter((f) => f.endsWith('.svg'));
    for (const n of ['lstm-timeline-heatmap', 'lstm-timeline-gates', 'lstm-timeline-updates', 'timeline-scalars'])
      expect(got, got.join(' ')).toContain(`${n}.svg`);
    expect(got).toContain('lstm-dh.svg');
  });

  it('names are lower-case ASCII, unique without regard to case, and the index and the manifest match the disk', () => {
    for (const o of Object.values(out)) {
      const rel = files(path.join(o.dir, 'charts'));
      for (const f of rel) expect(f).toMatch(/^([a-z0-9._-]+\/)?[a-z0-9._-]+\.(svg|png|json)$/);
      expect(new Set(rel.map((f) => f.toLowerCase())).size).toBe(rel.length);
      const index = json(path.join(o.dir, 'charts', 'index.json')) as { charts: { svg: string; png: string }[] };
      expect(index.charts.flatMap((c) => [c.svg, c.png]).sort()).toEqual(
        rel
          .filter((f) => f !== 'index.json')
          .map((f) => `charts/${f}`)
          .sort(),
      );
      const manifest = json(path.join(o.dir, '.rnnscope-manifest.json')) as {
        files: Record<string, { size: number; sha256: string }>;
      };
      for (const f of rel) {
        const bytes = readFileSync(path.join(o.dir, 'charts', f));
        expect(manifest.files[`charts/${f}`], f).toEqual({
          size: bytes.length,
          sha256: createHash('sha256').update(bytes).digest('hex'),
        });
      }
    }
  });
});

describe('what the images hold', () => {
  it('the heatmap SVG embeds its cells as one PNG; axes and text stay vector (measured sizes)', () => {
    const sizes: Record<string, number> = {};
    for (const dir of ['forward', 'backward']) {
      const f = path.join(out.ecg.dir, 'charts', `bidirectional_1-${dir}-heatmap.svg`);
      const svg = readFileSync(f, 'utf8');
      sizes[dir] = statSync(f).size;
      const images = svg.match(/<image [^>]*xlink:href="data:image\/png;base64,[A-Za-z0-9+/=]+"/g) ?? [];
      expect(images.length).toBe(1);
      // No cell is left as a vector path: the ECG layer has 64 units × 210 steps (binned to 105 columns).
      expect((svg.match(/aria-roledescription="rect mark"/g) ?? []).length).toBeLessThan(10);
      expect(svg).toMatch(/<text[^>]*>step t<\/text>/);
      expect(svg).toMatch(/<text[^>]*>unit<\/text>/);
      const png = Buffer.from(/base64,([^"]+)"/.exec(images[0]!)![1]!, 'base64');
      expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
    }
    // Measured 2026-12-02 with these arguments: forward 52.3 KB, backward 49.4 KB (Vega's vector SVG of the
    // ECG heatmap was 2.2 MB).
    expect(sizes.forward).toBeLessThan(150_000);
    expect(sizes.backward).toBeLessThan(150_000);
    const pngSize = statSync(path.join(out.ecg.dir, 'charts', 'bidirectional_1-forward-heatmap.png')).size;
    expect(pngSize).toBeLessThan(400_000); // measured 106 KB
  });

  it('log ticks are written 10⁻ⁿ with superscripts; no label in exponent notation is left', () => {
    const dh = readFileSync(path.join(out.ecg.dir, 'charts', 'bidirectional_1-forward-dh.svg'), 'utf8');
    const labels = [...dh.matchAll(/<g class="mark-text role-axis-label"[^>]*>(.*?)<\/g>/g)].flatMap((m) =>
      [...m[1]!.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((t) => t[1]!),
    );
    expect(labels.filter((l) => /^10[⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+$/.test(l)).length).toBeGreaterThanOrEqual(3);
    for (const o of Object.values(out))
      for (const f of svgsOf(o)) {
        const texts = [...readFileSync(path.join(o.dir, 'charts', f), 'utf8').matchAll(/<text[^>]*>([^<]*)</g)];
        const exp = texts.map((t) => t[1]!).filter((t) => /^-?\d(\.\d+)?e[-+]?\d+$/.test(t));
        expect(exp, `${f}: ${exp.join(' ')}`).toEqual([]);
      }
  });

  it('every text has WCAG AA contrast (4.5:1) against the background, computed from the fill colours', () => {
    // WCAG 2.1 relative luminance and contrast ratio, written out here.
    const lin = (v: number) => (v / 255 <= 0.04045 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
    const lum = ([r, g, b]: number[]) => 0.2126 * lin(r!) + 0.7152 * lin(g!) + 0.0722 * lin(b!);
    const rgb = (s: string): number[] => {
      if (/^#[0-9a-f]{3}$/i.test(s)) return [...s.slice(1)].map((c) => Number.parseInt(c + c, 16));
      if (/^#[0-9a-f]{6}$/i.test(s)) return [1, 3, 5].map((i) => Number.parseInt(s.slice(i, i + 2), 16));
      const m = /^rgb\((\d+), ?(\d+), ?(\d+)\)$/.exec(s);
      if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
      if (s === 'white') return [255, 255, 255];
      if (s === 'black') return [0, 0, 0];
      throw new Error(`colour ${s}`);
    };
    let checked = 0,
      lowest = 21;
    for (const o of Object.values(out))
      for (const f of svgsOf(o)) {
        const svg = readFileSync(path.join(o.dir, 'charts', f), 'utf8');
        const bg = rgb(/^<svg[^>]*><rect [^>]*fill="([^"]+)"/.exec(svg)![1]!);
        for (const m of svg.matchAll(/<text\b([^>]*)>([^<]*)</g)) {
          if (m[2]!.trim() === '') continue;
          const fill = / fill="([^"]+)"/.exec(m[1]!)![1]!;
          const a = Number(/ opacity="([^"]+)"/.exec(m[1]!)?.[1] ?? 1);
          if (a === 0) continue; // a label Vega hid (overlap): not drawn
          const fg = rgb(fill).map((c, i) => c * a + bg[i]! * (1 - a));
          const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
          const ratio = (hi! + 0.05) / (lo! + 0.05);
          expect(ratio, `${f}: "${m[2]}" in ${fill} (opacity ${a})`).toBeGreaterThanOrEqual(4.5);
          lowest = Math.min(lowest, ratio);
          checked++;
        }
      }
    expect(checked).toBeGreaterThan(1000);
    expect(lowest).toBeLessThan(21);
  });
});

describe('the page links the images', () => {
  it('every link from index.html into charts/ names a file the report wrote', () => {
    for (const [name, o] of Object.entries(out)) {
      const html = readFileSync(path.join(o.dir, 'index.html'), 'utf8');
      const links = [...html.matchAll(/href="(charts\/[^"]+)"/g)].map((m) => m[1]!);
      expect(links.length, name).toBeGreaterThan(0);
      for (const l of new Set(links)) expect(existsSync(path.join(o.dir, l)), `${name}: ${l}`).toBe(true);
    }
  });
});

describe('charts with nothing to show', () => {
  it('are not written, and are listed with the reason in charts/index.json and on the terminal', () => {
    expectOk(out.skip.r, 'report skip');
    const rel = files(path.join(out.skip.dir, 'charts'));
    for (const c of ['jacobian', 'contributions', 'density']) {
      expect(rel).not.toContain(`bidirectional_1-backward-${c}.svg`);
      expect(rel).toContain(`bidirectional_1-forward-${c}.svg`);
    }
    const index = json(path.join(out.skip.dir, 'charts', 'index.json')) as {
      skipped: { chart: string; layer: string; reason: string }[];
    };
    // (The attention chart, of models with an attention layer, is listed for every run: not this test's subject.)
    const listed = index.skipped.filter((x) => x.chart !== 'attention');
    expect(listed.map(({ chart, layer, reason }) => ({ chart, layer, reason }))).toEqual([
      {
        chart: 'jacobian',
        layer: 'bidirectional_1/backward',
        reason: 'the step Jacobian was not computed for this layer',
      },
      {
        chart: 'contributions',
        layer: 'bidirectional_1/backward',
        reason: 'no per-step contributions were recorded for this layer',
      },
      {
        chart: 'density',
        layer: 'bidirectional_1/backward',
        reason: 'no weight–gradient densities were recorded for this layer',
      },
    ]);
    expect(out.skip.r.stderr).toContain('left out, having nothing to show: ');
    expect(out.skip.r.stderr).toContain(
      'Step Jacobian (bidirectional_1/backward): the step Jacobian was not computed for this layer;',
    );
  });
});

describe('the folder stays rnnscope’s', () => {
  it('a redraw with fewer runs removes the old run folders; a folder holding a file of yours is kept', async () => {
    const dir = path.join(tmp, 'redraw');
    expectOk(await rnnscope(['report', path.join(FIX, 'example-set.json'), '--out', dir]), 'first');
    const runs = readdirSync(path.join(dir, 'charts')).filter((n) => !n.includes('.'));
    expect(runs.length).toBe(6);
    writeFileSync(path.join(dir, 'charts', runs[0]!, 'notes.txt'), 'mine');
    expectOk(await rnnscope(['report', path.join(FIX, 'example.json'), '--out', dir]), 'second');
    const left = readdirSync(path.join(dir, 'charts')).filter((n) => !n.includes('.'));
    expect(left).toEqual([runs[0]]);
    expect(readdirSync(path.join(dir, 'charts', runs[0]!))).toEqual(['notes.txt']);
    expect(existsSync(path.join(dir, 'charts', 'lstm_1-dh.svg'))).toBe(true);
  }, 300_000);

  it('a file of yours named like a chart image in a run folder refuses the run before any work', async () => {
    const dir = path.join(tmp, 'foreign');
    mkdirSync(path.join(dir, 'charts', 'my-run'), { recursive: true });
    writeFileSync(path.join(dir, 'charts', 'my-run', 'lstm-dh.svg'), '<svg/>');
    const r = await rnnscope(['report', path.join(FIX, 'example.json'), '--out', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('charts/my-run/lstm-dh.svg');
    expect(readdirSync(path.join(dir, 'charts'))).toEqual(['my-run']);
  }, 300_000);
});
