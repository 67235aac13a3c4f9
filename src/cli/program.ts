// The command line: parse, call the library, print err.message (the stack only
// with --verbose), return the exit code: 0 done, 1 bad input (an RnnscopeError)
// or an internal failure, 2 usage.

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { RnnscopeError } from '../model/errors.js';
import { analyzeCommand } from './analyze.js';
import { demoCommand, inspectCommand, reportCommand } from './commands.js';
import { fsErrorFromNode } from '../io/fs-errors.js';
import { MissingLibraryError } from './lib.js';
import { registerWatch } from './watch.js';
import { registerServe } from './serve.js';
import { colorsFor, terminalSafe, type Flags, type Io } from './output.js';

const VERSION = '0.1.0';

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`'${v}' is not a positive integer.`);
  return n;
}

function nonEmpty(flag: string) {
  return (v: string): string => {
    if (v.trim() === '')
      throw new InvalidArgumentError(
        `${flag} was given an empty value; expected a name, so give one or leave the option out.`,
      );
    return v;
  };
}

// commander passes undefined as `prev` the first time (no default is declared).
const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

const OUTPUT_RULES = `
Outputs (details: docs/outputs.md):
  rnnscope never replaces a file it did not write. An output that is one of the inputs (also
  through a link), a symbolic link, or an existing file that is not an earlier rnnscope result
  (--json: an analysis JSON; --dump: its .npz) is refused before any work. Into an existing
  --out folder it writes only over files listed in its .rnnscope-manifest.json; any other file
  in the way stops the run, files not in the way are kept. Every file is written under a
  temporary name and renamed into place, so a failed or interrupted run leaves earlier results
  as they were. A second run on the same output is refused while the first holds its lock.`;

const EXAMPLES = {
  analyze: `
Examples:
  $ rnnscope analyze model.h5 --data x.npy --targets y.npy --out report
  $ rnnscope analyze model.keras --data data.npz --json analysis.json --dump grads.npz
  $ rnnscope analyze model.json --weights ckpt-01.h5 --weights ckpt-10.h5 --out compare
  $ rnnscope analyze model.h5 --json - --quiet | jq '.findings'

Without --data, seeded random inputs matching the model are used (with a warning).
Without targets, a self-objective is used and stated in the output.
--dump writes grad/<layer>/<weight>, dh/<layer>, dc/<layer>, dx/<layer>, gate_grad/<layer>/<gate>
(and .../forward|backward inside a Bidirectional; run<i>/ in front for several models).
${OUTPUT_RULES}`,
  report: `
Examples:
  $ rnnscope report analysis.json --out report
  $ rnnscope report analysis.json --out report --all-charts
  $ rnnscope report report/analysis.json --out report     (redraw in place: analysis.json stays as it is)
${OUTPUT_RULES}`,
  inspect: `
Examples:
  $ rnnscope inspect model.h5
  $ rnnscope inspect model.json --weights weights.h5`,
  demo: `
Examples:
  $ rnnscope demo
  $ rnnscope demo --out demo-report --json demo.json
${OUTPUT_RULES}`,
};

export async function run(argv: string[], io: Io): Promise<number> {
  const program = new Command();
  let flags: Flags = { quiet: false, verbose: argv.includes('--verbose') };
  const global = (cmd: Command): Flags => {
    const o = cmd.optsWithGlobals() as { quiet?: boolean; verbose?: boolean };
    flags = { quiet: !!o.quiet, verbose: !!o.verbose };
    return flags;
  };
  program
    .name('rnnscope')
    .description(
      'See how gradients flow through recurrent networks (SimpleRNN, LSTM, GRU, Bidirectional) from Keras and TensorFlow.js.',
    )
    .version(VERSION)
    .option('-q, --quiet', 'print nothing but requested output and errors')
    .option('--verbose', 'print stack traces with errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  program
    .command('analyze')
    .description('compute exact per-step gradients over your data and diagnose gradient flow')
    .argument('<model...>', 'model file(s): .keras, .h5, model.json (TF.js), or a to_json() architecture')
    .addOption(
      new Option(
        '-w, --weights <file>',
        'weights file (repeat: one per model, or several checkpoints of one model)',
      ).argParser(collect),
    )
    .addOption(
      new Option('-d, --data <file>', 'input data: .npy, .npz, .json, .csv (repeat for several inputs)').argParser(
        collect,
      ),
    )
    .option('-t, --targets <file>', 'targets for the loss (else y in the data file, else a self-objective)')
    .option(
      '--loss <name>',
      'Keras loss name (default: from the model file, else a stated default)',
      nonEmpty('--loss'),
    )
    .option('--batch-size <n>', 'samples per batch (default 32)', positiveInt)
    .option('--max-samples <n>', 'analyse at most this many samples', positiveInt)
    .addOption(
      new Option(
        '--dtype <type>',
        'precision of the whole analysis, its JSON and dump (float64: to tell a precision effect from a real one)',
      )
        .choices(['float32', 'float64'])
        .default('float32'),
    )
    .option('--connectivity', 'also compute the output-step × input-step connectivity map (slower)')
    .option('--json <file>', "write the analysis JSON ('-' for stdout); replaces only an earlier analysis JSON")
    .option(
      '--dump <file.npz>',
      'write raw gradients and per-step arrays as .npz (numpy.load); replaces only an earlier dump',
    )
    .option('-o, --out <dir>', 'write the report folder: index.html, analysis.json, charts/*.svg|png (not stdout)')
    .option('--all-charts', '(kept for older scripts: every layer and run is drawn anyway)')
    .option('--profile', 'print the wall time of each phase on stderr (load, gradients, jacobian, …, writing)')
    .addHelpText('after', EXAMPLES.analyze)
    .action(async (models: string[], o, cmd: Command) =>
      analyzeCommand(
        models,
        {
          ...o,
          weights: o.weights ?? [],
          data: o.data ?? [],
          connectivity: !!o.connectivity,
          allCharts: !!o.allCharts,
          ...global(cmd),
        },
        io,
      ),
    );

  program
    .command('report')
    .description('redraw the report from an analysis JSON without recomputing')
    .argument('<analysis.json>', "file written by 'rnnscope analyze --json'")
    .option('-o, --out <dir>', 'output directory', 'rnnscope-report')
    .option('--all-charts', '(kept for older scripts: every layer and run is drawn anyway)')
    .addHelpText('after', EXAMPLES.report)
    .action(async (file: string, o, cmd: Command) =>
      reportCommand(file, { ...o, allCharts: !!o.allCharts, ...global(cmd) }, io),
    );

  program
    .command('inspect')
    .description('print a Keras-like summary of a model file')
    .argument('<model>', 'model file')
    .option('-w, --weights <file>', 'weights file for an architecture-only model')
    .addHelpText('after', EXAMPLES.inspect)
    .action(async (model: string, o, cmd: Command) => inspectCommand(model, { ...o, ...global(cmd) }, io));

  registerWatch(program, io, global, positiveInt);
  registerServe(program, io, global);

  program
    .command('demo')
    .description('train a SimpleRNN, an LSTM and a GRU on the adding problem and report their gradient flow')
    .option('-o, --out <dir>', 'output directory', 'rnnscope-demo')
    .option('--json <file>', "also write the analysis JSON ('-' for stdout)")
    .option('--all-charts', '(kept for older scripts: every layer and run is drawn anyway)')
    .addHelpText('after', EXAMPLES.demo)
    .action(async (o, cmd: Command) => demoCommand({ ...o, allCharts: !!o.allCharts, ...global(cmd) }, io));

  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    return report(e, flags, io);
  }
}

function report(e: unknown, flags: Flags, io: Io): number {
  if (e instanceof CommanderError) {
    // Help and version exit "successfully"; anything else commander rejects is a usage error (already printed).
    return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
  }
  const c = colorsFor(io.stderr, io.env);
  // A file-system failure no stage caught is still an ordinary problem with a file, not a bug.
  const err = e instanceof RnnscopeError ? e : (fsErrorFromNode(e) ?? e);
  const usage = err instanceof RnnscopeError && err.stage === 'usage';
  const known = err instanceof RnnscopeError || err instanceof MissingLibraryError;
  const message = err instanceof Error ? err.message : String(err);
  io.stderr.write(`${c.red(c.bold('error:'))} ${terminalSafe(message)}\n`);
  if (!known)
    io.stderr.write(
      `This looks like a bug in rnnscope; please report it with the command you ran${flags.verbose ? '' : ' and the output of --verbose'}.\n`,
    );
  if (flags.verbose && e instanceof Error && e.stack) io.stderr.write(`${c.dim(terminalSafe(e.stack))}\n`);
  return usage ? 2 : 1;
}
