// Child process for the memory tests: builds a bench-style model (seeded weights, seeded data),
// runs the whole analysis and prints one JSON line with the peak resident set size and the time.
//   tsx test/helpers/analysis-memory-child.ts '<json job>'
// job: { kind, inputs, units, steps, layers, samples, batchSize, workers?, dtype?, dump?: path }
import { buildBenchModel, benchData, type CellKind } from '../../bench/workloads.js';
import { analyzeModelParallel } from '../../src/analyze-parallel.js';

interface Job {
  kind: CellKind;
  inputs: number;
  units: number;
  steps: number;
  layers: number;
  samples: number;
  batchSize: number;
  workers?: number;
  dtype?: 'float32' | 'float64';
  contributionMemory?: number;
}

const job = JSON.parse(process.argv[2]!) as Job;
const w = { id: 'memory', batch: job.batchSize, ...job };
const model = buildBenchModel(w);
const d = benchData(w, job.samples);
const t0 = performance.now();
const { analysis } = await analyzeModelParallel(model, { inputs: [d.x], targets: [d.y], dataSource: 'bench' }, {
  batchSize: job.batchSize,
  workers: job.workers ?? 1,
  jacobianSamples: 2,
  ...(job.dtype ? { dtype: job.dtype } : {}),
  ...(job.contributionMemory ? { contributionMemory: job.contributionMemory } : {}),
} as Parameters<typeof analyzeModelParallel>[2]);
const seconds = (performance.now() - t0) / 1e3;
// Σ_t C_t must be the gradient block: the largest relative gap over every gate × group of every layer.
let sumGap = 0;
for (const ra of analysis.recurrent)
  for (const c of ra.contributions) {
    const p = analysis.params.find((q) => q.layer === ra.layer && q.direction === ra.direction && q.name === c.group)!;
    const g = p.blocks!.find((b) => b.gate === c.gate)!.gradNorm!;
    if (g > 0) sumGap = Math.max(sumGap, Math.abs(c.total! - g) / g);
  }
process.stdout.write(
  `${JSON.stringify({
    maxRSS: process.resourceUsage().maxRSS * 1024,
    seconds,
    sumGap,
    loss: analysis.objective.value,
    warnings: analysis.objective.warnings.map((x) => x.code),
    finiteNorms: analysis.recurrent.every((r) =>
      r.contributions.every((c) => c.norm.every((v) => v !== null && Number.isFinite(v))),
    ),
  })}\n`,
);
