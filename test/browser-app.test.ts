// The app page (web/app.html) in Chromium with real files: corpus models and numpy-written data
// given by its file input, by a synthetic drop event carrying a DataTransfer, and by a real drag
// of files and folders (DevTools protocol). Its analysis JSON must equal `rnnscope analyze` run in
// Node on the same files within float32 tolerance; its refusals must be the command line's
// messages; it must make no network request and log no console error; its Save buttons must give
// the same report, JSON and .npz.

import {
  closeSync,
  copyFileSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  truncateSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { buildWebTemp, launchChromium, serveStatic, type StaticServer, type WebBuild } from './helpers/browser.js';
import {
  CORPUS,
  USERDATA,
  after,
  analyse,
  answer,
  clearAll,
  cliAnalyze,
  cliMessage,
  compareAnalyses,
  dropReal,
  dropSynthetic,
  pick,
  removeCli,
  shownClasses,
  shownErrors,
} from './helpers/app-page.js';
import { readNpz } from '../src/io/npz.js';
import { MAX_FILE_BYTES } from '../web/app-protocol.js';
import type { Analysis } from '../src/analysis/schema.js';
import { reportHtml } from '../src/report/html.js';
import { readBundles } from '../src/report/render-node.js';

const c = (p: string) => path.join(CORPUS, p);
const u = (p: string) => path.join(USERDATA, p);
const HAR = c('k3_hatice_har_lstm/lstm_model.keras');
const ECG_ARCH = c('w_chen_ecg_bilstm_autoencoder/bidirectional-lstm-auto-encoder-architecture.json');
const ECG_WEIGHTS = c('w_chen_ecg_bilstm_autoencoder/bidirectional-lstm-auto-encoder-weights.h5');
const TEXTGEN = c('tfjs_reiinakano_textgen_lstm_legacy_format');

let build: WebBuild;
let server: StaticServer;
let browser: Browser;
let page: Page;
let tmp: string;
/** Every request the page made after it loaded, console errors and warnings, uncaught errors. */
const requests: string[] = [];
const problems: string[] = [];
const agreement: string[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'rnnscope-app-test-'));
  build = await buildWebTemp();
  server = await serveStatic(build.outdir);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // The kernels Node runs (SIMD without relaxed-SIMD FMA, which Node 20 lacks): the same arithmetic.
  await page.goto(`${server.url}app.html?kernels=wasm-simd`);
  await page.waitForFunction(() => document.body.dataset['ready'] === 'true');
  page.on('request', (r) => {
    if (!r.url().startsWith('blob:') && !r.url().startsWith('data:')) requests.push(r.url());
  });
});

afterAll(async () => {
  if (agreement.length)
    console.log(`page vs rnnscope analyze (largest relative difference of any number):\n  ${agreement.join('\n  ')}`);
  await browser?.close();
  await server?.close();
  build?.remove();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function expectSameAsCli(what: string, args: string[], tol = 1e-5): Promise<unknown> {
  const s = await page.evaluate(
    () =>
      (globalThis as unknown as { rnnscopeApp: { state: string; result: { json: string } | null; errors: unknown[] } })
        .rnnscopeApp,
  );
  expect(s.errors).toEqual([]);
  expect(s.state).toBe('done');
  const cli = await cliAnalyze(args);
  expect(cli.code, cli.stderr).toBe(0);
  const mine = JSON.parse(s.result!.json);
  agreement.push(`${what}: ${compareAnalyses(mine, cli.json, tol).toExponential(1)}`);
  removeCli(cli);
  return mine;
}

describe('the page analyses real files as `rnnscope analyze` does', { timeout: 300_000 }, () => {
  it('a .keras with x.npy and y.npy picked in the file input', async () => {
    await clearAll(page);
    const s = await pick(page, [HAR, u('har/x.npy'), u('har/y.npy')]);
    expect(s.state).toBe('ready');
    expect(Object.fromEntries(s.inspection!.files.map((f) => [f.name, f.kind]))).toEqual({
      'lstm_model.keras': 'model',
      'x.npy': 'data',
      'y.npy': 'targets',
    });
    const r = await analyse(page);
    expect(r.state).toBe('done');
    await expectSameAsCli('.keras + x.npy + y.npy (file input)', [
      HAR,
      '--data',
      u('har/x.npy'),
      '--targets',
      u('har/y.npy'),
    ]);
    expect(await page.isVisible('#random-banner')).toBe(false);
  });

  it('an architecture JSON with its weights .h5 and data, by a synthetic drop anywhere on the page', async () => {
    await clearAll(page);
    const s = await dropSynthetic(page, [ECG_ARCH, ECG_WEIGHTS, u('ecg/x.npy'), u('ecg/y.npy')], 'header');
    expect(s.state).toBe('ready');
    expect(s.inspection!.files.map((f) => f.kind)).toEqual(['model', 'weights', 'data', 'targets']);
    await analyse(page);
    await expectSameAsCli('architecture + weights + data (synthetic drop)', [
      ECG_ARCH,
      '--weights',
      ECG_WEIGHTS,
      '--data',
      u('ecg/x.npy'),
      '--targets',
      u('ecg/y.npy'),
    ]);
  });

  it('a TF.js folder dragged from disk with its data beside it', async () => {
    await clearAll(page);
    const s = await dropReal(page, [TEXTGEN, u('textgen/x.npy'), u('textgen/y.npy')]);
    const d = path.basename(TEXTGEN);
    expect(Object.fromEntries(s.inspection!.files.map((f) => [f.name, f.kind]))).toEqual({
      [`${d}/model.json`]: 'model',
      [`${d}/group1-shard1of1`]: 'part',
      [`${d}/group2-shard1of1`]: 'part',
      [`${d}/char_indices.json`]: 'unused',
      'x.npy': 'data',
      'y.npy': 'targets',
    });
    await analyse(page);
    await expectSameAsCli('TF.js folder + data (real drag)', [
      path.join(TEXTGEN, 'model.json'),
      '--data',
      u('textgen/x.npy'),
      '--targets',
      u('textgen/y.npy'),
    ]);
  });

  it('a TF.js folder picked with the folder input, then its data dropped after it', async () => {
    await clearAll(page);
    const s0 = await pick(page, TEXTGEN, '#folder');
    expect(s0.inspection!.runs.map((r) => r.label)).toEqual(['model.json']);
    const s = await dropSynthetic(page, [u('textgen/xy_compressed.npz')]);
    expect(s.inspection!.targets?.id).toBe('in:xy_compressed.npz');
    await analyse(page);
    await expectSameAsCli('TF.js folder input + x and y in one .npz', [
      path.join(TEXTGEN, 'model.json'),
      '--data',
      u('textgen/xy_compressed.npz'),
    ]);
  });

  it('a two-input model with one .npy per input', async () => {
    await clearAll(page);
    const K = c('k3_asand_multiinput_embedding_lstm/rnn_model.keras');
    await pick(page, [K, u('asand/sequence_input.npy'), u('asand/numerical_input.npy'), u('asand/y.npy')]);
    await analyse(page);
    await expectSameAsCli('two inputs, one .npy each', [
      K,
      '--data',
      u('asand/sequence_input.npy'),
      '--data',
      u('asand/numerical_input.npy'),
      '--targets',
      u('asand/y.npy'),
    ]);
  });

  it('CSV data and targets with the analyze options set in the page (loss, batch size, samples, connectivity)', async () => {
    await clearAll(page);
    await pick(page, [ECG_ARCH, ECG_WEIGHTS, u('ecg/x.csv'), u('ecg/y.csv')]);
    try {
      await after(page, () => page.fill('#opt-loss', 'mae')); // the files are sorted again for this loss
      await page.fill('#opt-batch', '4');
      await page.fill('#opt-max', '12');
      await page.check('#opt-connectivity');
      const r = await analyse(page);
      expect(r.inspection!.files.map((f) => f.kind)).toEqual(['model', 'weights', 'data', 'targets']);
      expect(r.state).toBe('done');
      const a = (await expectSameAsCli('CSV data + options', [
        ECG_ARCH,
        '--weights',
        ECG_WEIGHTS,
        '--data',
        u('ecg/x.csv'),
        '--targets',
        u('ecg/y.csv'),
        '--loss',
        'mae',
        '--batch-size',
        '4',
        '--max-samples',
        '12',
        '--connectivity',
      ])) as Analysis;
      expect([a.objective.loss, a.objective.batchSize, a.objective.samples, a.objective.batches]).toEqual([
        'mae',
        4,
        12,
        3,
      ]);
    } finally {
      await after(page, () => page.fill('#opt-loss', ''));
      for (const id of ['opt-batch', 'opt-max']) await page.fill(`#${id}`, '');
      await page.uncheck('#opt-connectivity');
    }
  });

  it('JSON data: ragged token lists, padded as pad_sequences does', async () => {
    await clearAll(page);
    const arch = c('w_chen_sentiment_embedding_conv1d_lstm/wordvec_cnn_lstm_architecture.json');
    const weights = c('w_chen_sentiment_embedding_conv1d_lstm/wordvec_cnn_lstm_weights.h5');
    await dropSynthetic(page, [arch, weights, u('sentiment/x.json'), u('sentiment/y.json')]);
    await analyse(page);
    await expectSameAsCli('JSON token lists + JSON targets', [
      arch,
      '--weights',
      weights,
      '--data',
      u('sentiment/x.json'),
      '--targets',
      u('sentiment/y.json'),
    ]);
  });

  it("with the browser's best kernels (relaxed-SIMD FMA, which Node lacks): the same quantities within float32 rounding, the same findings", async () => {
    const best = await browser.newPage();
    best.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    await best.goto(`${server.url}app.html`);
    await best.waitForFunction(() => document.body.dataset['ready'] === 'true');
    await pick(best, [HAR, u('har/x.npy'), u('har/y.npy')]);
    const r = await analyse(best);
    expect(await best.textContent('#status')).toMatch(/wasm-relaxed-simd \(shared memory\) kernels/);
    const mine = JSON.parse(r.json!) as Analysis;
    const cli = await cliAnalyze([HAR, '--data', u('har/x.npy'), '--targets', u('har/y.npy')]);
    const theirs = cli.json as Analysis;
    removeCli(cli);
    await best.close();
    // Fused multiply-adds round once where Node rounds twice: continuous quantities differ in the
    // last float32 bits (carried through 100 steps of backpropagation); counts of values on either
    // side of a threshold or a histogram edge may move by one, so those are not compared here.
    const keyQuantities = (a: Analysis) => ({
      loss: a.objective.value,
      params: a.params.map((p) => p.gradNorm),
      steps: a.recurrent.flatMap((x) => [
        ...x.dh.norm,
        ...(x.dc?.norm ?? []),
        ...x.dx.norm,
        ...x.contributions.flatMap((q) => q.norm),
        ...(x.jacobian?.log10ProductMedian ?? []),
      ]),
      gates: a.recurrent.flatMap((x) => x.gateStats.flatMap((g) => g.mean)),
    });
    const worst = compareAnalyses(keyQuantities(mine), keyQuantities(theirs), 1e-4);
    expect(mine.findings.map((f) => [f.code, f.layer, f.severity])).toEqual(
      theirs.findings.map((f) => [f.code, f.layer, f.severity]),
    );
    expect(mine.recurrent.map((x) => x.horizon.steps)).toEqual(theirs.recurrent.map((x) => x.horizon.steps));
    agreement.push(`relaxed-SIMD kernels, main quantities: ${worst.toExponential(1)}`);
  });

  it('without data: seeded random inputs, and a banner that says so', async () => {
    await clearAll(page);
    await pick(page, [c('h5_dl4j_simplernn_k2/simple_rnn_tf_keras_2_model.h5')]);
    expect(await page.textContent('#runs')).toContain('No data: the analysis will use seeded random inputs.');
    await analyse(page);
    expect(await page.isVisible('#random-banner')).toBe(true);
    expect(await page.textContent('#random-banner')).toContain('seeded random input sequences');
    const a = (await expectSameAsCli('no data (seeded random inputs)', [
      c('h5_dl4j_simplernn_k2/simple_rnn_tf_keras_2_model.h5'),
    ])) as { objective: { data: string } };
    expect(a.objective.data).toBe('random');
  });

  it('several checkpoints dropped at once give the timeline the command line gives', async () => {
    await clearAll(page);
    const a = path.join(tmp, 'ckpt-01.h5'),
      b = path.join(tmp, 'ckpt-02.h5');
    copyFileSync(c('k1_dl4j_simple_lstm_tf/simple_lstm_tf_keras_1_model.h5'), a);
    copyFileSync(c('k1_dl4j_simple_lstm_theano/simple_lstm_th_keras_1_model.h5'), b);
    const s = await dropSynthetic(page, [b, a, u('lstm_tf/x.npy'), u('lstm_tf/y.npy')]);
    expect(s.inspection!.runs.map((r) => r.label)).toEqual(['ckpt-01.h5', 'ckpt-02.h5']);
    await analyse(page);
    const set = (await expectSameAsCli('two checkpoints (timeline)', [
      a,
      b,
      '--data',
      u('lstm_tf/x.npy'),
      '--targets',
      u('lstm_tf/y.npy'),
    ])) as { runs: unknown[] };
    expect(set.runs).toHaveLength(2);
  });
});

describe('choices the files leave open are asked', { timeout: 300_000 }, () => {
  it('a dropped data folder with the same data in five formats: the page asks which is the data', async () => {
    await clearAll(page);
    await pick(page, [HAR]);
    const s = await dropReal(page, [path.join(USERDATA, 'har')]);
    expect(s.state).toBe('blocked');
    expect(await page.isDisabled('#analyze')).toBe(true);
    expect(await page.textContent('#questions')).toContain("5 files fit the model's inputs; which one is the data?");
    const s2 = await answer(page, 'data', 'har/x.npy');
    expect([s2.state, s2.inspection!.data?.id, s2.inspection!.targets?.id]).toEqual([
      'ready',
      'har/x.npy',
      'har/y.npy',
    ]);
  });
});

describe("bad input gives the command line's message, and the page stays usable", { timeout: 300_000 }, () => {
  it('a truncated .keras', async () => {
    await clearAll(page);
    const bad = path.join(tmp, 'lstm_model.keras');
    copyFileSync(HAR, bad);
    truncateSync(bad, 200_000);
    const s = await pick(page, [bad]);
    expect(s.state).toBe('blocked');
    const cli = await cliAnalyze([bad]);
    expect(await shownErrors(page)).toEqual([cliMessage(cli, [bad])]);
    expect(await shownClasses(page)).toEqual(['LoadError']);
    removeCli(cli);
  });

  it('an architecture with the weights of another model', async () => {
    await clearAll(page);
    const w = c('w_chen_sentiment_embedding_conv1d_lstm/wordvec_cnn_lstm_weights.h5');
    await pick(page, [ECG_ARCH, w]);
    const cli = await cliAnalyze([ECG_ARCH, '--weights', w]);
    expect(await shownErrors(page)).toEqual([cliMessage(cli, [ECG_ARCH, w])]);
    removeCli(cli);
  });

  it('data of the wrong shape', async () => {
    await clearAll(page);
    await pick(page, [HAR, u('ecg/x.npy')]);
    const cli = await cliAnalyze([HAR, '--data', u('ecg/x.npy')]);
    expect(await shownErrors(page)).toEqual([cliMessage(cli, [u('ecg/x.npy')])]);
    expect(await shownClasses(page)).toEqual(['DataError']);
    expect(await page.textContent('#runs')).not.toContain('No data');
    expect(await page.isDisabled('#analyze')).toBe(true);
    removeCli(cli);
    // Removing the refused file makes the page usable again: the model alone analyses.
    const s = await after(page, () => page.click('tr[data-file="x.npy"] button.remove'));
    expect([s.state, s.errors]).toEqual(['ready', []]);
    expect((await analyse(page)).state).toBe('done');
  });

  it(`a file larger than the tab reads (${MAX_FILE_BYTES} bytes) is refused before it is read`, async () => {
    await clearAll(page);
    const big = path.join(tmp, 'huge.npy');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, MAX_FILE_BYTES + 1); // sparse: no disk used
    closeSync(fd);
    const s = await pick(page, [HAR, big]);
    expect(s.errors.map((e) => e.message)).toEqual([
      `huge.npy is ${MAX_FILE_BYTES + 1} bytes (1.00 GiB), more than the ${MAX_FILE_BYTES} bytes (1.00 GiB) this page reads into a browser tab; expected a smaller file, so analyse it with the command line (rnnscope analyze reads files up to 2 GiB) or pass fewer samples.`,
    ]);
    // Nothing was handed to the worker: the earlier (empty) state stands, with the refusal shown.
    expect([s.state, s.inspection]).toEqual(['empty', null]);
    expect(await shownErrors(page)).toHaveLength(1);
    rmSync(big);
    const ok = await pick(page, [HAR]);
    expect([ok.state, ok.errors]).toEqual(['ready', []]);
  });
});

describe('what the page saves', { timeout: 300_000 }, () => {
  it('the report, the analysis JSON, the .npz dump and each chart as SVG and PNG', async () => {
    await clearAll(page);
    await pick(page, [HAR, u('har/x.npy'), u('har/y.npy')]);
    await analyse(page);
    const result = await page.evaluate(
      () => (globalThis as unknown as { rnnscopeApp: { result: { json: string; html: string } } }).rnnscopeApp.result,
    );
    const save = async (button: string): Promise<{ name: string; bytes: Buffer }> => {
      const [d] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
      return { name: d.suggestedFilename(), bytes: readFileSync((await d.path())!) };
    };
    const html = await save('#save-html');
    expect(html.name).toBe('lstm_model-report.html');
    expect(html.bytes.toString('utf8')).toBe(result.html);
    // The page made it with the command line's own code: the same page Node renders from that JSON.
    expect(result.html).toBe(reportHtml(JSON.parse(result.json) as Analysis, { bundles: readBundles() }));
    expect(html.bytes.toString('utf8')).toMatch(
      /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; script-src &#39;sha256-/,
    );
    const json = await save('#save-json');
    expect(json.bytes.toString('utf8')).toBe(result.json);
    const npz = await save('#save-npz');
    const cli = await cliAnalyze([HAR, '--data', u('har/x.npy'), '--targets', u('har/y.npy')], { dump: true });
    const mine = readNpz(new Uint8Array(npz.bytes), 'page.npz'),
      theirs = readNpz(new Uint8Array(readFileSync(cli.dump!)), 'cli.npz');
    // The same arrays (numpy.load gives them by name; the order inside the file may differ).
    const byName = new Map(theirs.map((a) => [a.name, a]));
    expect(mine.map((a) => [a.name, a.shape, a.dtype]).sort()).toEqual(
      theirs.map((a) => [a.name, a.shape, a.dtype]).sort(),
    );
    let worst = 0;
    mine.forEach((a) =>
      a.data.forEach((v, j) => {
        const w = byName.get(a.name)!.data[j]!;
        worst = Math.max(worst, Math.abs(v - w) / Math.max(Math.abs(w), 1e-3));
      }),
    );
    expect(worst).toBeLessThan(1e-4);
    removeCli(cli);
    for (const id of ['dh', 'gates']) {
      await page.selectOption('#chart-pick', id);
      const svg = await save('#save-svg');
      expect(svg.name).toBe(`lstm_model-${id}.svg`);
      expect(svg.bytes.toString('utf8')).toMatch(/^<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      const png = await save('#save-png');
      expect([...png.bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    }
  });

  it('the report in the page is drawn, and its links stay inside it', async () => {
    const frame = page.frameLocator('#report');
    await expect.poll(() => frame.locator('.vis[data-rendered=true]').count(), { timeout: 30_000 }).toBe(10);
    const report = page.frames().find((f) => f.parentFrame() === page.mainFrame())!;
    expect(report.url()).toBe('about:srcdoc');
    // The footer's link to analysis.json saves the analysis (there is no file beside the page to open).
    const [d] = await Promise.all([
      page.waitForEvent('download'),
      frame.locator('footer a[href="analysis.json"]').click(),
    ]);
    expect(d.suggestedFilename()).toBe('lstm_model-analysis.json');
    // A link to a chart (as the diagnosis' "See …" links are) scrolls the report instead of loading this page into it.
    await report.evaluate(() => {
      const a = document.createElement('a');
      a.href = '#chart-heatmap';
      a.id = 'test-link';
      a.textContent = 'to the heatmap';
      document.querySelector('header')!.append(a);
    });
    await frame.locator('#test-link').click();
    // At the top of the frame, below the report's own scroll margin (its sticky controls).
    await expect
      .poll(() =>
        report.evaluate(() => {
          const e = document.getElementById('chart-heatmap')!;
          return Math.abs(e.getBoundingClientRect().top - parseFloat(getComputedStyle(e).scrollMarginTop || '0'));
        }),
      )
      .toBeLessThan(2);
    expect(report.url()).toBe('about:srcdoc');
    expect(await frame.locator('.vis[data-rendered=true]').count()).toBe(10);
  });
});

describe('the page itself', { timeout: 300_000 }, () => {
  it('made no network request while loading and analysing, and logged no error', () => {
    expect(requests).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('its Content-Security-Policy forbids connections (nothing can leave the machine)', async () => {
    const r = await page.evaluate(() =>
      fetch('https://example.com/').then(
        () => 'fetched',
        (e: Error) => `refused: ${e.name}`,
      ),
    );
    expect(r).toBe('refused: TypeError');
    problems.length = 0; // the refusal above is logged as a CSP violation, by design
    requests.length = 0;
  });
});
