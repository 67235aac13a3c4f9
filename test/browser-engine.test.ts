// The engine in the browser build: web/bench.html (bundled by scripts/build-web.ts, served
// cross-origin isolated) runs the workloads of web/workloads.ts in Chromium, and the same
// functions run here in Node.
//   1. A small 2-layer LSTM: loss and every gradient array agree with Node's (JS kernels and
//      SIMD wasm kernels; bit-identity is reported), and relaxed-SIMD FMA in Chromium agrees
//      with Node's SIMD kernels to float32 rounding.
//   2. Issue 6's workload W: one gradient timed in Chromium and in Node, interleaved, per
//      kernel set; the ratios are printed (the 1.5× target is the bench's to report; here only
//      a loose sanity bound, < 5×, since other processes share the machine).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { describeKernels, kernelInfo, makeKernels, type KernelChoice } from '../web/kernel-choice.js';
import { prepare, SMALL, stackGradient, timeGradient, W, type PreparedStack } from '../web/workloads.js';
import type { EngineApi } from '../web/bench.js';
import {
  buildWebTemp,
  launchChromium,
  serveStatic,
  watchPage,
  type StaticServer,
  type WebBuild,
} from './helpers/browser.js';

let build: WebBuild;
let server: StaticServer;
let browser: Browser;
let page: Page;
let problems: string[];
const notes: string[] = [];

beforeAll(async () => {
  build = await buildWebTemp();
  server = await serveStatic(build.outdir, { isolated: true });
  browser = await launchChromium();
  page = await browser.newPage();
  problems = watchPage(page, server.url);
  await page.goto(`${server.url}bench.html`);
  await page.waitForFunction(() => document.body.dataset['ready'] === 'true');
});

afterAll(async () => {
  if (notes.length)
    console.log(
      `browser vs Node (engine), Chromium ${browser?.version()} / Node ${process.version}:\n${notes.map((n) => `  ${n}`).join('\n')}`,
    );
  await browser?.close();
  await server?.close();
  build?.remove();
});

type Api = EngineApi;
const inPage = {
  info: () => page.evaluate(() => (globalThis as unknown as { rnnscopeEngine: Api }).rnnscopeEngine.kernelInfo()),
  describe: (k: KernelChoice) =>
    page.evaluate((kk) => (globalThis as unknown as { rnnscopeEngine: Api }).rnnscopeEngine.describe(kk), k),
  gradient: (id: string, k: KernelChoice) =>
    page.evaluate(([i, kk]) => (globalThis as unknown as { rnnscopeEngine: Api }).rnnscopeEngine.gradient(i, kk), [
      id,
      k,
    ] as const),
  time: (id: string, k: KernelChoice, reps: number, warmup: number) =>
    page.evaluate(
      ([i, kk, r, w]) => (globalThis as unknown as { rnnscopeEngine: Api }).rnnscopeEngine.time(i, kk, r, w),
      [id, k, reps, warmup] as const,
    ),
};

/** Compares two gradient sets: every array within `tol` × its largest |value|; returns how many arrays are
 * bit-identical. */
function compareGrads(
  got: Record<string, number[]>,
  want: Record<string, number[]>,
  tol: number,
): { identical: number; total: number; worst: number } {
  expect(Object.keys(got)).toEqual(Object.keys(want));
  let identical = 0,
    worst = 0;
  for (const [key, w] of Object.entries(want)) {
    const g = got[key]!;
    expect(g.length, key).toBe(w.length);
    let scale = 0,
      diff = 0,
      same = true;
    for (let i = 0; i < w.length; i++) {
      scale = Math.max(scale, Math.abs(w[i]!));
      diff = Math.max(diff, Math.abs(g[i]! - w[i]!));
      if (!Object.is(g[i], w[i])) same = false;
    }
    expect(scale, `∂L/∂${key} is not all zero`).toBeGreaterThan(0);
    expect(diff / scale, `∂L/∂${key}: max |browser − Node| / max |Node|`).toBeLessThanOrEqual(tol);
    worst = Math.max(worst, diff / scale);
    if (same) identical++;
  }
  return { identical, total: Object.keys(want).length, worst };
}

describe('the browser build runs the same kernels as Node', () => {
  it('the page is cross-origin isolated and offers the kernel sets Node has (and relaxed SIMD)', async () => {
    const info = await inPage.info();
    expect(info.crossOriginIsolated).toBe(true);
    expect(info.sharedArrayBuffer).toBe(true);
    for (const k of kernelInfo().available) expect(info.available).toContain(k);
    expect(info.available).toContain('wasm-relaxed-simd'); // Chromium ≥ 114
    // Shared memory on both sides: the wasm kernels work in place rather than copying.
    expect(await inPage.describe('wasm-simd')).toBe(describeKernels(makeKernels('wasm-simd')));
    expect(await inPage.describe('wasm-simd')).toContain('shared memory');
    notes.push(`kernels: Node ${kernelInfo().available.join(', ')}; Chromium ${info.available.join(', ')}`);
    expect(problems).toEqual([]);
  });

  for (const k of ['js', 'wasm-simd'] as const) {
    it(`a small 2-layer LSTM: loss and every gradient array equal Node's (${k} kernels)`, async () => {
      const node = stackGradient(prepare(SMALL), makeKernels(k));
      const web = await inPage.gradient('small', k);
      expect(Math.abs(web.loss - node.loss)).toBeLessThanOrEqual(1e-6 * Math.abs(node.loss));
      const c = compareGrads(web.grads, node.grads, 1e-6);
      notes.push(
        `small LSTM, ${k}: ${c.identical}/${c.total} gradient arrays bit-identical, worst relative ` +
          `difference ${c.worst.toExponential(2)}, loss ` +
          `${web.loss === node.loss ? 'bit-identical' : `differs by ${Math.abs(web.loss - node.loss).toExponential(2)}`}`,
      );
      expect(problems).toEqual([]);
    });
  }

  it("a small 2-layer LSTM: relaxed-SIMD FMA in Chromium agrees with Node's SIMD kernels to float32 rounding", async () => {
    const node = stackGradient(prepare(SMALL), makeKernels('wasm-simd'));
    const web = await inPage.gradient('small', 'wasm-relaxed-simd');
    const c = compareGrads(web.grads, node.grads, 1e-5);
    notes.push(
      `small LSTM, Chromium wasm-relaxed-simd vs Node wasm-simd: worst relative difference ${c.worst.toExponential(2)}`,
    );
    expect(problems).toEqual([]);
  });
});

describe('W (2-layer LSTM, 64 inputs, 128 units, 100 steps, batch 32): one gradient in Chromium vs Node', () => {
  /** Timed runs per side (after one warm-up each); the JS kernels take seconds per run, so fewer. */
  const REPS: Record<string, number> = { js: Number(process.env.RNNSCOPE_BROWSER_JS_REPS ?? 2), 'wasm-simd': 5 };
  let w: PreparedStack;
  beforeAll(() => {
    w = prepare(W);
  });

  const runs: [string, KernelChoice, KernelChoice][] = [
    ['js', 'js', 'js'],
    ['wasm-simd', 'wasm-simd', 'wasm-simd'],
    // Each runtime's best: Node 20 has no relaxed SIMD, Chromium does.
    ['best available', 'wasm', 'wasm'],
  ];
  for (const [label, nodeK, webK] of runs) {
    it(`${label} kernels: same gradient, and the browser within 5× of Node`, { timeout: 600_000 }, async () => {
      const reps = REPS[nodeK] ?? REPS['wasm-simd']!;
      const kern = makeKernels(nodeK);
      // Warm-up on both sides, then alternate Node and Chromium so that load from other processes hits both alike.
      timeGradient(w, kern, 1);
      await inPage.time('W', webK, 0, 1);
      const nodeS: number[] = [],
        webS: number[] = [];
      let nodeLast = { gradNorm: 0, loss: 0 },
        webLast = { gradNorm: 0, loss: 0 };
      for (let i = 0; i < reps; i++) {
        const n = timeGradient(w, kern, 1);
        nodeS.push(n.seconds[0]!);
        nodeLast = n;
        const b = await inPage.time('W', webK, 1, 0);
        webS.push(b.seconds[0]!);
        webLast = b;
      }
      // The same computation: relaxed FMA rounds differently, so compare to float32 accuracy.
      expect(nodeLast.gradNorm).toBeGreaterThan(0);
      const tol = nodeK === webK && nodeK !== 'wasm' ? 1e-6 : 1e-4;
      expect(Math.abs(webLast.gradNorm - nodeLast.gradNorm) / nodeLast.gradNorm).toBeLessThanOrEqual(tol);
      expect(Math.abs(webLast.loss - nodeLast.loss) / nodeLast.loss).toBeLessThanOrEqual(tol);
      const best = (xs: number[]) => Math.min(...xs);
      const med = (xs: number[]) => {
        const s = [...xs].sort((a, b) => a - b),
          h = s.length >> 1;
        return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
      };
      const ratio = best(webS) / best(nodeS);
      notes.push(
        `W, ${label}: Node ${describeKernels(kern)} best ${best(nodeS).toFixed(3)} s (median ` +
          `${med(nodeS).toFixed(3)}), Chromium ${await inPage.describe(webK)} best ${best(webS).toFixed(3)} ` +
          `s (median ${med(webS).toFixed(3)}); ratio browser/Node ${ratio.toFixed(2)}× (medians ` +
          `${(med(webS) / med(nodeS)).toFixed(2)}×), ${reps} runs each`,
      );
      expect(ratio).toBeLessThan(5);
      expect(problems).toEqual([]);
    });
  }
});
