// `rnnscope analyze MODEL... [options]`: load, fit the data, call the library's
// analyze(), then write what was asked (JSON, .npz dump, report) and print the
// diagnosis summary.

import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { RnnscopeError } from '../model/errors.js';
import type { ModelSpec, Warning } from '../model/types.js';
import type { Analysis, AnalysisSet } from '../analysis/schema.js';
import { analysisLib, ioLib, reportLib } from './lib.js';
import { colorsFor, info, progress, summaryStyle, type Flags, type Io } from './output.js';

export interface AnalyzeFlags extends Flags {
  weights: string[];
  data: string[];
  targets?: string;
  loss?: string;
  batchSize?: number;
  maxSamples?: number;
  connectivity: boolean;
  json?: string;
  dump?: string;
  out?: string;
  allCharts: boolean;
}

export function usage(message: string): RnnscopeError {
  return new RnnscopeError('usage', message);
}

/** Pairs of (model file, weights file or undefined): one model with several weights files is one run per checkpoint. */
export function pairModels(models: string[], weights: string[]): { model: string; weights?: string; label: string }[] {
  const label = (m: string, w?: string) => basename(w ?? m);
  if (weights.length === 0) return models.map((m) => ({ model: m, label: label(m) }));
  if (models.length === 1) return weights.map((w) => ({ model: models[0], weights: w, label: label(models[0], w) }));
  if (weights.length === models.length) return models.map((m, i) => ({ model: m, weights: weights[i], label: label(m, weights[i]) }));
  throw usage(`Got ${models.length} models and ${weights.length} --weights files; expected one --weights per model, or one model with several --weights (checkpoints), so match them up.`);
}

const TARGET_LIKE = /^(y|y_.+|targets?|labels?)$/i;

async function loadData(model: ModelSpec, f: AnalyzeFlags, warnings: Warning[]) {
  const io = await ioLib();
  if (f.data.length === 0) {
    if (f.targets) throw usage('--targets was given without --data; expected inputs to go with the targets, so add --data X.');
    return { inputs: null, targets: null, dataSource: null };
  }
  const arrays = [];
  for (const file of f.data) arrays.push(...io.openData(await readFile(file), basename(file), { warnings }));
  const inputs = io.fitDataToModel(model, arrays, 'inputs', { warnings });
  const batch = inputs[0]?.shape[0];
  const losses = f.loss ? model.outputNames.map(() => f.loss ?? null) : undefined;
  let targets = null;
  if (f.targets) {
    const tArrays = io.openData(await readFile(f.targets), basename(f.targets), { warnings });
    targets = io.fitDataToModel(model, tArrays, 'targets', { warnings, batch, losses });
  } else if (arrays.some((a) => TARGET_LIKE.test(a.name) || model.outputNames.includes(a.name))) {
    // A data file that holds y (or arrays named after the outputs) carries its own targets.
    targets = io.fitDataToModel(model, arrays, 'targets', { warnings, batch, losses });
  }
  const names = [...f.data, ...(f.targets ? [f.targets] : [])].map((p) => basename(p));
  return {
    inputs: inputs.map((a) => ({ shape: a.shape, data: a.data })),
    targets: targets ? targets.map((a) => ({ shape: a.shape, data: a.data })) : null,
    dataSource: names.join(', '),
  };
}

function addWarnings(result: Analysis | AnalysisSet, warnings: Warning[]): void {
  const runs = 'runs' in result ? result.runs : [result];
  for (const a of runs) {
    for (const w of warnings) if (!a.objective.warnings.some((x) => x.message === w.message)) a.objective.warnings.push({ ...w });
  }
}

export async function analyzeCommand(models: string[], f: AnalyzeFlags, io: Io): Promise<void> {
  if (f.json === '-' && f.dump === '-') throw usage("--json - and --dump - both want stdout; expected at most one of them on stdout, so give --dump a file name.");
  const lib = await ioLib();
  const pairs = pairModels(models, f.weights);
  const specs: ModelSpec[] = [];
  for (const p of pairs) specs.push(await lib.loadModelFile(p.model, p.weights !== undefined ? { weights: p.weights } : {}));
  const warnings: Warning[] = [];
  const data = await loadData(specs[0], f, warnings);
  const { analyze } = await analysisLib();
  const bar = progress(io, f, 'steps');
  let out;
  try {
    out = await analyze(specs, data, {
      loss: f.loss, batchSize: f.batchSize, maxSamples: f.maxSamples, connectivity: f.connectivity,
      keepRaw: f.dump !== undefined, labels: pairs.map((p) => p.label),
      onProgress: (p) => bar.update(p),
    });
  } finally {
    bar.stop();
  }
  const { result, raw } = out;
  addWarnings(result, warnings);
  await writeOutputs(result, raw, f, io);
}

/** JSON, .npz dump, report directory, then the summary (on stderr when stdout carries JSON). */
export async function writeOutputs(
  result: Analysis | AnalysisSet,
  raw: Map<string, { shape: number[]; data: Float32Array | Float64Array }>[] | null,
  f: Pick<AnalyzeFlags, 'json' | 'dump' | 'out' | 'quiet' | 'verbose' | 'allCharts'>,
  io: Io,
): Promise<void> {
  if (f.json === '-') io.stdout.write(JSON.stringify(result) + '\n');
  else if (f.json) await writeFileIn(f.json, JSON.stringify(result) + '\n');
  if (f.dump && raw) {
    const { encodeNpz } = await ioLib();
    const merged = new Map<string, { shape: number[]; data: Float32Array | Float64Array }>();
    // Several models: each run's arrays under run<i>/ (numpy.load keys may contain '/').
    raw.forEach((m, i) => m.forEach((v, k) => merged.set(raw.length > 1 ? `run${i}/${k}` : k, v)));
    await writeFileIn(f.dump, encodeNpz(merged));
  }
  const { writeReport, summaryText } = await reportLib();
  const toStdout = f.json !== '-';
  if (f.out) {
    const bar = progress(io, f, 'charts');
    try {
      await writeReport(result, f.out, { variants: f.allCharts, onProgress: (done, total) => bar.update({ phase: 'Drawing charts', done, total }) });
    } finally {
      bar.stop();
    }
  }
  if (!f.quiet) {
    const stream = toStdout ? io.stdout : io.stderr;
    stream.write(summaryText(result, summaryStyle(colorsFor(stream, io.env))));
  }
  if (f.json && f.json !== '-') info(io, f, `Wrote ${f.json}`);
  if (f.dump) info(io, f, `Wrote ${f.dump}`);
  if (f.out) info(io, f, `Wrote the report: ${f.out}/index.html`);
}

async function writeFileIn(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, data);
}
