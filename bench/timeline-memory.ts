// Memory of a training timeline over many checkpoints (issue: "bounded memory").
//
//   npx tsx --expose-gc bench/timeline-memory.ts [checkpoints=200]
//
// Trains the demo's LSTM (50 steps, 32 units) with rnnscope's engine, analyses every checkpoint on
// the same 64 samples and adds it to a TimelineBuilder, as `rnnscope watch` does in-process. Prints
// the resident set size (after a forced GC when --expose-gc is given) every 20 checkpoints, the time
// per checkpoint and the size of the timeline JSON. The whole `watch` process (files, loading,
// snapshots) is measured by `bench/watch.ts memory`.

import { analyzeModel } from '../src/analysis/analyze.js';
import { addingProblem, buildDemoModel, train } from '../src/analysis/demo.js';
import { TimelineBuilder } from '../src/analysis/timeline.js';
import { makeRng } from '../src/engine/rng.js';

const N = Number(process.argv[2] ?? 200);
const T = 50,
  U = 32;
const gc = (globalThis as { gc?: () => void }).gc;
const mb = (b: number): string => (b / 2 ** 20).toFixed(1);
const rss = (): number => {
  gc?.();
  return process.memoryUsage().rss;
};

const rng = makeRng(1);
const model = buildDemoModel('LSTM', T, U, rng);
const ev = addingProblem(makeRng(2), 64, T);
const builder = new TimelineBuilder();
const rows: string[] = [];
let spent = 0;
const rss0 = rss();
for (let k = 1; k <= N; k++) {
  train(model, rng, 2, 16, T);
  const t0 = performance.now();
  const a = analyzeModel(model, { inputs: [ev.x], targets: [ev.y] }, { batchSize: 32 }).analysis;
  builder.add(model, a, { label: `epoch${k}`, epoch: k, batch: null });
  spent += performance.now() - t0;
  if (k === 1 || k % 20 === 0) rows.push(`| ${k} | ${mb(rss())} | ${(spent / k).toFixed(0)} |`);
}
const json = JSON.stringify(builder.timeline());
console.log(
  `Timeline of ${N} checkpoints: LSTM(${U}) over ${T} steps, 64 samples; gc ${gc ? 'forced' : 'not forced (run with --expose-gc)'}; RSS before: ${mb(rss0)} MB`,
);
console.log('| checkpoints | RSS (MB) | mean analysis + summary (ms) |\n|---|---|---|');
console.log(rows.join('\n'));
console.log(
  `Timeline JSON: ${(json.length / 1024).toFixed(0)} KB (${(json.length / N / 1024).toFixed(1)} KB per checkpoint)`,
);
