// The report as a person sees it: written to disk by writeReport, opened from
// file:// in headless Chromium with no network, every chart drawn with data,
// the diagnosis on top, and the controls changing what the charts show.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Analysis, AnalysisSet } from '../src/analysis/schema.js';
import { validateReportInput } from '../src/analysis/validate.js';
import { writeReport, type WriteReportResult } from '../src/report/write.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`./fixtures/analysis/${name}`, import.meta.url), 'utf8'));

let dir: string;
let browser: Browser;
let single: WriteReportResult;
let set: WriteReportResult;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing; install Debian's chromium package (.ci/run does) to run the browser test.`,
    );
  dir = mkdtempSync(join(tmpdir(), 'rnnscope-report-'));
  single = await writeReport(fixture<Analysis>('example.json'), join(dir, 'single'));
  set = await writeReport(fixture<AnalysisSet>('example-set.json'), join(dir, 'set'), { noPng: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});

afterAll(async () => {
  await browser?.close();
  if (dir && !process.env.RNNSCOPE_KEEP_REPORT) rmSync(dir, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  problems: string[];
}

async function open(sub: string): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width: 1366, height: 860 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:') && !r.url().startsWith('data:') && !r.url().startsWith('blob:'))
      problems.push(`network: ${r.url()}`);
  });
  await page.goto(pathToFileURL(join(dir, sub, 'index.html')).href);
  await page.evaluate(() => (window as unknown as { rnnscope: { ready: Promise<unknown> } }).rnnscope.ready);
  return { page, problems };
}

/** Number of drawn mark items per chart. */
function markCounts(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() =>
    Object.fromEntries(
      Array.from(document.querySelectorAll('.vis')).map((v) => [
        v.id.slice(4),
        v.querySelectorAll('g[class*="mark-"] > path, g[class*="mark-"] > line, g[class*="mark-"] > text').length,
      ]),
    ),
  );
}

const svgOf = (page: Page, id: string) => page.locator(`#vis-${id} svg`).first().innerHTML();
/** Visible texts of a chart: titles, axis labels, mark labels (not the tooltips' aria-labels). */
const textsOf = (page: Page, id: string) =>
  page.$$eval(`#vis-${id} svg text`, (ts) => ts.map((t) => t.textContent ?? '').filter((t) => t !== ''));
const same = (a: string, b: string) => a === b;
const RASTER = ['heatmap', 'density'];
const canvasOf = (page: Page, id: string) =>
  page.$eval(`#vis-${id} canvas`, (c) => (c as HTMLCanvasElement).toDataURL());
/** Pixels of a chart's canvas that are not white. */
const canvasInk = (page: Page, id: string) =>
  page.$eval(`#vis-${id} canvas`, (c) => {
    const cv = c as HTMLCanvasElement;
    const px = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
    let n = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i] < 245 || px[i + 1] < 245 || px[i + 2] < 245) n++;
    return n;
  });

describe('report files', () => {
  it('writes the page, the analysis and an SVG and PNG per chart', () => {
    const ids = [
      'dh',
      'jacobian',
      'contributions',
      'heatmap',
      'gates',
      'dx',
      'density',
      'param-norms',
      'histograms',
      'batches',
    ];
    // Every chart of every layer (names: test/report-export.test.ts and docs/outputs.md).
    expect([...new Set(single.charts.map((c) => c.chart))].sort()).toEqual([...ids].sort());
    expect(single.files).toEqual([
      'analysis.json',
      'index.html',
      ...single.charts.flatMap((c) => [c.svg, c.png!]),
      'charts/index.json',
    ]);
    expect(single.warnings).toEqual([]);
    for (const c of single.charts) {
      expect(readFileSync(join(dir, 'single', c.svg), 'utf8').startsWith('<svg')).toBe(true);
      expect([...readFileSync(join(dir, 'single', c.png!)).subarray(0, 8)]).toEqual([
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a,
      ]);
    }
    expect(set.files).toContain('charts/compare.svg');
    expect(() =>
      validateReportInput(JSON.parse(readFileSync(join(dir, 'set', 'analysis.json'), 'utf8'))),
    ).not.toThrow();
  });

  it('the page is self-contained: no external scripts, styles or fonts', () => {
    const html = readFileSync(join(dir, 'single', 'index.html'), 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+href=/i);
    expect(html).not.toMatch(/@import|url\(\s*['"]?https?:/i);
    expect(html.match(/<script/g)).toHaveLength(5); // data, vega, vega-lite, vega-embed, page
  });
});

describe('one analysis in Chromium', () => {
  // One page for the whole sequence (opening it costs seconds on a shared machine).
  let opened: Opened;
  beforeAll(async () => {
    opened = await open('single');
  });
  afterAll(async () => {
    await opened?.page.close();
  });

  it('draws every chart with data, with the diagnosis on top and no console errors or network', async () => {
    const { page, problems } = opened;
    const counts = await markCounts(page);
    expect(Object.keys(counts)).toHaveLength(10);
    // The heatmap and the density are drawn to canvas (thousands of cells); the others as SVG.
    for (const [id, n] of Object.entries(counts)) if (!RASTER.includes(id)) expect(n, id).toBeGreaterThan(20);
    for (const id of RASTER) expect(await canvasInk(page, id), id).toBeGreaterThan(1000);
    const diag = page.locator('#diagnosis');
    await expect(diag.locator('li.finding').count()).resolves.toBe(5);
    const box = await diag.boundingBox();
    const first = await page.locator('section.chart').first().boundingBox();
    expect(box!.y).toBeLessThan(first!.y);
    // Grouped per layer (model order), each finding titled in words.
    expect(await diag.locator('li.finding.warning[data-code=vanishing]').textContent()).toContain('Vanishing gradient');
    expect(await diag.locator('.layer-findings h4').allTextContents()).toEqual([
      'lstm_1',
      'bidirectional_1 · forward',
      'Whole model',
    ]);
    await page.screenshot({ path: join(dir, 'single-top.png') });
    expect(problems).toEqual([]);
  });

  it('the layer selector changes the per-layer charts, not the per-model ones', async () => {
    const { page, problems } = opened;
    const dh0 = await svgOf(page, 'dh');
    const heat0 = await canvasOf(page, 'heatmap');
    const norms0 = await svgOf(page, 'param-norms');
    await page.selectOption('#sel-layer', '0|bidirectional_1/backward');
    // Charts off screen are brought up to date in the background: wait for all.
    await page.evaluate(() => (window as unknown as { rnnscope: { settled: Promise<unknown> } }).rnnscope.settled);
    expect(same(await svgOf(page, 'dh'), dh0)).toBe(false);
    const texts = await textsOf(page, 'dh');
    expect(texts).toContain('bidirectional_1 · backward (GRU, 16 units, 60 steps)');
    expect(texts).toContain('horizon: 32 of 60 steps');
    expect(same(await canvasOf(page, 'heatmap'), heat0)).toBe(false);
    // Per-model chart: same tensors, only the highlight moves.
    const norms1 = await svgOf(page, 'param-norms');
    expect(same(norms1, norms0)).toBe(false);
    expect((norms1.match(/<path/g) ?? []).length).toBe((norms0.match(/<path/g) ?? []).length);
    await page.locator('#chart-dh').screenshot({ path: join(dir, 'single-dh-backward.png') });
    expect(problems).toEqual([]);
  });

  it('a finding link selects the layer it is about', async () => {
    const { page, problems } = opened;
    await page.locator('a.finding-link[href="#chart-dh"]').click();
    await page.evaluate(() => (window as unknown as { rnnscope: { settled: Promise<unknown> } }).rnnscope.settled);
    expect(await page.inputValue('#sel-layer')).toBe('0|bidirectional_1/forward');
    expect(await textsOf(page, 'dh')).toContain('bidirectional_1 · forward (GRU, 16 units, 60 steps)');
    expect(problems).toEqual([]);
  });

  it('the scale toggle redraws with a linear axis and keeps the selected layer', async () => {
    const { page, problems } = opened;
    // Powers of ten as people write them (tick-labels.ts).
    expect(await textsOf(page, 'dh')).toContain('10⁻³');
    await page.check('input[name=scale][value=linear]');
    await page.evaluate(() => (window as unknown as { rnnscope: { ready: Promise<unknown> } }).rnnscope.ready);
    const lin = await textsOf(page, 'dh');
    expect(lin).not.toContain('10⁻³');
    expect(lin.some((t) => /^0\.0\d*$/.test(t))).toBe(true);
    expect(lin).toContain('bidirectional_1 · forward (GRU, 16 units, 60 steps)');
    expect(problems).toEqual([]);
  });
});

describe('an analysis set in Chromium', () => {
  it('shows the comparison chart and a run selector that switches model', async () => {
    const { page, problems } = await open('set');
    const counts = await markCounts(page);
    expect(counts.compare).toBeGreaterThan(6);
    for (const [id, n] of Object.entries(counts)) if (!RASTER.includes(id)) expect(n, id).toBeGreaterThan(5);
    expect(await textsOf(page, 'dh')).toContain(
      'SimpleRNN — before training: simplernn (SimpleRNN, 24 units, 100 steps)',
    );
    await page.selectOption('#sel-run', '3');
    await page.evaluate(() => (window as unknown as { rnnscope: { settled: Promise<unknown> } }).rnnscope.settled);
    expect(await page.inputValue('#sel-layer')).toBe('3|lstm');
    expect(await textsOf(page, 'dh')).toContain('LSTM — after training: lstm (LSTM, 24 units, 100 steps)');
    expect(await textsOf(page, 'histograms')).toContain('lstm/recurrent_kernel');
    await page.locator('#chart-compare').screenshot({ path: join(dir, 'set-compare.png') });
    expect(problems).toEqual([]);
    await page.close();
  });
});
