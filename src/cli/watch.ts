// `rnnscope watch DIR --data x.npy [--targets y.npy] [--model arch.json] [--out DIR] [--port N] [--host H]`:
// analyse each checkpoint a training run writes into DIR, keep the timeline as a live page on
// loopback and as a snapshot on disk, report progress, stop cleanly on Ctrl-C. The loop is
// src/watch/watch.ts; this is the shell around it.

import { stat } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { LoadError, RnnscopeError } from '../model/errors.js';
import type { Warning } from '../model/types.js';
import type { AnalysisSet } from '../analysis/schema.js';
import type { TimelineFinding, TimelinePoint } from '../analysis/timeline.js';
import { describeCheckpoint } from '../analysis/checkpoint-names.js';
import { cleanupSync } from '../io/safe-write.js';
import { loadData, usage } from './analyze.js';
import { checkInputs, inputIds, type InputRef } from './inputs.js';
import { ioLib } from './lib.js';
import { colorsFor, info, summaryStyle, terminalSafe, type Flags, type Io } from './output.js';

export interface WatchFlags extends Flags {
  data: string[];
  targets?: string;
  model?: string;
  loss?: string;
  batchSize?: number;
  maxSamples?: number;
  out: string;
  port?: number;
  host: string;
  serve: boolean;
  once: boolean;
  settle: number;
}

/** The live page's port when --port is not given (if taken, any free port is used instead). */
export const DEFAULT_PORT = 6070;

const EXAMPLES = `
Examples:
  $ rnnscope watch ckpt --data x.npy --targets y.npy
  $ rnnscope watch ckpt --model arch.json --data x.npy --targets y.npy --out timeline --port 8080
  $ rnnscope watch ckpt --data x.npy --targets y.npy --once        # the checkpoints there now, then exit

Checkpoints: .keras, .h5 and .hdf5 files (weights-only ones with --model), and folders holding a
TF.js model.json. They are taken in the order of the epoch (and batch) numbers in their names, as
Keras' ModelCheckpoint writes them (filepath='ckpt/epoch{epoch:03d}.keras'), else by modification
time; each once it has stopped changing and loads completely. The live page is served on
127.0.0.1 only unless --host says otherwise. The --out folder keeps index.html and analysis.json,
replaced after every checkpoint, and gets the chart images when the watch ends (Ctrl-C).`;

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError(`'${v}' is not a port number (0–65535).`);
  return n;
}

function seconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 3600)
    throw new InvalidArgumentError(`'${v}' is not a number of seconds (0–3600).`);
  return n;
}

export function registerWatch(
  program: Command,
  io: Io,
  global: (cmd: Command) => Flags,
  positiveInt: (v: string) => number,
): void {
  const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];
  program
    .command('watch')
    .description('analyse each checkpoint as training writes it and keep a live training timeline')
    .argument('<dir>', 'folder the checkpoints are written to (Keras ModelCheckpoint, TF.js model.save)')
    .option('-d, --data <file>', 'fixed input data: .npy, .npz, .json, .csv (repeat for several inputs)', collect)
    .option('-t, --targets <file>', 'targets for the loss (else y in the data file, else a self-objective)')
    .option('-m, --model <file>', 'architecture (model.to_json() or a model file) for weights-only checkpoints')
    .option('--loss <name>', 'Keras loss name (default: from the model file, else a stated default)')
    .option('--batch-size <n>', 'samples per batch (default 32)', positiveInt)
    .option('--max-samples <n>', 'analyse at most this many samples', positiveInt)
    .option(
      '-o, --out <dir>',
      'folder for the snapshot (index.html, analysis.json) and the chart images',
      'rnnscope-watch',
    )
    .option('--port <n>', `port of the live page (default ${DEFAULT_PORT}, or any free one if taken; 0: any)`, port)
    .option('--host <address>', 'address to serve on (default 127.0.0.1: this machine only)', '127.0.0.1')
    .option('--no-serve', 'no live page; the snapshot on disk only')
    .option('--once', 'analyse the checkpoints in the folder now, write the report and exit')
    .option('--settle <seconds>', 'how long a file must stay unchanged before it is read (default 1)', seconds, 1)
    .addHelpText('after', EXAMPLES)
    .action(async (dir: string, o, cmd: Command) =>
      watchCommand(dir, { ...o, data: o.data ?? [], serve: o.serve !== false, once: !!o.once, ...global(cmd) }, io),
    );
}

function layerHorizons(set: AnalysisSet, p: TimelinePoint): string {
  const t = set.timeline!;
  return t.layers
    .map(
      (l, i) =>
        `${l.direction ? `${l.layer}/${l.direction}` : l.layer} ${p.layers[i]?.horizon.steps ?? 'n/a'}/${l.steps}`,
    )
    .join(', ');
}

export async function watchCommand(dir: string, f: WatchFlags, io: Io): Promise<void> {
  const st = await stat(dir).catch(() => null);
  if (!st?.isDirectory())
    throw new LoadError(
      `The watched folder ${dir} ${st ? 'is not a folder' : 'does not exist'}; expected the folder your training writes checkpoints to, so create it first (training may start after rnnscope watch) or check the path.`,
      { file: dir },
    );
  if (f.targets && f.data.length === 0)
    throw usage('--targets was given without --data; expected inputs to go with the targets, so add --data X.');
  const refs: InputRef[] = [
    ...f.data.map((d) => ({ file: d, role: 'the --data file', expected: 'a .npy, .npz, CSV/TSV or JSON data file' })),
    ...(f.targets
      ? [{ file: f.targets, role: 'the --targets file', expected: 'a .npy, .npz, CSV/TSV or JSON data file' }]
      : []),
    ...(f.model
      ? [
          {
            file: f.model,
            role: 'the --model file',
            expected: 'an architecture JSON (model.to_json()) or a model file',
            folderOk: true,
          },
        ]
      : []),
  ];
  await checkInputs(refs);
  if (path.resolve(f.out) === path.resolve(dir))
    throw usage(
      `--out ${f.out} is the watched folder; expected a folder of its own for the report, so choose another --out.`,
    );

  const { ReportFolder } = await import('../report/out-folder.js');
  const { writeSnapshot } = await import('../report/timeline-snapshot.js');
  const { reportHtml } = await import('../report/html.js');
  const { readBundles } = await import('../report/render-node.js');
  const { writeReport, summaryText } = await import('../report/index.js');
  const { waitingPage } = await import('../report/timeline-page.js');
  const { runWatch } = await import('../watch/watch.js');
  const { startLiveServer, isLoopback } = await import('../watch/server.js');
  const lib = await ioLib();

  const folder = await ReportFolder.open(f.out, { inputs: await inputIds(refs), role: 'The --out folder' });
  const c = colorsFor(io.stderr, io.env);
  let server: Awaited<ReturnType<typeof startLiveServer>> | null = null;
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts === 1) {
      info(
        io,
        f,
        `\n${sig === 'SIGINT' ? 'Ctrl-C' : sig}: stopping (the snapshot on disk is complete; press Ctrl-C again to leave at once).`,
      );
      controller.abort();
      return;
    }
    cleanupSync();
    io.stderr.write('Stopped at once; the last complete snapshot stays on disk.\n');
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let last: AnalysisSet | null = null;
  try {
    if (f.serve) {
      const wanted = f.port ?? DEFAULT_PORT;
      const start = (p: number) => startLiveServer({ host: f.host, port: p, waitingHtml: waitingPage(dir) });
      try {
        server = await start(wanted);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' && f.port === undefined) server = await start(0);
        else
          throw new RnnscopeError(
            'usage',
            `Cannot serve the live page on ${f.host}:${wanted} (${code ?? String(e)}); expected a free port on an address of this machine, so pass another --port (0 picks a free one), another --host, or --no-serve.`,
          );
      }
      if (!isLoopback(f.host))
        info(
          io,
          f,
          c.yellow(
            `note: serving on ${f.host}: anyone who can reach this machine on port ${server.port} can read the page and the analysis.`,
          ),
        );
    }
    info(
      io,
      f,
      `Watching ${dir} for checkpoints${f.model ? ` (weights for ${f.model})` : ''}.${server ? ` Live page: ${server.url}` : ''} Snapshot: ${path.join(f.out, 'index.html')}.${f.once ? '' : ' Ctrl-C to stop.'}`,
    );
    const warnings: Warning[] = [];
    const bundles = readBundles();
    const said = new Set<string>();
    const key = (x: TimelineFinding) => `${x.code}|${x.layer}|${x.direction}|${x.at}|${x.evidence['gate'] ?? ''}`;
    let version = 0;
    const result = await runWatch({
      dir,
      model: f.model,
      once: f.once,
      settleMs: f.settle * 1000,
      pollMs: Math.min(500, Math.max(50, f.settle * 500)),
      signal: controller.signal,
      analyzeOptions: { loss: f.loss, batchSize: f.batchSize, maxSamples: f.maxSamples },
      load: (file, weights) => lib.loadModelFile(file, weights !== undefined ? { weights } : {}),
      fitData: async (model) => loadData(model, f, warnings),
      onEvent: (e) => {
        const name = terminalSafe(e.name);
        if (e.kind === 'waiting')
          info(
            io,
            f,
            c.dim(`… ${name} is not complete yet (${e.bytes.toLocaleString('en-US')} bytes so far); waiting for it.`),
          );
        else if (e.kind === 'skipped') info(io, f, c.yellow(`skipped ${name}: ${e.reason}.`));
        else if (e.kind === 'failed') info(io, f, c.red(`cannot use ${name}: ${terminalSafe(e.reason)}`));
        else if (e.kind === 'diverged')
          info(
            io,
            f,
            `${c.red('✗')} ${name} (${describeCheckpoint(e.point)}): ` +
              `${c.red(`diverged: ${e.point.nonFiniteWeights} NaN/Inf value(s) in ${e.point.nonFiniteTensors.join(', ')}`)}; ` +
              `kept in the timeline, not analysed.`,
          );
      },
      onUpdate: async (d) => {
        for (const a of d.set.runs)
          for (const w of warnings)
            if (!a.objective.warnings.some((x) => x.message === w.message)) a.objective.warnings.push({ ...w });
        await writeSnapshot(folder, d.set);
        last = d.set;
        version++;
        if (server) {
          const live = {
            status: `live · ${d.set.timeline!.points.length} checkpoints · updated ${new Date().toLocaleTimeString('en-GB')}`,
            version,
          };
          server.update({
            version,
            json: JSON.stringify(d.set),
            html: reportHtml(d.set, { bundles, staticFiles: false, live }),
            fragment: reportHtml(d.set, { bundles: [], staticFiles: false, live }),
          });
        }
        const p = d.point;
        if (p.nonFiniteWeights === 0)
          info(
            io,
            f,
            `${c.green('✓')} ${terminalSafe(d.name)} (${describeCheckpoint(p)}): loaded in ` +
              `${d.loadSeconds.toFixed(1)} s, analysed in ${d.analyseSeconds.toFixed(1)} s · loss ` +
              `${p.loss === null ? 'n/a' : Number(p.loss.toPrecision(4))} · horizon ` +
              `${layerHorizons(d.set, p)}`,
          );
        for (const x of d.set.timeline!.findings) {
          if (said.has(key(x))) continue;
          said.add(key(x));
          const mark = x.severity === 'error' ? c.red('!!') : x.severity === 'warning' ? c.yellow('!') : c.cyan('i');
          if (x.code !== 'horizon-trend') info(io, f, `  ${mark} ${terminalSafe(x.message)}`);
        }
      },
    });
    if (result.analysed === 0) info(io, f, `No checkpoint was analysed${f.once ? ` in ${dir}` : ''}.`);
    if (last && interrupts < 2) {
      info(io, f, 'Writing the chart images…');
      await writeReport(last, folder, {});
      if (!f.quiet) io.stdout.write(summaryText(last, summaryStyle(colorsFor(io.stdout, io.env))));
      info(
        io,
        f,
        `Wrote the report: ${path.join(f.out, 'index.html')} (${(last as AnalysisSet).timeline!.points.length} checkpoints).`,
      );
    }
  } catch (e) {
    await folder.abort();
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await server?.close();
  }
  await folder.close();
}
