// The browser app's analysis against Node's (issue: "the browser analysis of W takes at most 1.5×
// the Node time"). W (2 × LSTM(128), 100 steps, 64 inputs; seeded weights as workloads.ts) with
// 256 samples, written as a .keras and numpy-layout .npy files, dropped on the app page (web/app.html,
// served by rnnscope serve's server: cross-origin isolated, shared wasm memory) and analysed in its
// worker with connectivity on, as child-rnnscope.ts's `analyze` mode does; the same files analysed
// by the library in this Node process (one thread, as the worker is one thread). One warm-up run
// each, then REPEATS runs of each, alternating, so that load from other processes hits both sides.
// The page's time is its worker's own measure of the analysis (AppResult.analysisMs). Beside the
// wall times, the CPU time each side used meanwhile: all Chromium processes (from /proc) and this
// Node process (process.cpuUsage), helper threads (GC, compilers) included; on a machine shared
// with other jobs, wall time depends on how the scheduler shares the cores, CPU time much less.
//
//   npx tsx bench/app.ts [REPEATS=3]

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
const browserServer = await chromium.launchServer({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
const browser = await chromium.connect(browserServer.wsEndpoint());
const rootPid = browserServer.process().pid!;

/** CPU seconds (user + system) of the browser process and all its descendants, from /proc. */
function browserCpu(): number {
  const procs = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((pid) => {
      try {
        const f = readFileSync(`/proc/${pid}/stat`, 'utf8')
          .slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2)
          .split(' ');
        return { pid: Number(pid), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
      } catch {
        return null;
      }
    })
    .filter((p) => p !== null);
  const mine = new Set([rootPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs)
      if (!mine.has(p.pid) && mine.has(p.ppid)) {
        mine.add(p.pid);
        grew = true;
      }
  }
  return procs.filter((p) => mine.has(p.pid)).reduce((n, p) => n + p.ticks, 0) / 100; // USER_HZ
}
const nodeCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
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
  const inPage = async (): Promise<{ ms: number; cpu: number; kernels: string }> => {
    n = await settled();
    const c0 = browserCpu();
    await page.click('#analyze');
    await page.waitForFunction((k) => Number(document.body.dataset['settled']) > k, n, { timeout: 600_000 });
    const r = await page.evaluate(
      () =>
        (
          globalThis as unknown as {
            rnnscopeApp: { state: string; result: { analysisMs: number; kernels: string } | null };
          }
        ).rnnscopeApp,
    );
    if (r.state !== 'done' || !r.result) throw new Error(`the page's analysis did not finish (${r.state})`);
    return { ms: r.result.analysisMs, cpu: browserCpu() - c0, kernels: r.result.kernels };
  };

  const model = await loadModelFile(f.model);
  const x = fitDataToModel(model, openData(new Uint8Array(readFileSync(f.x)), 'x.npy'), 'inputs');
  const y = fitDataToModel(model, openData(new Uint8Array(readFileSync(f.y)), 'y.npy'), 'targets', { batch: SAMPLES });
  const inNode = async (): Promise<{ ms: number; cpu: number }> => {
    const t0 = performance.now(),
      c0 = nodeCpu();
    await analyze(
      [model],
      { inputs: x, targets: y, dataSource: 'x.npy, y.npy' },
      { connectivity: true, labels: ['w.keras'] },
    );
    return { ms: performance.now() - t0, cpu: nodeCpu() - c0 };
  };

  const load0 = loadavg()[0]!;
  process.stderr.write('warm-up: page, Node\n');
  const k = (await inPage()).kernels;
  await inNode();
  const pageMs: number[] = [],
    nodeMs: number[] = [],
    pageCpu: number[] = [],
    nodeCpuS: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const p = await inPage();
    const q = await inNode();
    pageMs.push(p.ms);
    pageCpu.push(p.cpu);
    nodeMs.push(q.ms);
    nodeCpuS.push(q.cpu);
    process.stderr.write(
      `run ${i + 1}/${REPEATS}: page ${s(p.ms)} s (CPU ${p.cpu.toFixed(2)} s), Node ${s(q.ms)} s (CPU ${q.cpu.toFixed(2)} s)\n`,
    );
  }
  const ratio = median(pageMs) / median(nodeMs);
  console.log(
    `W analyze, ${SAMPLES} samples, connectivity on, ${cpus().length} cores (${cpus()[0]?.model.trim()}), load average ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}:`,
  );
  console.log(
    `  app page (Chromium ${browser.version()}, worker, ${k}): median ${s(median(pageMs))} s of [${pageMs.map(s).join(', ')}]`,
  );
  console.log(
    `  Node ${process.versions.node} (library analyze, one thread, ${kernels().name}): median ${s(median(nodeMs))} s of [${nodeMs.map(s).join(', ')}]`,
  );
  console.log(
    `  page / Node = ${ratio.toFixed(2)}× (target ≤ 1.5×); CPU seconds: Chromium (all processes) median ` +
      `${median(pageCpu).toFixed(2)}, Node median ${median(nodeCpuS).toFixed(2)} → ` +
      `${(median(pageCpu) / median(nodeCpuS)).toFixed(2)}×`,
  );
} finally {
  await browser.close();
  await browserServer.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
