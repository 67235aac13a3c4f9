// Every command line the documentation shows is run here, as written, against real files: the
// shell blocks and inline commands of README.md and docs/*.md, and the examples `rnnscope <command>
// --help` prints. Each documented command has one entry in COMMANDS below, keyed by its exact text;
// a command that appears in the docs without an entry, or an entry whose command left the docs,
// fails the first test, so a changed command changes its test.
//
// How a command runs: in a fresh folder of its own, holding the entry's real files under the names
// the command uses (corpus models from test/fixtures/corpus, numpy-written data from
// test/fixtures/userdata), through /bin/sh with `npx rnnscope` / `rnnscope` replaced by
// `node bin/rnnscope.js` (npx inside the repository would look the name up in the registry; the
// installed package's own `npx rnnscope` is run by pack-install.test.ts). Files a command reads
// that an earlier command wrote (`report analysis.json`) are taken from that command's folder.
// Results are compared with the library call on the same files (loadModelFile + analyze, summary).

import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelFile } from '../src/io/node.js';
import { expectDhChart } from './helpers/report-files.js';
import { summary } from '../src/model/summary.js';
import {
  CORPUS,
  ROOT,
  USERDATA,
  BIN,
  hasPython,
  libraryAnalysis,
  readNpzWithNumpy,
  rnnscope,
  runProcess,
  withoutObjectiveWarnings,
  type CliResult,
  type LibraryRun,
} from './helpers/cli-run.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'rnnscope-docs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const PY = hasPython();

const c = (p: string) => path.join(CORPUS, p);
const u = (p: string) => path.join(USERDATA, p);
const HAR = c('k3_hatice_har_lstm/lstm_model.keras');
const ASAND = c('k3_asand_multiinput_embedding_lstm/rnn_model.keras');
const ECG_ARCH = c('w_chen_ecg_bilstm_autoencoder/bidirectional-lstm-auto-encoder-architecture.json');
const ECG_WEIGHTS = c('w_chen_ecg_bilstm_autoencoder/bidirectional-lstm-auto-encoder-weights.h5');
const SIMPLERNN = c('h5_dl4j_simplernn_k2/simple_rnn_tf_keras_2_model.h5');
const LSTM_TF = c('k1_dl4j_simple_lstm_tf/simple_lstm_tf_keras_1_model.h5');
const LSTM_TH = c('k1_dl4j_simple_lstm_theano/simple_lstm_th_keras_1_model.h5');
const LSTM_TF_CONFIG = c('k1_dl4j_simple_lstm_tf/simple_lstm_tf_keras_1_config.json');
const LSTM_TF_WEIGHTS = c('k1_dl4j_simple_lstm_tf/simple_lstm_tf_keras_1_weights.h5');
const LSTM_TH_WEIGHTS = c('k1_dl4j_simple_lstm_theano/simple_lstm_th_keras_1_weights.h5');
const MASKING = c('h5_dl4j_masking_lstm/masking_zero_lstm.h5');

interface Ran extends CliResult {
  dir: string;
}
interface Entry {
  /** Documented file name → the real file copied there before the command runs. */
  files?: Record<string, string>;
  /** Documented file or folder name → [the command that wrote it, its name there]. */
  from?: Record<string, [string, string]>;
  /** The line actually run, when it cannot be the documented one; `why` says why. */
  run?: string;
  why?: string;
  /** Run in the repository (npm scripts), with $OUT the command's own folder. */
  inRepository?: boolean;
  check?: (r: Ran) => Promise<void> | void;
  /** Not a command that can run here: why not. */
  notRun?: string;
  /** A mention of a command (an inline reference) that another entry runs. */
  coveredBy?: string;
  /** Run by that test file of the feature, which names the command verbatim. */
  testedIn?: string;
}

// --- what each documented command must produce ---------------------------------------------------

function expectOk(r: Ran) {
  expect(r.stderr).not.toMatch(/error:|bug in rnnscope/);
  expect(r.code, r.stderr).toBe(0);
}

const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

/** The analysis (or set) equals the library's on the same files, apart from the data readers' warnings. */
function expectSameAnalysis(got: unknown, lib: LibraryRun) {
  const a = withoutObjectiveWarnings(got),
    b = withoutObjectiveWarnings(lib.json);
  // A set: its runs are the library's; what the CLI adds around them (a checkpoint timeline, the
  // title) is the CLI's own and tested with it.
  type MaybeSet = { schema: string; runs?: unknown[] };
  if ((a.rest as MaybeSet).runs && (b.rest as MaybeSet).runs) {
    expect((a.rest as MaybeSet).schema).toBe((b.rest as MaybeSet).schema);
    expect((a.rest as MaybeSet).runs).toEqual((b.rest as MaybeSet).runs);
  } else expect(a.rest).toEqual(b.rest);
  for (const w of b.warnings) expect(a.warnings).toContainEqual(w);
}

function expectSameDump(file: string, lib: LibraryRun) {
  if (!PY) return; // numpy is the reader a user has; without it only the JSON is compared (stated in the test name)
  const got = readNpzWithNumpy(file);
  expect([...got.keys()].sort()).toEqual([...lib.raw.keys()].sort());
  for (const [k, want] of lib.raw) {
    const g = got.get(k)!;
    expect(g.shape, k).toEqual(want.shape);
    expect(
      Buffer.from(g.data.buffer).equals(Buffer.from(want.data.buffer, want.data.byteOffset, want.data.byteLength)),
      k,
    ).toBe(true);
  }
}

async function expectSummary(r: Ran, model: string, weights?: string) {
  expectOk(r);
  const spec = await loadModelFile(path.join(r.dir, model), weights ? { weights: path.join(r.dir, weights) } : {});
  expect(r.stdout.startsWith(summary(spec).replace(/\n?$/, '\n'))).toBe(true);
}

function expectReport(dir: string) {
  expect(readFileSync(path.join(dir, 'index.html'), 'utf8')).toContain('rnnscope.analysis');
  expectDhChart(dir);
}

/** The library call on the command's own files (inputs null: the random inputs of a run without --data). */
function lib(
  r: Ran,
  models: { file: string; weights?: string }[],
  inputs: string[] | null,
  targets: string[] | null,
  dataSource: string | null,
  opts = {},
): Promise<LibraryRun> {
  if (!inputs) return libraryRandom(r, models, opts);
  return libraryAnalysis(
    models.map((m) => ({ file: path.join(r.dir, m.file), weights: m.weights && path.join(r.dir, m.weights) })),
    {
      inputs: inputs.map((f) => path.join(r.dir, f)),
      targets: targets?.map((f) => path.join(r.dir, f)),
      dataSource: dataSource ?? '',
    },
    opts,
  );
}

/** The library on random inputs (no --data): the same call with inputs null. */
async function libraryRandom(r: Ran, models: { file: string; weights?: string }[], opts = {}): Promise<LibraryRun> {
  const { analyze } = await import('../src/analysis/index.js');
  const specs = [];
  for (const m of models)
    specs.push(
      await loadModelFile(path.join(r.dir, m.file), m.weights ? { weights: path.join(r.dir, m.weights) } : {}),
    );
  const { result, raw } = await analyze(
    specs,
    { inputs: null, targets: null, dataSource: null },
    { ...opts, keepRaw: true, labels: models.map((m) => path.basename(m.weights ?? m.file)) },
  );
  return { json: JSON.parse(JSON.stringify(result)), raw: raw[0]! };
}

/** README's demo paragraph: the horizons it quotes (initial → trained) are the demo's own. */
function checkDemo(r: Ran) {
  expectOk(r);
  const set = json(path.join(r.dir, 'demo.json')) as {
    runs: {
      run: { group: string; label: string };
      recurrent: { horizon: { steps: number } }[];
      objective: { value: number };
    }[];
  };
  expectReport(path.join(r.dir, 'rnnscope-demo'));
  // Every run's charts, in a folder of its own (docs/outputs.md).
  const chartDirs = readdirSync(path.join(r.dir, 'rnnscope-demo', 'charts'), { withFileTypes: true });
  expect(chartDirs.filter((e) => e.isDirectory()).length).toBe(set.runs.length);
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8').replace(/\s+/g, ' ');
  const m = /SimpleRNN (\d+) → (\d+) steps, LSTM (\d+) → (\d+), GRU (\d+) → (\d+)/.exec(readme);
  expect(m, 'README quotes the demo horizons as "SimpleRNN a → b steps, LSTM c → d, GRU e → f"').not.toBeNull();
  const quoted = { SimpleRNN: [m![1], m![2]], LSTM: [m![3], m![4]], GRU: [m![5], m![6]] };
  for (const [group, [initial, trained]] of Object.entries(quoted)) {
    const runs = set.runs.filter((x) => x.run.group === group);
    expect(
      runs.map((x) => x.recurrent[0]!.horizon.steps),
      group,
    ).toEqual([Number(initial), Number(trained)]);
  }
  // "The GRU's loss falls well below 1/6, the loss of always answering the mean; the SimpleRNN's and
  // the LSTM's stay near it" (1/6 = Var(u1 + u2) for u uniform on [0, 1)).
  const trained = (g: string) => set.runs.filter((x) => x.run.group === g)[1]!.objective.value;
  expect(trained('GRU')).toBeLessThan(1 / 6 / 2);
  for (const g of ['SimpleRNN', 'LSTM']) expect(Math.abs(trained(g) - 1 / 6)).toBeLessThan(0.25 / 6);
}

// --- the table ------------------------------------------------------------------------------------

const COMMANDS: Record<string, Entry> = {
  // README.md, Quick start
  'npm ci && npm run demo': {
    run: 'npm run demo -- --out "$OUT/rnnscope-demo" --json "$OUT/demo.json" --all-charts',
    inRepository: true,
    why: "npm ci is not run: it would reinstall the node_modules this suite runs from (CI runs it first). npm run needs the repository's package.json, so the line runs there with $OUT the command's own folder: --out keeps the report out of the repository (rnnscope-demo/, as documented), --json gives the numbers README quotes, --all-charts exercises demo's last flag in the same run.",
    check: checkDemo,
  },
  'npm test': { notRun: 'the test suite itself, which this file is part of' },
  // docs/contributing.md
  'npm run lint': { testedIn: 'test/style-check.test.ts' },
  'npm run format': { testedIn: 'test/style-check.test.ts' },
  // README.md, Your model
  'npx rnnscope inspect model.keras': {
    files: { 'model.keras': HAR },
    check: (r) => expectSummary(r, 'model.keras'),
  },
  'npx rnnscope analyze model.keras --data x.npy --targets y.npy --out report/': {
    files: { 'model.keras': HAR, 'x.npy': u('har/x.npy'), 'y.npy': u('har/y.npy') },
    check: async (r) => {
      expectOk(r);
      expectReport(path.join(r.dir, 'report'));
      expectSameAnalysis(
        json(path.join(r.dir, 'report/analysis.json')),
        await lib(r, [{ file: 'model.keras' }], ['x.npy'], ['y.npy'], 'x.npy, y.npy'),
      );
      expect(r.stderr + r.stdout).toMatch(/Wrote the report: report\/?index\.html/);
    },
  },
  'npx rnnscope analyze arch.json --weights weights.h5 --data x.npz --json analysis.json --dump grads.npz': {
    files: { 'arch.json': ECG_ARCH, 'weights.h5': ECG_WEIGHTS, 'x.npz': u('ecg/x.npz'), 'x.npy': u('ecg/x.npy') },
    check: async (r) => {
      expectOk(r);
      const l = await lib(r, [{ file: 'arch.json', weights: 'weights.h5' }], ['x.npy'], null, 'x.npz');
      expectSameAnalysis(json(path.join(r.dir, 'analysis.json')), l);
      expectSameDump(path.join(r.dir, 'grads.npz'), l);
    },
  },
  'npx rnnscope report analysis.json --out report/': {
    from: {
      'analysis.json': [
        'npx rnnscope analyze arch.json --weights weights.h5 --data x.npz --json analysis.json --dump grads.npz',
        'analysis.json',
      ],
    },
    check: (r) => {
      expectOk(r);
      expectReport(path.join(r.dir, 'report'));
      expect(json(path.join(r.dir, 'report/analysis.json'))).toEqual(json(path.join(r.dir, 'analysis.json')));
      expect(r.stdout).toContain('bidirectional_1/backward');
    },
  },
  'npx rnnscope analyze ckpt-01.h5 ckpt-10.h5 ckpt-50.h5 --data x.npy --out report/': {
    // Three models that take the same (None, 1, 1) input stand in for checkpoints of one training run.
    files: { 'ckpt-01.h5': SIMPLERNN, 'ckpt-10.h5': LSTM_TF, 'ckpt-50.h5': LSTM_TH, 'x.npy': u('lstm_tf/x.npy') },
    check: async (r) => {
      expectOk(r);
      expectReport(path.join(r.dir, 'report'));
      const got = json(path.join(r.dir, 'report/analysis.json'));
      expect(got.runs.map((x: { run: { label: string } }) => x.run.label)).toEqual([
        'ckpt-01.h5',
        'ckpt-10.h5',
        'ckpt-50.h5',
      ]);
      expectSameAnalysis(
        got,
        await lib(
          r,
          [{ file: 'ckpt-01.h5' }, { file: 'ckpt-10.h5' }, { file: 'ckpt-50.h5' }],
          ['x.npy'],
          null,
          'x.npy',
        ),
      );
    },
  },
  // README.md, inline
  'npm run bench': {
    notRun:
      'the benchmark: minutes of timed runs per workload, meaningful only on an idle machine (bench/README.md); its last results are bench/results/latest.md',
  },
  'rnnscope analyze': { coveredBy: 'npx rnnscope analyze model.keras --data x.npy --targets y.npy --out report/' },
  // docs/analysis-schema.md, inline
  'rnnscope analyze --json FILE': {
    coveredBy: 'npx rnnscope analyze arch.json --weights weights.h5 --data x.npz --json analysis.json --dump grads.npz',
  },
  'rnnscope report FILE --out DIR': { coveredBy: 'npx rnnscope report analysis.json --out report/' },
  'rnnscope analyze a.h5 b.h5 …': {
    coveredBy: 'npx rnnscope analyze ckpt-01.h5 ckpt-10.h5 ckpt-50.h5 --data x.npy --out report/',
  },
  'rnnscope demo': { coveredBy: 'npm ci && npm run demo' }, // also `rnnscope demo --help`'s first example: npm run demo runs it
  'rnnscope report': { coveredBy: 'npx rnnscope report analysis.json --out report/' },
  // docs/outputs.md, inline
  'rnnscope report DIR/analysis.json --out DIR': { coveredBy: 'rnnscope report report/analysis.json --out report' },
  // `rnnscope <command> --help` examples
  'rnnscope analyze model.h5 --data x.npy --targets y.npy --out report': {
    files: { 'model.h5': SIMPLERNN, 'x.npy': u('simplernn/x.npy'), 'y.npy': u('simplernn/y.npy') },
    check: async (r) => {
      expectOk(r);
      expectReport(path.join(r.dir, 'report'));
      expectSameAnalysis(
        json(path.join(r.dir, 'report/analysis.json')),
        await lib(r, [{ file: 'model.h5' }], ['x.npy'], ['y.npy'], 'x.npy, y.npy'),
      );
    },
  },
  'rnnscope analyze model.keras --data data.npz --json analysis.json --dump grads.npz': {
    // data.npz: both inputs keyed by name and the targets as y, by np.savez_compressed.
    files: {
      'model.keras': ASAND,
      'data.npz': u('asand/inputs_compressed.npz'),
      'sequence_input.npy': u('asand/sequence_input.npy'),
      'numerical_input.npy': u('asand/numerical_input.npy'),
      'y.npy': u('asand/y.npy'),
    },
    check: async (r) => {
      expectOk(r);
      const l = await lib(
        r,
        [{ file: 'model.keras' }],
        ['sequence_input.npy', 'numerical_input.npy'],
        ['y.npy'],
        'data.npz',
        { maxSamples: 6 },
      );
      const got = json(path.join(r.dir, 'analysis.json'));
      expect(got.objective.targets).toBe('given');
      expectSameAnalysis(got, l);
      expectSameDump(path.join(r.dir, 'grads.npz'), l);
    },
  },
  'rnnscope analyze model.json --weights ckpt-01.h5 --weights ckpt-10.h5 --out compare': {
    // One architecture, two weight files of it: the TF- and the Theano-backend DL4J LSTMs share it.
    files: { 'model.json': LSTM_TF_CONFIG, 'ckpt-01.h5': LSTM_TF_WEIGHTS, 'ckpt-10.h5': LSTM_TH_WEIGHTS },
    check: async (r) => {
      expectOk(r);
      expectReport(path.join(r.dir, 'compare'));
      const got = json(path.join(r.dir, 'compare/analysis.json'));
      expect(got.runs.map((x: { run: { label: string } }) => x.run.label)).toEqual(['ckpt-01.h5', 'ckpt-10.h5']);
      expectSameAnalysis(
        got,
        await lib(
          r,
          [
            { file: 'model.json', weights: 'ckpt-01.h5' },
            { file: 'model.json', weights: 'ckpt-10.h5' },
          ],
          null,
          null,
          null,
        ),
      );
    },
  },
  "rnnscope analyze model.h5 --json - --quiet | jq '.findings'": {
    files: { 'model.h5': MASKING },
    check: async (r) => {
      expectOk(r);
      expect(JSON.parse(r.stdout)).toEqual(
        ((await lib(r, [{ file: 'model.h5' }], null, null, null)).json as { findings: unknown }).findings,
      );
    },
  },
  'rnnscope report analysis.json --out report': {
    from: {
      'analysis.json': [
        'rnnscope analyze model.keras --data data.npz --json analysis.json --dump grads.npz',
        'analysis.json',
      ],
    },
    check: (r) => {
      expectOk(r);
      expectReport(path.join(r.dir, 'report'));
      expect(json(path.join(r.dir, 'report/analysis.json'))).toEqual(json(path.join(r.dir, 'analysis.json')));
    },
  },
  'rnnscope report analysis.json --out report --all-charts': {
    from: {
      'analysis.json': [
        'npx rnnscope analyze arch.json --weights weights.h5 --data x.npz --json analysis.json --dump grads.npz',
        'analysis.json',
      ],
    },
    check: (r) => {
      expectOk(r);
      expectReport(path.join(r.dir, 'report'));
      // Every layer and direction drawn: the BiLSTM's backward half has charts of its own.
      expect(readdirSync(path.join(r.dir, 'report/charts')).some((f) => f.includes('backward'))).toBe(true);
    },
  },
  'rnnscope report report/analysis.json --out report': {
    // Redraw in place: the folder an earlier `analyze --out report` wrote.
    from: { report: ['rnnscope analyze model.h5 --data x.npy --targets y.npy --out report', 'report'] },
    check: async (r) => {
      expectOk(r);
      expectReport(path.join(r.dir, 'report'));
      const before = await runDocumented('rnnscope analyze model.h5 --data x.npy --targets y.npy --out report');
      expect(readFileSync(path.join(r.dir, 'report/analysis.json'))).toEqual(
        readFileSync(path.join(before.dir, 'report/analysis.json')),
      );
    },
  },
  'rnnscope inspect model.h5': { files: { 'model.h5': LSTM_TH }, check: (r) => expectSummary(r, 'model.h5') },
  'rnnscope inspect model.json --weights weights.h5': {
    files: { 'model.json': ECG_ARCH, 'weights.h5': ECG_WEIGHTS },
    check: (r) => expectSummary(r, 'model.json', 'weights.h5'),
  },
  'rnnscope demo --out demo-report --json demo.json': { coveredBy: 'npm ci && npm run demo' }, // the same program with the same flags
  // README.md "Watch training" and docs/training.md: run by the timeline feature's own docs test,
  // on checkpoint series its trainer writes in the documented ModelCheckpoint layouts.
  'npx rnnscope watch ckpt --data x.npy --targets y.npy --out timeline': { testedIn: 'test/timeline-docs.test.ts' },
  "npx rnnscope analyze 'ckpt/*.keras' --data x.npy --targets y.npy --out timeline": {
    testedIn: 'test/timeline-docs.test.ts',
  },
  'npx rnnscope watch ckpt --model arch.json --data x.npy --targets y.npy --out timeline': {
    testedIn: 'test/timeline-docs.test.ts',
  },
  'npx rnnscope watch ckpt --data x.npy --targets y.npy --once --out timeline': {
    testedIn: 'test/timeline-docs.test.ts',
  },
  // README.md "In the browser": run by the page's own README test (the built page used in Chromium).
  'npm run build:web': { testedIn: 'test/app-readme.test.ts' },
  // docs/cells.md
  'npm run build:wasm': {
    notRun:
      'regenerates the committed src/engine/wasm/*.wasm.ts from their .as sources with the AssemblyScript compiler; test/kernels.test.ts checks that the committed gemm module matches its source',
  },
  'npx rnnscope serve': { testedIn: 'test/app-readme.test.ts' },
  // docs/performance.md "The pool in the browser".
  'rnnscope serve': { coveredBy: 'npx rnnscope serve' },
  'rnnscope watch': { coveredBy: 'npx rnnscope watch ckpt --data x.npy --targets y.npy --out timeline' },
  'rnnscope watch ckpt': { coveredBy: 'npx rnnscope watch ckpt --data x.npy --targets y.npy --out timeline' },
  // `rnnscope watch --help` examples: the documented lines above with the default --out, or --port.
  'rnnscope watch ckpt --data x.npy --targets y.npy': {
    coveredBy: 'npx rnnscope watch ckpt --data x.npy --targets y.npy --out timeline',
  },
  'rnnscope watch ckpt --model arch.json --data x.npy --targets y.npy --out timeline --port 8080': {
    coveredBy: 'npx rnnscope watch ckpt --model arch.json --data x.npy --targets y.npy --out timeline',
  },
  'rnnscope watch ckpt --data x.npy --targets y.npy --once': {
    coveredBy: 'npx rnnscope watch ckpt --data x.npy --targets y.npy --once --out timeline',
  },
};

// --- finding the documented commands ----------------------------------------------------------------

const DOCS = [
  'README.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Shell-block lines (comments dropped) and inline `npx …` / `npm …` / `rnnscope …` spans. */
function commandsIn(md: string): string[] {
  const out: string[] = [];
  const blocks = /```(\w*)\n([\s\S]*?)```/g;
  for (const [, lang, body] of md.matchAll(blocks)) {
    if (!['sh', 'bash', 'shell', 'console'].includes(lang!)) continue;
    for (const line of body!.split('\n')) {
      const cmd = line
        .replace(/\s#.*$/, '')
        .replace(/^\$\s*/, '')
        .trim();
      if (cmd) out.push(cmd);
    }
  }
  for (const [, span] of md.replace(blocks, '').matchAll(/`((?:npx |npm )[^`]*|rnnscope(?: [^`]*)?)`/g))
    out.push(span!.trim());
  return out;
}

const documented = new Map<string, string>(); // command → where it is documented
beforeAll(async () => {
  for (const f of DOCS)
    for (const cmd of commandsIn(readFileSync(path.join(ROOT, f), 'utf8')))
      if (!documented.has(cmd)) documented.set(cmd, f);
  const top = await rnnscope(['--help']);
  const subs = [...top.stdout.matchAll(/^ {2}(\w+) \[options\]/gm)].map((m) => m[1]!);
  expect(subs).toEqual(expect.arrayContaining(['analyze', 'report', 'inspect', 'demo']));
  for (const sub of subs) {
    const r = await rnnscope([sub, '--help']);
    expect(r.code).toBe(0);
    for (const [, line] of r.stdout.matchAll(/^\s*\$ (rnnscope .*)$/gm)) {
      const cmd = line!.replace(/\s{2,}(\(.*\)|#.*)$/, '').trim(); // an example's trailing (explanation) or # comment
      if (!documented.has(cmd)) documented.set(cmd, `rnnscope ${sub} --help`);
    }
  }
}, 120_000);

const runs = new Map<string, Promise<Ran>>();
function runDocumented(cmd: string): Promise<Ran> {
  if (!runs.has(cmd))
    runs.set(
      cmd,
      (async () => {
        const e = COMMANDS[cmd]!;
        const dir = mkdtempSync(path.join(tmp, 'cmd-'));
        for (const [name, real] of Object.entries(e.files ?? {})) {
          if (statSync(real).isDirectory()) cpSync(real, path.join(dir, name), { recursive: true });
          else copyFileSync(real, path.join(dir, name));
        }
        for (const [name, [other, file]] of Object.entries(e.from ?? {})) {
          const before = await runDocumented(other);
          expect(before.code, `${other} (which writes ${file})`).toBe(0);
          cpSync(path.join(before.dir, file), path.join(dir, name), { recursive: true });
        }
        let line = e.run ?? cmd;
        line = line
          .replace(/^(npx )?rnnscope /, `"${process.execPath}" "${BIN}" `)
          .replace(/\| (npx )?rnnscope /g, `| "${process.execPath}" "${BIN}" `);
        if (line.includes('| jq ') && !hasJq())
          line = line.replace(
            / \| jq '\.findings'$/,
            ` | "${process.execPath}" -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.stringify(JSON.parse(s).findings)))"`,
          );
        const r = await runProcess('/bin/sh', ['-c', line], {
          cwd: e.inRepository ? ROOT : dir,
          env: { RNNSCOPE_FROM_SOURCE: '1', OUT: dir },
        });
        return { ...r, dir };
      })(),
    );
  return runs.get(cmd)!;
}

let jq: boolean | undefined;
function hasJq(): boolean {
  return (jq ??= ['/usr/bin/jq', '/usr/local/bin/jq', '/bin/jq'].some((p) => existsSync(p)));
}

describe('every documented command line', () => {
  it('has exactly one entry in the table (no undocumented entry, no unmapped command)', () => {
    const unmapped = [...documented.keys()]
      .filter((c) => !(c in COMMANDS))
      .map((c) => `${c}    (${documented.get(c)})`);
    const stale = Object.keys(COMMANDS).filter((c) => !documented.has(c));
    expect(unmapped, 'documented commands without an entry in COMMANDS').toEqual([]);
    expect(stale, 'entries whose command is no longer documented').toEqual([]);
    for (const [cmd, e] of Object.entries(COMMANDS)) {
      expect(
        [e.check, e.notRun, e.coveredBy, e.testedIn].filter(Boolean).length,
        `${cmd}: runs with a check, or says where or why not`,
      ).toBe(1);
      if (e.coveredBy) {
        const by = COMMANDS[e.coveredBy];
        expect(by?.check ?? by?.testedIn, `${cmd} is covered by a command that runs`).toBeTruthy();
      }
      if (e.testedIn)
        expect(readFileSync(path.join(ROOT, e.testedIn), 'utf8'), `${e.testedIn} runs ${cmd}`).toContain(cmd);
      if (e.run) expect(e.why, `${cmd} runs a different line, so it says why`).toBeTruthy();
    }
  });

  for (const [cmd, e] of Object.entries(COMMANDS)) {
    if (!e.check) continue;
    const demo = cmd.includes('demo');
    it.concurrent(
      `${cmd}${e.run ? `  (run as: ${e.run})` : ''}${/--dump/.test(cmd) && !PY ? ' [dump not read back: no numpy]' : ''}`,
      async () => {
        const r = await runDocumented(cmd);
        await e.check!(r);
      },
      demo ? 1_200_000 : 600_000,
    );
  }
});
