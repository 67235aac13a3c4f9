// The user's path: `rnnscope analyze` run as a user runs it (node bin/rnnscope.js, a child
// process, of the current sources compiled into a temporary copy of the package, as installed:
// tsx would more than double each process's cost; the README's commands run from the sources
// through tsx in cli-docs.test.ts) on every corpus model that loads, with data files written by numpy
// (test/fixtures/userdata, see its README), compared with the library call on the same arrays.
//
//   model forms  every loadable corpus model as one file, and as architecture + --weights where
//                the corpus has both (the DL4J models); har's .keras also unzipped into a folder
//   × formats    .npy, .npz by np.savez, .npz by np.savez_compressed, CSV (np.savetxt), JSON;
//                one input, and two inputs (asand: files keyed by / named after the input names)
//   × outputs    --json FILE, --json -, --dump FILE.npz, --out DIR: assigned in rotation
//                (form i, format j → output (i + j) mod 4), so every form and every format meets
//                every output
//
// Oracle: loadModelFile + analyze() (src/analysis) on the arrays of the folder's .npy files, read
// with rnnscope's .npy reader (checked against numpy in io-data-files.test.ts). The CLI's JSON
// must equal the library's exactly except for the data-file names and the warnings the data
// readers add; the --dump arrays, read back by numpy.load, must equal the library's raw arrays bit
// for bit. Every run uses --max-samples 4 --batch-size 2 (two batches) to keep the matrix small.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelFile } from '../src/io/node.js';
import { expectDhChart } from './helpers/report-files.js';
import { summary } from '../src/model/summary.js';
import {
  CORPUS,
  ROOT,
  USERDATA,
  buildCopy,
  hasPython,
  libraryAnalysis,
  readNpzWithNumpy,
  rnnscope as run,
  withoutObjectiveWarnings,
  type CliResult,
  type LibraryRun,
} from './helpers/cli-run.js';

const PY = hasPython();
const tmp = mkdtempSync(path.join(tmpdir(), 'rnnscope-userpath-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const HAR_FOLDER = path.join(tmp, 'lstm_model_unzipped');
let BUILT = '';
/** `rnnscope <args>` of the built copy. */
const rnnscope = (args: string[]) => run(args, { bin: BUILT });
beforeAll(() => {
  BUILT = buildCopy(mkdtempSync(path.join(tmp, 'package-')));
  // Keras 3's folder format: the .keras zip unpacked (config.json, metadata.json, model.weights.h5).
  const files = unzipSync(readFileSync(path.join(CORPUS, 'k3_hatice_har_lstm/lstm_model.keras')));
  mkdirSync(HAR_FOLDER);
  for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(HAR_FOLDER, name), bytes);
}, 600_000);

interface Form {
  id: string;
  data: string;
  model: string;
  weights?: string;
  formats?: Format[];
}
const c = (p: string) => path.join(CORPUS, p);
const FORMS: Form[] = [
  { id: 'har .keras', data: 'har', model: c('k3_hatice_har_lstm/lstm_model.keras') },
  { id: 'har .keras folder', data: 'har', model: HAR_FOLDER, formats: ['npy', 'npz'] },
  { id: 'asand .keras (two inputs)', data: 'asand', model: c('k3_asand_multiinput_embedding_lstm/rnn_model.keras') },
  {
    id: 'ecg arch + weights',
    data: 'ecg',
    model: c('w_chen_ecg_bilstm_autoencoder/bidirectional-lstm-auto-encoder-architecture.json'),
    weights: c('w_chen_ecg_bilstm_autoencoder/bidirectional-lstm-auto-encoder-weights.h5'),
  },
  { id: 'simplernn .h5', data: 'simplernn', model: c('h5_dl4j_simplernn_k2/simple_rnn_tf_keras_2_model.h5') },
  {
    id: 'simplernn config + weights',
    data: 'simplernn',
    model: c('h5_dl4j_simplernn_k2/simple_rnn_tf_keras_2_config.json'),
    weights: c('h5_dl4j_simplernn_k2/simple_rnn_tf_keras_2_weights.h5'),
  },
  { id: 'lstm_tf .h5', data: 'lstm_tf', model: c('k1_dl4j_simple_lstm_tf/simple_lstm_tf_keras_1_model.h5') },
  {
    id: 'lstm_tf config + weights',
    data: 'lstm_tf',
    model: c('k1_dl4j_simple_lstm_tf/simple_lstm_tf_keras_1_config.json'),
    weights: c('k1_dl4j_simple_lstm_tf/simple_lstm_tf_keras_1_weights.h5'),
  },
  { id: 'lstm_th .h5', data: 'lstm_th', model: c('k1_dl4j_simple_lstm_theano/simple_lstm_th_keras_1_model.h5') },
  {
    id: 'lstm_th config + weights',
    data: 'lstm_th',
    model: c('k1_dl4j_simple_lstm_theano/simple_lstm_th_keras_1_config.json'),
    weights: c('k1_dl4j_simple_lstm_theano/simple_lstm_th_keras_1_weights.h5'),
  },
  { id: 'masking .h5', data: 'masking', model: c('h5_dl4j_masking_lstm/masking_zero_lstm.h5') },
  {
    id: 'stacked config + weights',
    data: 'stacked',
    model: c('w_dl4j_stacked_lstm_theano_with_predictions/lstm_th_keras_2_config.json'),
    weights: c('w_dl4j_stacked_lstm_theano_with_predictions/lstm_th_keras_2_weights.h5'),
  },
  {
    id: 'sentiment arch + weights',
    data: 'sentiment',
    model: c('w_chen_sentiment_embedding_conv1d_lstm/wordvec_cnn_lstm_architecture.json'),
    weights: c('w_chen_sentiment_embedding_conv1d_lstm/wordvec_cnn_lstm_weights.h5'),
  },
  {
    id: 'textgen TF.js model.json',
    data: 'textgen',
    model: c('tfjs_reiinakano_textgen_lstm_legacy_format/model.json'),
  },
];

type Format = 'npy' | 'npz' | 'npz-compressed' | 'csv' | 'json';
const FORMATS: Format[] = ['npy', 'npz', 'npz-compressed', 'csv', 'json'];

/** The files given for each format: --data (repeated for several) and --targets (none: y is in the data file). */
function dataFiles(folder: string, f: Format): { data: string[]; targets?: string } {
  if (folder === 'asand') {
    return {
      npy: { data: ['sequence_input.npy', 'numerical_input.npy'], targets: 'y.npy' },
      npz: { data: ['inputs.npz'], targets: 'y.npy' },
      'npz-compressed': { data: ['inputs_compressed.npz'] },
      csv: { data: ['sequence_input.csv', 'numerical_input.csv'], targets: 'y.csv' },
      json: { data: ['inputs.json'], targets: 'y.json' },
    }[f];
  }
  return {
    npy: { data: ['x.npy'], targets: 'y.npy' },
    npz: { data: ['x.npz'], targets: 'y.npy' },
    'npz-compressed':
      folder === 'har' ? { data: ['x_compressed.npz'], targets: 'y.npy' } : { data: ['xy_compressed.npz'] },
    csv: { data: ['x.csv'], targets: 'y.csv' },
    json: { data: ['x.json'], targets: 'y.json' },
  }[f];
}

/** The reference arrays: the folder's .npy files, in model input order. */
function referenceFiles(folder: string): { inputs: string[]; targets: string[] } {
  const d = (n: string) => path.join(USERDATA, folder, n);
  return folder === 'asand'
    ? { inputs: [d('sequence_input.npy'), d('numerical_input.npy')], targets: [d('y.npy')] }
    : { inputs: [d('x.npy')], targets: [d('y.npy')] };
}

const SMALL = { maxSamples: 4, batchSize: 2 };
const SMALL_ARGS = ['--max-samples', '4', '--batch-size', '2'];

const library = new Map<string, Promise<LibraryRun>>();
function libraryFor(form: Form, opts: { loss?: string; connectivity?: boolean } = {}): Promise<LibraryRun> {
  const key = `${form.id}|${JSON.stringify(opts)}`;
  if (!library.has(key)) {
    library.set(
      key,
      libraryAnalysis(
        [{ file: form.model, weights: form.weights }],
        { ...referenceFiles(form.data), dataSource: 'REF' },
        { ...SMALL, ...opts },
      ),
    );
  }
  return library.get(key)!;
}

function modelArgs(form: Form): string[] {
  return form.weights ? [form.model, '--weights', form.weights] : [form.model];
}

/** CLI JSON equals the library's, apart from the data-file names and the data readers' own warnings. */
function expectSameAnalysis(cli: unknown, lib: LibraryRun, dataSource: string) {
  const a = withoutObjectiveWarnings(cli),
    b = withoutObjectiveWarnings(lib.json);
  expect((a.rest as { objective: { dataSource: string } }).objective.dataSource).toBe(dataSource);
  (b.rest as { objective: { dataSource: string } }).objective.dataSource = dataSource;
  expect(a.rest).toEqual(b.rest);
  for (const w of b.warnings) expect(a.warnings).toContainEqual(w);
}

function expectSameDump(file: string, lib: LibraryRun) {
  const got = readNpzWithNumpy(file);
  expect([...got.keys()].sort()).toEqual([...lib.raw.keys()].sort());
  for (const [k, want] of lib.raw) {
    const g = got.get(k)!;
    expect(g.shape, k).toEqual(want.shape);
    expect(g.dtype, k).toBe(want.data instanceof Float32Array ? '<f4' : '<f8');
    expect(
      Buffer.from(g.data.buffer).equals(Buffer.from(want.data.buffer, want.data.byteOffset, want.data.byteLength)),
      `${k} differs`,
    ).toBe(true);
  }
}

function expectOk(r: CliResult, what: string) {
  expect(r.stderr, `${what}: stderr`).not.toMatch(/error:|bug in rnnscope/);
  expect(r.code, `${what} exited ${r.code}: ${r.stderr}`).toBe(0);
}

type Output = 'json' | 'stdout' | 'dump' | 'out';
const OUTPUTS: Output[] = ['json', 'stdout', 'dump', 'out'];
const TIMEOUT = 900_000; // with queueing; a loaded 2-core machine slows each run many times over
const timings: string[] = [];
afterAll(() => console.log(`CLI runs (ms, with queueing for a free core):\n${timings.sort().join('\n')}`));

describe('rnnscope analyze on every corpus model × data format × output, equal to the library', () => {
  FORMS.forEach((form, i) =>
    (form.formats ?? FORMATS).forEach((fmt, j) => {
      const output = OUTPUTS[(i + j) % OUTPUTS.length]!;
      const { data, targets } = dataFiles(form.data, fmt);
      const d = (n: string) => path.join(USERDATA, form.data, n);
      const dataArgs = [...data.flatMap((f) => ['--data', d(f)]), ...(targets ? ['--targets', d(targets)] : [])];
      const dataSource = [...data, ...(targets ? [targets] : [])].join(', ');
      const name = `${form.id} × ${fmt} (${dataArgs
        .filter((a) => !a.startsWith('-'))
        .map((a) => path.basename(a))
        .join(' ')}) → ${output}`;
      it.skipIf(output === 'dump' && !PY).concurrent(
        name,
        async () => {
          const dir = mkdtempSync(path.join(tmp, 'run-'));
          const m = modelArgs(form);
          let r: CliResult;
          if (output === 'json')
            r = await rnnscope(['analyze', ...m, ...dataArgs, '--json', path.join(dir, 'a.json'), ...SMALL_ARGS]);
          else if (output === 'stdout')
            r = await rnnscope(['analyze', ...m, ...dataArgs, '--json', '-', ...SMALL_ARGS]);
          else if (output === 'dump')
            r = await rnnscope(['analyze', ...m, ...dataArgs, '--dump', path.join(dir, 'g.npz'), ...SMALL_ARGS]);
          else r = await rnnscope(['analyze', ...m, ...dataArgs, '--out', path.join(dir, 'report'), ...SMALL_ARGS]);
          timings.push(`${String(r.ms).padStart(6)}  ${name}`);
          expectOk(r, name);
          const lib = await libraryFor(form);
          if (output === 'json') {
            expectSameAnalysis(JSON.parse(readFileSync(path.join(dir, 'a.json'), 'utf8')), lib, dataSource);
            expect(r.stdout).toContain('Recurrent layers:');
          } else if (output === 'stdout') {
            expectSameAnalysis(JSON.parse(r.stdout), lib, dataSource); // stdout is nothing but the JSON
            expect(r.stderr).toContain('Recurrent layers:');
          } else if (output === 'dump') {
            expectSameDump(path.join(dir, 'g.npz'), lib);
            expect(r.stdout).toContain('Recurrent layers:');
          } else {
            const out = path.join(dir, 'report');
            expectSameAnalysis(JSON.parse(readFileSync(path.join(out, 'analysis.json'), 'utf8')), lib, dataSource);
            expect(readFileSync(path.join(out, 'index.html'), 'utf8')).toContain('rnnscope.analysis/1');
            expectDhChart(out);
          }
        },
        TIMEOUT,
      );
    }),
  );
});

describe('rnnscope analyze: the remaining flags, each against the library', () => {
  const lstmTf = FORMS.find((f) => f.id === 'lstm_tf config + weights')!;
  const har = FORMS[0]!;

  it.concurrent(
    'short flags -w -d -t -o -q: the report is written and nothing is printed',
    async () => {
      const dir = mkdtempSync(path.join(tmp, 'short-'));
      const u = (n: string) => path.join(USERDATA, 'lstm_tf', n);
      const r = await rnnscope([
        'analyze',
        lstmTf.model,
        '-w',
        lstmTf.weights!,
        '-d',
        u('x.npy'),
        '-t',
        u('y.npy'),
        '-o',
        dir,
        '-q',
        ...SMALL_ARGS,
      ]);
      expectOk(r, 'short flags');
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe('');
      expectSameAnalysis(
        JSON.parse(readFileSync(path.join(dir, 'analysis.json'), 'utf8')),
        await libraryFor(lstmTf),
        'x.npy, y.npy',
      );
    },
    TIMEOUT,
  );

  it.concurrent(
    '--loss replaces the stored/default loss (stacked: mse instead of binary_crossentropy)',
    async () => {
      const form = FORMS.find((f) => f.id === 'stacked config + weights')!;
      const u = (n: string) => path.join(USERDATA, 'stacked', n);
      const r = await rnnscope([
        'analyze',
        form.model,
        '--weights',
        form.weights!,
        '--data',
        u('x.npy'),
        '--targets',
        u('y.npy'),
        '--loss',
        'mse',
        '--json',
        '-',
        ...SMALL_ARGS,
      ]);
      expectOk(r, '--loss');
      const a = JSON.parse(r.stdout);
      expect(a.objective.loss).toBe('mse');
      expect(a.objective.lossSource).toBe('option');
      expectSameAnalysis(a, await libraryFor(form, { loss: 'mse' }), 'x.npy, y.npy');
    },
    TIMEOUT,
  );

  it.concurrent(
    '--out --all-charts draws every layer and direction (ecg BiLSTM)',
    async () => {
      const form = FORMS.find((f) => f.data === 'ecg')!;
      const dir = mkdtempSync(path.join(tmp, 'all-'));
      const u = (n: string) => path.join(USERDATA, 'ecg', n);
      const r = await rnnscope([
        'analyze',
        form.model,
        '--weights',
        form.weights!,
        '--data',
        u('x.npy'),
        '--targets',
        u('y.npy'),
        '--out',
        dir,
        '--all-charts',
        ...SMALL_ARGS,
      ]);
      expectOk(r, '--all-charts');
      const charts = readdirSync(path.join(dir, 'charts'));
      // One variant per recurrent layer id beyond the default one (the two directions here).
      expect(
        charts.some((f) => /backward/.test(f)),
        charts.join(' '),
      ).toBe(true);
      expectSameAnalysis(
        JSON.parse(readFileSync(path.join(dir, 'analysis.json'), 'utf8')),
        await libraryFor(form),
        'x.npy, y.npy',
      );
    },
    TIMEOUT,
  );

  it.concurrent(
    'all 32 samples in 16 batches go over both cores and equal analyzeParallel',
    async () => {
      const u = (n: string) => path.join(USERDATA, 'har', n);
      const r = await rnnscope([
        'analyze',
        har.model,
        '--data',
        u('x.npy'),
        '--targets',
        u('y.npy'),
        '--batch-size',
        '2',
        '--json',
        '-',
      ]);
      expectOk(r, '16 batches');
      const lib = await libraryAnalysis(
        [{ file: har.model }],
        { inputs: [u('x.npy')], targets: [u('y.npy')], dataSource: 'x.npy, y.npy' },
        { batchSize: 2 },
        'analyzeParallel',
      );
      const a = JSON.parse(r.stdout);
      expect(a.objective.samples).toBe(32);
      expect(a.objective.batches).toBe(16);
      expectSameAnalysis(a, lib, 'x.npy, y.npy');
    },
    TIMEOUT,
  );

  it.concurrent(
    '--connectivity on a model with one output per sequence says why there is no map (issue 9 item 6)',
    async () => {
      const u = (n: string) => path.join(USERDATA, 'har', n);
      const r = await rnnscope([
        'analyze',
        har.model,
        '--data',
        u('x.npy'),
        '--targets',
        u('y.npy'),
        '--connectivity',
        '--json',
        '-',
        ...SMALL_ARGS,
      ]);
      expectOk(r, '--connectivity');
      const a = JSON.parse(r.stdout);
      expectSameAnalysis(a, await libraryFor(har, { connectivity: true }), 'x.npy, y.npy');
      // No silent nothing: the output names --connectivity and why the map is absent.
      const said = r.stderr + JSON.stringify(a.objective.warnings) + JSON.stringify(a.findings);
      expect(said).toMatch(/connectivity/i);
    },
    TIMEOUT,
  );

  it('every file the matrix names is in test/fixtures/userdata', () => {
    for (const form of new Set(FORMS.map((f) => f.data))) {
      const dir = path.join(USERDATA, form);
      for (const fmt of FORMATS)
        for (const f of [...dataFiles(form, fmt).data, dataFiles(form, fmt).targets ?? 'y.npy'])
          expect(existsSync(path.join(dir, f)), path.join(form, f)).toBe(true);
    }
  });
});

describe('rnnscope: the short forms and the other commands', () => {
  it.concurrent(
    '-V and --version print the package version',
    async () => {
      const version = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
      const [short, long] = await Promise.all([rnnscope(['-V']), rnnscope(['--version'])]);
      expect(short.stdout.trim()).toBe(version);
      expect(long.stdout.trim()).toBe(version);
    },
    TIMEOUT,
  );

  it.concurrent(
    'report -o DIR redraws an analysis JSON into DIR',
    async () => {
      const dir = path.join(mkdtempSync(path.join(tmp, 'report-')), 'r');
      const file = path.join(CORPUS, '../analysis/example.json');
      const r = await rnnscope(['report', '-o', dir, file]);
      expectOk(r, 'report -o');
      expect(JSON.parse(readFileSync(path.join(dir, 'analysis.json'), 'utf8'))).toEqual(
        JSON.parse(readFileSync(file, 'utf8')),
      );
      expectDhChart(dir);
    },
    TIMEOUT,
  );

  it.concurrent(
    'inspect ARCH -w WEIGHTS prints the summary the library gives',
    async () => {
      const form = FORMS.find((f) => f.id === 'stacked config + weights')!;
      const r = await rnnscope(['inspect', form.model, '-w', form.weights!]);
      expectOk(r, 'inspect -w');
      const spec = await loadModelFile(form.model, { weights: form.weights! });
      expect(r.stdout.startsWith(summary(spec).replace(/\n?$/, '\n'))).toBe(true);
    },
    TIMEOUT,
  );

  it.concurrent(
    "demo -o is --out: 'demo -o -' is refused before any training, naming --out",
    async () => {
      const r = await rnnscope(['demo', '-o', '-']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: .*--out -/);
    },
    TIMEOUT,
  );
});
