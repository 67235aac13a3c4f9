// `rnnscope analyze MODEL... [options]`: load, fit the data, call the library's
// analyze(), then write what was asked (JSON, .npz dump, report) and print the
// diagnosis summary.

import { basename, join } from 'node:path';
import { RnnscopeError } from '../model/errors.js';
import type { ModelSpec, Warning } from '../model/types.js';
import type { Analysis, AnalysisSet } from '../analysis/schema.js';
import { fsError } from '../io/fs-errors.js';
import { checkInputs, inputIds, readInput, type InputRef } from './inputs.js';
import type { WriteReportResult } from '../report/write.js';
import { analysisLib, ioLib, reportLib, textLib } from './lib.js';
import {
  ANALYSIS_PHASES,
  CHART_PHASES,
  colorsFor,
  info,
  progress,
  summaryStyle,
  terminalSafeDeep,
  type Flags,
  type Io,
} from './output.js';
import { prepareOutputs, type OutputFlags, type OutputPlan } from './outputs.js';
import { whileWriting } from './signals.js';
import { expandGlobs } from './glob.js';
import { KEEP_FULL, analyzeSeries } from './checkpoints.js';
import { addWarnings } from '../analysis/checkpoint-series.js';
import { NpzDumpFile } from '../dump-file.js';
import { PhaseClock } from './profile.js';

export interface AnalyzeFlags extends Flags {
  weights: string[];
  data: string[];
  targets?: string;
  loss?: string;
  batchSize?: number;
  maxSamples?: number;
  dtype?: 'float32' | 'float64';
  connectivity: boolean;
  json?: string;
  dump?: string;
  out?: string;
  allCharts: boolean;
  /** Print the wall time of each phase on stderr (profile.ts). */
  profile?: boolean;
}

export function usage(message: string): RnnscopeError {
  return new RnnscopeError('usage', message);
}

/** Pairs of (model file, weights file or undefined): one model with several weights files is one run per checkpoint. */
export function pairModels(models: string[], weights: string[]): { model: string; weights?: string; label: string }[] {
  const label = (m: string, w?: string) => basename(w ?? m);
  if (weights.length === 0) return models.map((m) => ({ model: m, label: label(m) }));
  if (models.length === 1) return weights.map((w) => ({ model: models[0], weights: w, label: label(models[0], w) }));
  if (weights.length === models.length)
    return models.map((m, i) => ({ model: m, weights: weights[i], label: label(m, weights[i]) }));
  throw usage(
    `Got ${models.length} models and ${weights.length} --weights files; expected one --weights per model, or one model with several --weights (checkpoints), so match them up.`,
  );
}

const TARGET_LIKE = /^(y|y_.+|targets?|labels?)$/i;

const MODEL_EXPECTED = 'a .keras, .h5 or TF.js model.json file (or its folder)';
const DATA_EXPECTED = 'a .npy, .npz, CSV/TSV or JSON data file';

/** Every file the run reads, in the order the user gave them. */
export function inputRefs(
  pairs: { model: string; weights?: string }[],
  f: Pick<AnalyzeFlags, 'data' | 'targets'>,
): InputRef[] {
  const refs: InputRef[] = [];
  for (const m of new Set(pairs.map((p) => p.model)))
    refs.push({ file: m, role: 'the model', expected: MODEL_EXPECTED, folderOk: true });
  for (const w of new Set(pairs.flatMap((p) => (p.weights === undefined ? [] : [p.weights]))))
    refs.push({ file: w, role: 'the --weights file', expected: 'a Keras .h5 weights file' });
  for (const d of f.data) refs.push({ file: d, role: 'the --data file', expected: DATA_EXPECTED });
  if (f.targets) refs.push({ file: f.targets, role: 'the --targets file', expected: DATA_EXPECTED });
  return refs;
}

/** Output flags that can never work, refused before anything is read. */
export function checkOutputFlags(f: OutputFlags): void {
  if (f.json === '-' && f.dump === '-')
    throw usage(
      '--json - and --dump - both want stdout; expected at most one of them on stdout, so give --dump a file name.',
    );
  if (f.out === '-')
    throw usage(
      "--out - would make a folder named '-'; expected a folder for index.html and the charts (the report is several files and cannot go to stdout), so give a folder name, or use --json - for the analysis on stdout.",
    );
  if (f.dump === '-')
    throw usage(
      '--dump - would write binary .npz data to the terminal; expected a file name, so give one such as grads.npz.',
    );
  for (const [flag, v] of [
    ['--json', f.json],
    ['--dump', f.dump],
    ['--out', f.out],
  ] as const) {
    if (v !== undefined && v.trim() === '')
      throw usage(`${flag} was given an empty name; expected a path, so give one.`);
  }
}

export async function loadModel(
  lib: Awaited<ReturnType<typeof ioLib>>,
  p: { model: string; weights?: string },
): Promise<ModelSpec> {
  try {
    return await lib.loadModelFile(p.model, p.weights !== undefined ? { weights: p.weights } : {});
  } catch (e) {
    throw fsError(e, {
      file: p.weights ?? p.model,
      role: p.weights ? 'The --weights file' : 'The model',
      action: 'read',
      expected: MODEL_EXPECTED,
    });
  }
}

/** The fixed data (--data, --targets) fitted to `model`; `rnnscope watch` uses it too. */
export async function loadData(
  model: ModelSpec,
  f: Pick<AnalyzeFlags, 'data' | 'targets' | 'loss'>,
  warnings: Warning[],
) {
  const io = await ioLib();
  if (f.data.length === 0) {
    if (f.targets)
      throw usage('--targets was given without --data; expected inputs to go with the targets, so add --data X.');
    return { inputs: null, targets: null, dataSource: null };
  }
  const arrays = [];
  for (const file of f.data)
    arrays.push(
      ...io.openData(await readInput({ file, role: 'the --data file', expected: DATA_EXPECTED }), basename(file), {
        warnings,
      }),
    );
  const losses = f.loss ? model.outputNames.map(() => f.loss ?? null) : undefined;
  // A data file that holds y (or arrays named after the outputs) carries its own targets.
  const tArrays = f.targets
    ? io.openData(
        await readInput({ file: f.targets, role: 'the --targets file', expected: DATA_EXPECTED }),
        basename(f.targets),
        { warnings },
      )
    : arrays.some((a) => TARGET_LIKE.test(a.name) || model.outputNames.includes(a.name))
      ? arrays
      : null;
  const { inputs, targets } = io.fitInputsAndTargets(model, arrays, tArrays, { warnings, losses });
  const names = [...f.data, ...(f.targets ? [f.targets] : [])].map((p) => basename(p));
  return {
    inputs: inputs.map((a) => ({ shape: a.shape, data: a.data })),
    targets: targets ? targets.map((a) => ({ shape: a.shape, data: a.data })) : null,
    dataSource: names.join(', '),
  };
}

export async function analyzeCommand(given: string[], f: AnalyzeFlags, io: Io): Promise<void> {
  checkOutputFlags(f);
  // The gradient pool's workers (pool-node.ts) start now and load their modules while the files load.
  const pool = (await import('../pool-node.js')).gradPool();
  (await import('../analyze-parallel.js')).warmAnalysisPool(pool);
  if (f.verbose || f.profile) io.stderr.write(`${pool.describe()}\n`);
  // Wildcards in quotes ('ckpt/*.h5') are expanded here; several checkpoints make a timeline (checkpoints.ts).
  const m = await expandGlobs(given, 'the model pattern'),
    w = await expandGlobs(f.weights, 'the --weights pattern');
  const models = m.files;
  f = { ...f, weights: w.files };
  const pairs = pairModels(models, f.weights);
  if (pairs.length > KEEP_FULL && f.dump !== undefined)
    throw usage(
      `--dump with ${pairs.length} checkpoints would hold every per-step array of each; expected at most ${KEEP_FULL} models with --dump, so dump fewer checkpoints.`,
    );
  const refs = inputRefs(pairs, f);
  await checkInputs(refs);
  // Outputs are checked and locked before the work, so a refused or unwritable path costs nothing.
  const plan = await prepareOutputs(f, await inputIds(refs));
  const clock = f.profile ? new PhaseClock() : null;
  clock?.mark('load');
  try {
    const lib = await ioLib();
    if (pairs.length > 1) {
      const warnings: Warning[] = [];
      const dump = openDump(plan, f, true);
      try {
        const run = () =>
          analyzeSeries(
            pairs,
            m.expanded || w.expanded,
            { ...f, keepRaw: false, dumpFile: dump?.file },
            {
              loadModel: (p) => loadModel(lib, p),
              loadData: (model) => loadData(model, f, warnings),
            },
            io,
            f,
          );
        // A streaming dump is being written: Ctrl-C removes it (the batches run in worker threads).
        clock?.mark('checkpoints (load and analysis)');
        const series = dump ? await whileWriting(io, run) : await run();
        addWarnings(series.result, [...warnings, ...series.warnings]);
        dump?.file.finish();
        clock?.mark('writing');
        await writeOutputs(series.result, null, f, io, plan, dump?.temp);
      } catch (e) {
        await dump?.discard();
        throw e;
      }
      await plan.close();
      clock?.print(io);
      return;
    }
    const specs: ModelSpec[] = [];
    for (const p of pairs) specs.push(await loadModel(lib, p));
    const warnings: Warning[] = [];
    const data = await loadData(specs[0], f, warnings);
    const { analyze } = await analysisLib();
    const bar = progress(io, f, ANALYSIS_PHASES);
    // The dump streams into a temporary file beside its target while the batches run (dump-file.ts).
    const dump = openDump(plan, f, specs.length > 1);
    let out;
    try {
      const run = () =>
        analyze(specs, data, {
          loss: f.loss,
          batchSize: f.batchSize,
          maxSamples: f.maxSamples,
          connectivity: f.connectivity,
          dtype: f.dtype,
          dumpFile: dump?.file,
          labels: pairs.map((p) => p.label),
          onProgress: (p) => {
            clock?.mark(p.phase);
            bar.update(p);
          },
        });
      // A streaming dump is being written: Ctrl-C removes it (the batches run in worker threads).
      out = dump ? await whileWriting(io, run) : await run();
      dump?.file.finish();
    } catch (e) {
      await dump?.discard();
      throw e;
    } finally {
      bar.stop();
    }
    const { result } = out;
    addWarnings(result, warnings);
    clock?.mark('writing');
    await writeOutputs(result, null, f, io, plan, dump?.temp);
  } catch (e) {
    await plan.abort();
    throw e;
  }
  await plan.close();
  clock?.print(io);
}

/** JSON, .npz dump, report directory (each whole or not at all), then the summary (on stderr when stdout carries JSON).
 * */
export async function writeOutputs(
  result: Analysis | AnalysisSet,
  raw: Map<string, { shape: number[]; data: Float32Array | Float64Array }>[] | null,
  f: Pick<AnalyzeFlags, 'json' | 'dump' | 'out' | 'quiet' | 'verbose' | 'allCharts'>,
  io: Io,
  plan: OutputPlan,
  /** A dump already streamed to this temporary file: renamed into place with the other outputs. */
  dumpTemp?: string,
): Promise<void> {
  if (f.json === '-') io.stdout.write(`${JSON.stringify(result)}\n`);
  let written: WriteReportResult | null = null;
  await whileWriting(io, async () => {
    if (plan.json) await plan.json.write(`${JSON.stringify(result)}\n`);
    if (plan.dump && dumpTemp) await plan.dump.commit(dumpTemp);
    else if (plan.dump && raw) {
      const { encodeNpz } = await ioLib();
      const merged = new Map<string, { shape: number[]; data: Float32Array | Float64Array }>();
      // Several models: each run's arrays under run<i>/ (numpy.load keys may contain '/').
      raw.forEach((m, i) => m.forEach((v, k) => merged.set(raw.length > 1 ? `run${i}/${k}` : k, v)));
      await plan.dump.write(encodeNpz(merged));
    }
    if (plan.folder) {
      const { writeReport } = await reportLib();
      const bar = progress(io, f, CHART_PHASES);
      try {
        written = await writeReport(result, plan.folder, {
          onProgress: (done, total) => bar.update({ phase: 'Drawing charts', done, total }),
        });
      } finally {
        bar.stop();
      }
    }
  });
  const { summaryText } = await textLib();
  const toStdout = f.json !== '-';
  if (!f.quiet) {
    const stream = toStdout ? io.stdout : io.stderr;
    stream.write(summaryText(terminalSafeDeep(result), summaryStyle(colorsFor(stream, io.env))));
  }
  if (plan.json) info(io, f, `Wrote ${f.json}`);
  if (plan.dump && (raw || dumpTemp)) info(io, f, `Wrote ${f.dump}`);
  if (plan.folder) info(io, f, `Wrote the report: ${join(f.out ?? '', 'index.html')}`);
  if (written) info(io, f, (await reportLib()).chartsLine(written, f.out ?? ''));
}

/** The --dump file opened for streaming under a temporary name (null without --dump). */
function openDump(
  plan: OutputPlan,
  f: Pick<AnalyzeFlags, 'dump'>,
  prefixRuns: boolean,
): { file: NpzDumpFile; temp: string; discard(): Promise<void> } | null {
  if (!plan.dump || f.dump === undefined) return null;
  const out = plan.dump,
    temp = out.tempPath();
  const file = new NpzDumpFile(temp, f.dump, prefixRuns);
  return {
    file,
    temp,
    discard: async () => {
      file.close();
      await out.discard(temp);
    },
  };
}
