// Writes test/fixtures/analysis/example-timeline.json: a real training timeline for the chart and
// report tests. The demo's LSTM (20 steps, 4 units) trained by rnnscope's engine, analysed at 6
// checkpoints on a fixed batch; the last checkpoint gets a NaN weight (a diverged checkpoint).
//   npx tsx scripts/make_timeline_fixture.ts
import { writeFileSync } from 'node:fs';
import { analyzeModel } from '../src/analysis/analyze.js';
import { addingProblem, buildDemoModel, train } from '../src/analysis/demo.js';
import { ANALYSIS_SET_SCHEMA, type AnalysisSet } from '../src/analysis/schema.js';
import { TimelineBuilder } from '../src/analysis/timeline.js';
import { makeRng } from '../src/engine/rng.js';
import { timelineTitle } from '../src/report/timeline-page.js';

const T = 20,
  U = 4,
  N = 6;
const rng = makeRng(21);
const model = buildDemoModel('LSTM', T, U, rng);
const ev = addingProblem(makeRng(22), 32, T);
const b = new TimelineBuilder();
let last = null;
for (let e = 1; e <= N; e++) {
  if (e > 1) train(model, rng, 15, 16, T);
  if (e === N) {
    const w = model.weights.get('lstm/recurrent_kernel')!;
    (w.data as Float64Array)[0] = Number.NaN;
  }
  last = analyzeModel(
    model,
    { inputs: [ev.x], targets: [ev.y], dataSource: 'adding problem (built-in)' },
    { batchSize: 32, label: `epoch${String(e).padStart(2, '0')}.keras` },
  ).analysis;
  b.add(model, last, { label: last.run.label, epoch: e, batch: null });
}
const timeline = b.timeline();
const set: AnalysisSet = {
  schema: ANALYSIS_SET_SCHEMA,
  note: 'Real numbers from a short seeded training run (scripts/make_timeline_fixture.ts); the last checkpoint was given a NaN weight.',
  title: timelineTitle(timeline),
  runs: [last!],
  timeline,
};
writeFileSync(new URL('../test/fixtures/analysis/example-timeline.json', import.meta.url), `${JSON.stringify(set)}\n`);
