// The browser app's analysis against Node's (issue: "the browser analysis of W takes at most 1.5×
// the Node time"). W (2 × LSTM(128), 100 steps, 64 inputs; seeded weights as workloads.ts) with
// 256 samples, written as a .keras and numpy-layout .npy files, dropped on the app page (web/app.html,
// served by rnnscope serve's server: cross-origin isolated, shared wasm memory) and analysed in its
// worker with connectivity on, as child-rnnscope.ts's `analyze` mode does; the same files analysed
// by the library in this Node process (one thread, as the worker is one thread). One warm-up run
// each, then REPEATS runs of each, alternating, so that load from other processes hits both sides.
// The page's time is its worker's own measure of the analysis (AppResult.analysisMs).
//
//   npx tsx bench/app.ts [REPEATS=3]

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { encodeNpy } from '../src/io/npz-write.js';
import { loadModelFile } from '../src/io/node.js';
import { openData } from '../src/io/data.js';
import { fitDataToModel } from '../src/io/data-check.js';
import { analyze } from '../src/analysis/index.js';
import { kernels } from '../src/engine/kernels.js';
import { startPageServer } from '../src/cli/serve.js';
import { buildWeb } from '../scripts/build-web.js';
import { kerasArchive } from '../test/helpers/keras-write.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/helpers/browser.js';
import { benchData, buildBenchModel, kerasConfig, workload } from './workloads.js';

const REPEATS = Number(process.argv[2] ?? 3);
const SAMPLES = 256;
const W = workload('W');
const dir = mkdtempSync(path.join(tmpdir(), 'rnnscope-bench-app-'));
const f = { model: path.join(dir, 'w.keras'), x: path.join(dir, 'x.npy'), y: path.join(dir, 'y.npy') };
const d = benchData(W, SAMPLES);
writeFileSync(f.model, await kerasArchive(kerasConfig(W), buildBenchModel(W)));
writeFileSync(f.x, encodeNpy({ shape: d.x.shape, data: d.x.data as Float32Array }));
writeFileSync(f.y, encodeNpy({ shape: d.y.shape, data: d.y.data as Float32Array }));
const built = await buildWeb({ outdir: path.join(dir, 'web') });
const server = await startPageServer({ dir: built.outdir, port: 0 });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const s = (ms: number) => (ms / 1000).toFixed(2);

try {
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => document.body.dataset['ready'] === 'true');
  const settled = () => page.evaluate(() => Number(document.body.dataset['settled'] ?? 0));
  let n = await settled();
  await page.setInputFiles('#files', [f.model, f.x, f.y]);
  await page.waitForFunction((k) => Number(document.body.dataset['settled']) > k, n);
  await page.uncheck('#opt-dump');
  await page.check('#opt-connectivity');
  const inPage = async (): Promise<{ ms: number; kernels: string }> => {
    n = await settled();
    await page.click('#analyze');
    await page.waitForFunction((k) => Number(document.body.dataset['settled']) > k, n, { timeout: 600_000 });
    const r = await page.evaluate(() => (globalThis as unknown as { rnnscopeApp: { state: string; result: { analysisMs: number; kernels: string } | null } }).rnnscopeApp);
    if (r.state !== 'done' || !r.result) throw new Error(`the page's analysis did not finish (${r.state})`);
    return { ms: r.result.analysisMs, kernels: r.result.kernels };
  };

  const model = await loadModelFile(f.model);
  const x = fitDataToModel(model, openData(new Uint8Array(readFileSync(f.x)), 'x.npy'), 'inputs');
  const y = fitDataToModel(model, openData(new Uint8Array(readFileSync(f.y)), 'y.npy'), 'targets', { batch: SAMPLES });
  const inNode = async (): Promise<number> => {
    const t0 = performance.now();
    await analyze([model], { inputs: x, targets: y, dataSource: 'x.npy, y.npy' }, { connectivity: true, labels: ['w.keras'] });
    return performance.now() - t0;
  };

  const load0 = loadavg()[0]!;
  process.stderr.write('warm-up: page, Node\n');
  const k = (await inPage()).kernels;
  await inNode();
  const pageMs: number[] = [], nodeMs: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    pageMs.push((await inPage()).ms);
    nodeMs.push(await inNode());
    process.stderr.write(`run ${i + 1}/${REPEATS}: page ${s(pageMs[i]!)} s, Node ${s(nodeMs[i]!)} s\n`);
  }
  const ratio = median(pageMs) / median(nodeMs);
  console.log(`W analyze, ${SAMPLES} samples, connectivity on, ${cpus().length} cores (${cpus()[0]?.model.trim()}), load average ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}:`);
  console.log(`  app page (Chromium ${browser.version()}, worker, ${k}): median ${s(median(pageMs))} s of [${pageMs.map(s).join(', ')}]`);
  console.log(`  Node ${process.versions.node} (library analyze, one thread, ${kernels().name}): median ${s(median(nodeMs))} s of [${nodeMs.map(s).join(', ')}]`);
  console.log(`  page / Node = ${ratio.toFixed(2)}× (target ≤ 1.5×)`);
} finally {
  await browser.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
