// `rnnscope report`, `rnnscope inspect`, `rnnscope demo`.

import { join } from 'node:path';
import { DataError } from '../model/errors.js';
import { fsError } from '../io/fs-errors.js';
import type { WriteReportResult } from '../report/write.js';
import { analysisLib, demoLib, ioLib, reportLib, textLib, summaryLib } from './lib.js';
import { checkOutputFlags, writeOutputs } from './analyze.js';
import { checkInputs, inputIds, readInput, type InputRef } from './inputs.js';
import {
  CHART_PHASES,
  DEMO_PHASES,
  colorsFor,
  info,
  progress,
  summaryStyle,
  terminalSafe,
  terminalSafeDeep,
  type Flags,
  type Io,
} from './output.js';
import { prepareOutputs } from './outputs.js';
import { whileWriting } from './signals.js';

export async function reportCommand(
  file: string,
  f: Flags & { out: string; allCharts: boolean },
  io: Io,
): Promise<void> {
  checkOutputFlags({ out: f.out });
  const ref: InputRef = {
    file,
    role: 'the analysis file',
    expected: "the analysis JSON written by 'rnnscope analyze --json'",
  };
  await checkInputs([ref]);
  const text = Buffer.from(await readInput(ref)).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DataError(
      `${file} is not JSON (${(e as Error).message}); expected the file written by 'rnnscope analyze --json', so pass that file.`,
      { file, cause: e },
    );
  }
  const { validateReportInput } = await analysisLib();
  const input = validateReportInput(json);
  const plan = await prepareOutputs({ out: f.out }, await inputIds([ref]));
  let written: WriteReportResult | null = null;
  try {
    const { writeReport } = await reportLib();
    const bar = progress(io, f, CHART_PHASES);
    try {
      written = await whileWriting(io, () =>
        writeReport(input, plan.folder!, {
          onProgress: (done, total) => bar.update({ phase: 'Drawing charts', done, total }),
        }),
      );
    } finally {
      bar.stop();
    }
  } catch (e) {
    await plan.abort();
    throw e;
  }
  await plan.close();
  const { summaryText } = await textLib();
  if (!f.quiet) io.stdout.write(summaryText(terminalSafeDeep(input), summaryStyle(colorsFor(io.stdout, io.env))));
  info(io, f, `Wrote the report: ${join(f.out, 'index.html')}`);
  if (written) info(io, f, (await reportLib()).chartsLine(written, f.out));
}

export async function inspectCommand(model: string, f: Flags & { weights?: string }, io: Io): Promise<void> {
  const expected = 'a .keras, .h5 or TF.js model.json file (or its folder)';
  await checkInputs([
    { file: model, role: 'the model', expected, folderOk: true },
    ...(f.weights !== undefined
      ? [{ file: f.weights, role: 'the --weights file', expected: 'a Keras .h5 weights file' }]
      : []),
  ]);
  const { loadModelFile } = await ioLib();
  let spec;
  try {
    spec = await loadModelFile(model, f.weights !== undefined ? { weights: f.weights } : {});
  } catch (e) {
    throw fsError(e, { file: model, role: 'The model', action: 'read', expected });
  }
  const { summary } = await summaryLib();
  io.stdout.write(terminalSafe(summary(spec)).replace(/\n?$/, '\n'));
  // The summary ends with the model's warnings ("Warning: …"); they are not printed a second time.
}

export async function demoCommand(
  f: Flags & { out: string; json?: string; allCharts: boolean },
  io: Io,
): Promise<void> {
  checkOutputFlags({ out: f.out, json: f.json });
  const plan = await prepareOutputs({ out: f.out, json: f.json }, []);
  try {
    const { runDemo } = await demoLib();
    info(
      io,
      f,
      'Training a SimpleRNN, an LSTM and a GRU on the adding problem, and analysing each before and after (seeded; about a minute).',
    );
    const bar = progress(io, f, DEMO_PHASES);
    let set;
    try {
      set = await runDemo({ onProgress: (p) => bar.update(p) });
    } finally {
      bar.stop();
    }
    await writeOutputs(
      set,
      null,
      { out: f.out, json: f.json, quiet: f.quiet, verbose: f.verbose, allCharts: f.allCharts },
      io,
      plan,
    );
  } catch (e) {
    await plan.abort();
    throw e;
  }
  await plan.close();
}
