// `rnnscope report`, `rnnscope inspect`, `rnnscope demo`.

import { readFile } from 'node:fs/promises';
import { DataError, LoadError } from '../model/errors.js';
import { analysisLib, demoLib, ioLib, reportLib, summaryLib } from './lib.js';
import { writeOutputs } from './analyze.js';
import { colorsFor, info, progress, summaryStyle, type Flags, type Io } from './output.js';

export async function reportCommand(file: string, f: Flags & { out: string; allCharts: boolean }, io: Io): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new LoadError(`Cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)}); expected an analysis JSON file, so check the path.`, { file, cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DataError(`${file} is not JSON (${(e as Error).message}); expected the file written by 'rnnscope analyze --json', so pass that file.`, { file, cause: e });
  }
  const { validateReportInput } = await analysisLib();
  const input = validateReportInput(json);
  const { writeReport, summaryText } = await reportLib();
  const bar = progress(io, f, 'charts');
  try {
    await writeReport(input, f.out, { variants: f.allCharts, onProgress: (done, total) => bar.update({ phase: 'Drawing charts', done, total }) });
  } finally {
    bar.stop();
  }
  if (!f.quiet) io.stdout.write(summaryText(input, summaryStyle(colorsFor(io.stdout, io.env))));
  info(io, f, `Wrote the report: ${f.out}/index.html`);
}

export async function inspectCommand(model: string, f: Flags & { weights?: string }, io: Io): Promise<void> {
  const { loadModelFile } = await ioLib();
  const spec = await loadModelFile(model, f.weights !== undefined ? { weights: f.weights } : {});
  const { summary } = await summaryLib();
  io.stdout.write(summary(spec).replace(/\n?$/, '\n'));
  const c = colorsFor(io.stdout, io.env);
  for (const w of spec.warnings) io.stdout.write(c.yellow(`note: ${w.message}${w.count > 1 ? ` (×${w.count})` : ''}`) + '\n');
}

export async function demoCommand(f: Flags & { out: string; json?: string; allCharts: boolean }, io: Io): Promise<void> {
  const { runDemo } = await demoLib();
  info(io, f, 'Training a SimpleRNN, an LSTM and a GRU on the adding problem, and analysing each before and after (seeded; about a minute).');
  const bar = progress(io, f, 'steps');
  let set;
  try {
    set = await runDemo({ onProgress: (p) => bar.update(p) });
  } finally {
    bar.stop();
  }
  await writeOutputs(set, null, { out: f.out, json: f.json, quiet: f.quiet, verbose: f.verbose, allCharts: f.allCharts }, io);
}
