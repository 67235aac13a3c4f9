// `rnnscope watch` measured as a user runs it (issue: bounded memory over 200 checkpoints; one
// checkpoint of workload W analysed in the time `analyze` takes, plus loading).
//
//   npx tsx bench/watch.ts memory [checkpoints=200]   RSS of the watch process over a training run
//   npx tsx bench/watch.ts speed [checkpoints=3]      load + analysis time per checkpoint of W
//
// memory: the demo's LSTM (32 units, 50 steps, 64 samples), trained by rnnscope's engine, one .keras
// checkpoint per "epoch" written into a folder that a `rnnscope watch` child process watches (live
// page on, snapshot after each checkpoint); its VmRSS / VmHWM (/proc/<pid>/status) after every 20.
// speed: W (2 × LSTM(128), 100 steps, 64 inputs; seeded weights as bench/workloads.ts) with 256
// samples, written as .keras; the times are the watch's own "loaded in / analysed in" lines.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeNpy } from '../src/io/npz-write.js';
import { loadModelFile } from '../src/io/node.js';
import { analyzeModelParallel } from '../src/analyze-parallel.js';
import { series } from '../test/helpers/train-series.js';
import { kerasArchive } from '../test/helpers/keras-write.js';
import { benchData, buildBenchModel, kerasConfig, workload } from './workloads.js';

const ROOT = path.join(import.meta.dirname, '..');
const mode = process.argv[2] ?? 'memory';
const N = Number(process.argv[3] ?? (mode === 'memory' ? 200 : 3));
const dir = mkdtempSync(path.join(tmpdir(), 'rnnscope-bench-watch-'));
mkdirSync(path.join(dir, 'ckpt'));

function status(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)![1]) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}
const mb = (b: number) => (b / 2 ** 20).toFixed(0);

const child = spawn(
  process.execPath,
  [
    path.join(ROOT, 'bin', 'rnnscope.js'),
    'watch',
    'ckpt',
    '--data',
    'x.npy',
    '--targets',
    'y.npy',
    '--out',
    'report',
    '--port',
    '0',
    '--settle',
    '0.2',
  ],
  { cwd: dir, env: { ...process.env, NO_COLOR: '1' } },
);
let err = '';
child.stderr.on('data', (d) => {
  err += d;
});
child.stdout.resume();
const done = (k: number) => (err.match(/^✓ /gm) ?? []).length >= k;
async function until(k: number): Promise<void> {
  while (!done(k)) {
    if (child.exitCode !== null) throw new Error(`watch exited:\n${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

try {
  const rows: string[] = [];
  /** The analyze side of speed mode, per checkpoint: [load s, analysis s]. */
  const direct: number[][] = [];
  if (mode === 'memory') {
    const s = series(dir, { steps: 50, units: 32, samples: 64, every: 2, seed: 1 });
    s.writeData();
    for (let k = 1; k <= N; k++) {
      writeFileSync(path.join(dir, 'ckpt', `epoch${String(k).padStart(3, '0')}.keras`), await s.next('keras', k > 1));
      await until(k);
      if (k === 1 || k % 20 === 0) {
        const st = status(child.pid!);
        rows.push(`| ${k} | ${mb(st.rss)} | ${mb(st.hwm)} |`);
      }
    }
    console.log(
      `rnnscope watch over ${N} checkpoints of LSTM(32), 50 steps, 64 samples (live page on, snapshot after each):`,
    );
    console.log('| checkpoints analysed | VmRSS (MiB) | VmHWM peak so far (MiB) |\n|---|---|---|');
  } else {
    const w = { ...workload('W') };
    const model = buildBenchModel(w);
    const data = benchData(w, 256);
    writeFileSync(path.join(dir, 'x.npy'), encodeNpy({ shape: data.x.shape, data: data.x.data as Float32Array }));
    writeFileSync(path.join(dir, 'y.npy'), encodeNpy({ shape: data.y.shape, data: data.y.data as Float32Array }));
    for (let k = 1; k <= N; k++) {
      // Different weights per checkpoint (a scaled copy), same architecture.
      for (const [, v] of model.weights) for (let i = 0; i < v.data.length; i++) (v.data as Float64Array)[i]! *= 1.01;
      const file = path.join(dir, 'ckpt', `epoch${String(k).padStart(3, '0')}.keras`);
      writeFileSync(file, await kerasArchive(kerasConfig(w), model));
      await until(k);
      // The same checkpoint through what `rnnscope analyze` runs (load, then the parallel analysis), in
      // this process right after, so both see the same machine.
      const t0 = performance.now();
      const m = await loadModelFile(file);
      const t1 = performance.now();
      await analyzeModelParallel(m, { inputs: [data.x], targets: [data.y] }, {});
      direct.push([(t1 - t0) / 1000, (performance.now() - t1) / 1000]);
      rows.push(
        `| ${k} | ${(t1 - t0) / 1000 >= 0 ? ((t1 - t0) / 1000).toFixed(2) : ''} | ${((performance.now() - t1) / 1000).toFixed(2)} |`,
      );
    }
    console.log(`rnnscope watch, workload W (2 × LSTM(128), 100 steps, 64 inputs), 256 samples per checkpoint.`);
    console.log(
      "The same checkpoints through rnnscope analyze's calls (loadModelFile + analyzeModelParallel) right after each:",
    );
    console.log('| checkpoint | analyze: load (s) | analyze: analysis (s) |\n|---|---|---|');
  }
  console.log(rows.join('\n'));
  const times = [...err.matchAll(/loaded in ([\d.]+) s, analysed in ([\d.]+) s/g)].map((m) => [
    Number(m[1]),
    Number(m[2]),
  ]);
  const mean = (i: number) => (times.reduce((a, t) => a + t[i]!, 0) / times.length).toFixed(2);
  console.log(
    `per checkpoint: load ${mean(0)} s, analysis ${mean(1)} s (mean of ${times.length}; first: ${times[0]?.join(' s + ')} s)`,
  );
  if (mode === 'speed') {
    console.log(
      err
        .split('\n')
        .filter((l) => l.startsWith('✓'))
        .join('\n'),
    );
    // Last line: the numbers for bench/run.ts (its children report one JSON line).
    console.log(JSON.stringify({ ok: times.length === N, watch: times, analyze: direct }));
  }
} finally {
  child.kill('SIGINT');
  await new Promise((r) => child.on('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
