// The gradient pool in the browser (web/pool-browser.ts, web/pool-worker-entry.ts): the built app page
// served by `rnnscope serve` (a child process of bin/rnnscope.js) is cross-origin isolated, its worker
// starts a pool worker per other core (one on 2 cores) and splits a gradient; the split gradient equals
// the one-thread gradient within 1e-6 relative (the loss, per-sample losses, every parameter gradient
// and every tap) for the HAR 2×LSTM(128) of the corpus on its user data and for a Bidirectional(GRU)
// from TF.js; the analysis's batches run on the threads and equal the same page's on one (?threads=1),
// its .npz dump byte for byte; the pool is started once and reused by later runs; a page that is not
// cross-origin isolated runs on one thread and says why. No console errors or warnings, no request
// leaves the page's origin.

import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  buildWebTemp,
  launchChromium,
  serveStatic,
  spawnServe,
  watchPage,
  type StaticServer,
  type WebBuild,
} from './helpers/browser.js';
import { CORPUS, ROOT, USERDATA, analyse, clearAll, compareAnalyses, pick } from './helpers/app-page.js';
import { encodeNpy } from '../src/io/npz-write.js';
import type { AppApi } from '../web/app.js';
import type { GradientRequest } from '../web/app-gradient.js';

const HAR = [
  path.join(CORPUS, 'k3_hatice_har_lstm', 'lstm_model.keras'),
  ...['x.npy', 'y.npy'].map((f) => path.join(USERDATA, 'har', f)),
];
let bigru: string[] = [];
let build: WebBuild;
let serve: ChildProcessWithoutNullStreams;
let url = '';
let plain: StaticServer;
let browser: Browser;
let dir: string;
const problems: string[] = [];
/** Threads of the pool in the isolated page (set by the first test). */
let threads = 0;

function startServe(): Promise<string> {
  const sc = spawnServe(['serve', '--port', '0', '--dir', build.outdir]);
  serve = sc.child;
  return sc.url;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'rnnscope-pool-page-'));
  // The TF.js Bidirectional(GRU) (input (None, 6, 2), softmax over 2) with 8 samples of data and one-hot targets.
  const tfjs = path.join(ROOT, 'test', 'fixtures', 'io', 'tfjs_groups');
  for (const f of readdirSync(tfjs)) copyFileSync(path.join(tfjs, f), path.join(dir, f));
  let s = 7;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const x = Float32Array.from({ length: 8 * 6 * 2 }, rnd);
  const y = Float32Array.from({ length: 8 * 2 }, (_, i) => (i % 2 === Math.floor(i / 2) % 2 ? 1 : 0));
  writeFileSync(path.join(dir, 'x.npy'), encodeNpy({ shape: [8, 6, 2], data: x }));
  writeFileSync(path.join(dir, 'y.npy'), encodeNpy({ shape: [8, 2], data: y }));
  bigru = readdirSync(dir).map((f) => path.join(dir, f));
  build = await buildWebTemp();
  url = await startServe();
  plain = await serveStatic(build.outdir, { isolated: false });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await plain?.close();
  serve?.kill('SIGINT');
  build?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function open(at: string): Promise<Page> {
  const p = await browser.newPage();
  const origin = new URL(at).origin;
  const seen = watchPage(p, origin);
  p.on('close', () => problems.push(...seen));
  await p.goto(at);
  await p.waitForFunction(() => document.body.dataset['ready'] === 'true');
  return p;
}

interface Compared {
  /** Largest relative difference over every compared array. */
  worst: number;
  arrays: number;
  taps: string[];
  one: string;
  pool: { describe: string; threads: number; calls: number; split: number; workersStarted: number };
}

/** Both gradients in the page, compared there (max |a − b| ÷ max |a| per array). */
function compareInPage(p: Page, samples: number): Promise<Compared> {
  return p.evaluate(async (n) => {
    const app = (globalThis as unknown as { rnnscopeApp: AppApi }).rnnscopeApp;
    const req = (threads: GradientRequest['threads']): GradientRequest => ({ threads, samples: n });
    const one = await app.gradient(req('one'));
    const two = await app.gradient(req('pool'));
    const rel = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
      if (a.length !== b.length) return Number.POSITIVE_INFINITY;
      let d = 0,
        m = 0;
      for (let i = 0; i < a.length; i++) {
        d = Math.max(d, Math.abs(a[i]! - b[i]!));
        m = Math.max(m, Math.abs(a[i]!));
      }
      return m === 0 ? d : d / m;
    };
    const errs = [rel([one.loss], [two.loss]), rel(one.perSample, two.perSample)];
    if (one.grads.length !== two.grads.length || one.taps.length !== two.taps.length)
      errs.push(Number.POSITIVE_INFINITY);
    one.grads.forEach((g, i) => errs.push(g.key === two.grads[i]?.key ? rel(g.data, two.grads[i]!.data) : Infinity));
    one.taps.forEach((t, i) => {
      const u = two.taps[i];
      errs.push(
        u && u.layer === t.layer && u.direction === t.direction && u.name === t.name ? rel(t.data, u.data) : Infinity,
      );
    });
    return {
      worst: Math.max(...errs),
      arrays: errs.length,
      taps: one.taps.map((t) => `${t.layer}${t.direction ? `/${t.direction}` : ''}:${t.name}`),
      one: one.pool.describe,
      pool: two.pool,
    };
  }, samples);
}

describe('the gradient pool in the browser', { timeout: 600_000 }, () => {
  it('served by rnnscope serve: isolated, a 2-thread gradient equals the one-thread one (LSTM and Bidirectional GRU)', async () => {
    const p = await open(`${url}app.html`);
    expect(await p.evaluate(() => crossOriginIsolated)).toBe(true);
    // One thread per core the browser reports (at most 8): 2 on the 2-core machines this runs on.
    threads = Math.min(8, await p.evaluate(() => navigator.hardwareConcurrency));
    expect(threads).toBeGreaterThanOrEqual(2);
    await pick(p, HAR);
    const lstm = await compareInPage(p, 8);
    expect(lstm.pool.describe).toMatch(new RegExp(`^gradients on ${threads} threads`));
    expect(lstm.pool.split).toBe(1);
    expect(lstm.pool.workersStarted).toBe(threads - 1);
    // Two LSTM layers, each with every tap the engine records for an LSTM.
    for (const layer of ['lstm_2', 'lstm_3'])
      for (const tap of ['dh', 'dc', 'dx', 'gateGrad', 'gates', 'hPrev', 'cPrev', 'c', 'z', 'x'])
        expect(lstm.taps).toContain(`${layer}:${tap}`);
    expect(lstm.worst).toBeLessThanOrEqual(1e-6);

    await clearAll(p);
    await pick(p, bigru);
    const gru = await compareInPage(p, 8);
    console.log(`browser pool: Bidirectional GRU taps ${gru.taps.join(', ')}`);
    for (const d of ['forward', 'backward'])
      for (const tap of ['dh', 'dx', 'gateGrad', 'gates', 'hPrev', 'z', 'x'])
        expect(gru.taps).toContain(`bidirectional/${d}:${tap}`);
    expect(gru.worst).toBeLessThanOrEqual(1e-6);
    // The same pool: its worker started once, a second model sent to it.
    expect(gru.pool.workersStarted).toBe(threads - 1);
    expect(gru.pool.split).toBe(2);
    console.log(
      `browser pool: LSTM ${lstm.arrays} arrays, worst ${lstm.worst.toExponential(2)}; ` +
        `Bidirectional GRU ${gru.arrays} arrays, worst ${gru.worst.toExponential(2)}`,
    );
    await p.close();
  });

  it('the analysis runs its batches on the pool, reuses it on a second run, and equals the one-thread analysis', async () => {
    const p = await open(`${url}app.html`);
    threads ||= Math.min(8, await p.evaluate(() => navigator.hardwareConcurrency));
    await pick(p, HAR);
    await p.fill('#opt-batch', '8');
    await p.uncheck('#opt-dump');
    const first = await analyse(p);
    expect(first.state).toBe('done');
    // Its 4 batches in min(threads, 4) ranges.
    const used = Math.min(threads, 4);
    expect(await p.textContent('#run-details')).toBe(
      `Batches on ${used} threads (this worker and ${used - 1} of the gradient pool).`,
    );
    // The analysis worker and the pool's workers.
    const workers = p.workers().length;
    expect(workers).toBe(threads);
    const second = await analyse(p);
    expect(second.state).toBe('done');
    expect(await p.textContent('#run-details')).toMatch(new RegExp(`^Batches on ${used} threads`));
    // No new worker on the second run: the pool's one worker, started with the first files.
    expect(p.workers().length).toBe(workers);
    const g = await p.evaluate(() =>
      (globalThis as unknown as { rnnscopeApp: AppApi }).rnnscopeApp.gradient({ threads: 'pool', samples: 8 }),
    );
    expect(g.pool.workersStarted).toBe(threads - 1);

    // The same page and kernels on one thread.
    const q = await open(`${url}app.html?threads=1`);
    await pick(q, HAR);
    await q.fill('#opt-batch', '8');
    await q.uncheck('#opt-dump');
    const single = await analyse(q);
    expect(single.state).toBe('done');
    expect(await q.textContent('#run-details')).toBe('Batches on one thread: one thread was asked for (?threads=1).');
    // Every number of the analysis within 1e-6 relative (the partial sums merge in float64).
    const worst = compareAnalyses(JSON.parse(first.json!), JSON.parse(single.json!), 1e-6);
    console.log(`browser pool: analysis on ${Math.min(threads, 4)} threads vs one, worst ${worst.toExponential(2)}`);
    // The .npz dump: each batch's per-step rows come from the thread that ran it, laid in sample order;
    // every batch runs the same on either thread, so the files are byte for byte the same.
    const npz = async (page: Page) => {
      await page.check('#opt-dump');
      expect((await analyse(page)).state).toBe('done');
      return page.evaluate(async () => {
        const b = (globalThis as unknown as { rnnscopeApp: AppApi }).rnnscopeApp.result!.npz!;
        const h = new Uint8Array(await crypto.subtle.digest('SHA-256', b as Uint8Array<ArrayBuffer>));
        return { bytes: b.length, sha: Array.from(h, (x) => x.toString(16).padStart(2, '0')).join('') };
      });
    };
    const [dumpTwo, dumpOne] = [await npz(p), await npz(q)];
    expect(dumpTwo.bytes).toBeGreaterThan(1e6);
    expect(dumpTwo).toEqual(dumpOne);
    console.log(`browser pool: .npz dump ${dumpTwo.bytes} bytes, the same SHA-256 on 2 threads and on one`);
    await p.close();
    await q.close();
  });

  it('a page that is not cross-origin isolated runs on one thread and says why', async () => {
    const q = await open(`${plain.url}app.html`);
    await pick(q, HAR);
    await q.fill('#opt-batch', '8');
    await q.uncheck('#opt-dump');
    expect((await analyse(q)).state).toBe('done');
    expect(await q.textContent('#run-details')).toBe(
      'Batches on one thread: the page is not cross-origin isolated, so it has no SharedArrayBuffer (serve it with COOP/COEP headers, as rnnscope serve does).',
    );
    const g = await q.evaluate(() =>
      (globalThis as unknown as { rnnscopeApp: AppApi }).rnnscopeApp.gradient({ threads: 'pool', samples: 8 }),
    );
    expect(g.pool).toMatchObject({ threads: 1, split: 0, workersStarted: 0 });
    expect(g.pool.describe).toMatch(/^gradients on one thread: the page is not cross-origin isolated/);
    await q.close();
  });

  it('no console errors or warnings, no request leaving the page', () => {
    expect(problems).toEqual([]);
  });
});
