// --connectivity never silently produces nothing: on a model with one output per sequence it says
// why there is no map and what shows the same thing (the input-sensitivity chart), in the analysis
// warnings that the CLI summary and the report list; a recurrent layer that does not feed the mapped
// output is named likewise. Through the library and through the command line (a child process).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../src/analysis/analyze.js';
import type { Analysis } from '../src/analysis/schema.js';
import { initParam } from '../src/engine/init.js';
import { makeRng } from '../src/engine/rng.js';
import { buildModel } from '../src/model/build.js';
import type { ModelSpec } from '../src/model/types.js';
import { loadModelFile } from '../src/node.js';
import { reportHtml } from '../src/report/html.js';
import { summaryText } from '../src/report/summary.js';
import { CORPUS } from './helpers/corpus.js';
import { lcg, randArr } from './helpers/rng.js';

const ECG = path.join(CORPUS, 'w_chen_ecg_bilstm_autoencoder');
const ECG_ARCH = path.join(ECG, 'bidirectional-lstm-auto-encoder-architecture.json');
const ECG_WEIGHTS = path.join(ECG, 'bidirectional-lstm-auto-encoder-weights.h5');
const NO_MAP =
  "--connectivity maps how strongly each output step depends on each input step, so it needs an output with a time axis (batch, steps, features); the model's output 'dense_1' (None, 210) gives one prediction per sequence, so no map was made. For that single prediction, the input-sensitivity chart (‖∂L/∂x_t‖ per input step of each recurrent layer, recurrent[].dx in the JSON) shows how far back it reaches.";

const notes = (a: Analysis): { code: string; message: string }[] =>
  a.objective.warnings.filter((w) => w.code.startsWith('connectivity'));

/** A Keras 3 functional model: x → LSTM(return_sequences) → Dense (per step), and x → GRU → Dense (per sequence, or per
 * step). */
function twoOutputModel(gruSequences = false): ModelSpec {
  const kt = (l: string) => ({
    class_name: '__keras_tensor__',
    config: { shape: null, dtype: 'float32', keras_history: [l, 0, 0] },
  });
  const layer = (cls: string, name: string, config: object, from?: string) => ({
    module: 'keras.layers',
    class_name: cls,
    registered_name: null,
    name,
    config: { name, ...config },
    inbound_nodes: from ? [{ args: [kt(from)], kwargs: {} }] : [],
  });
  const cfg = {
    module: 'keras',
    class_name: 'Functional',
    registered_name: null,
    config: {
      name: 'two_heads',
      layers: [
        layer('InputLayer', 'x', { batch_shape: [null, 12, 2], dtype: 'float32' }),
        layer('LSTM', 'seq_lstm', { units: 4, return_sequences: true }, 'x'),
        layer('Dense', 'per_step', { units: 1 }, 'seq_lstm'),
        layer('GRU', 'summary_gru', { units: 3, return_sequences: gruSequences }, 'x'),
        layer('Dense', 'label', { units: 2 }, 'summary_gru'),
      ],
      input_layers: [['x', 0, 0]],
      output_layers: [
        ['per_step', 0, 0],
        ['label', 0, 0],
      ],
    },
  };
  const m = buildModel(cfg, {
    kerasVersion: '3.10.0',
    format: 'config',
    source: 'two_heads',
    trainingConfig: { loss: 'mse' },
  });
  const rng = makeRng(3);
  m.params.forEach((ps) =>
    ps.forEach((p) => m.weights.set(p.key, { shape: [...p.shape], data: initParam(p.name, p.shape, { rng }) })),
  );
  return m;
}

describe('--connectivity through the library', () => {
  it('one output per sequence (ECG BiLSTM autoencoder): no map, a warning saying why and what shows it instead', async () => {
    const model = await loadModelFile(ECG_ARCH, { weights: ECG_WEIGHTS });
    const x = { shape: [4, 210, 1], data: randArr(lcg(2), 4 * 210, 1) };
    const a = analyzeModel(model, { inputs: [x], targets: null }, { connectivity: true }).analysis;
    expect(a.recurrent.map((r) => r.connectivity)).toEqual([null, null]);
    expect(notes(a)).toEqual([{ code: 'connectivity-no-sequence-output', message: NO_MAP, count: 1 }]);
    // Shown where warnings are shown: the CLI summary and the report page.
    expect(summaryText(a)).toContain(`note: ${NO_MAP}`);
    expect(reportHtml(a, { bundles: [] })).toContain(
      '--connectivity maps how strongly each output step depends on each input step',
    );
    // Without --connectivity, nothing is said.
    const b = analyzeModel(model, { inputs: [x], targets: null }, {}).analysis;
    expect(notes(b)).toEqual([]);
  }, 60_000);

  it('a sequence output and a per-sequence output: the layer feeding the sequence output is mapped, the other is named', () => {
    const m = twoOutputModel();
    expect(m.tensors[m.outputs[0]!]!.shape).toEqual([null, 12, 1]);
    const x = { shape: [6, 12, 2], data: randArr(lcg(5), 6 * 12 * 2, 1) };
    const a = analyzeModel(m, { inputs: [x], targets: null }, { connectivity: true }).analysis;
    const lstm = a.recurrent.find((r) => r.layer === 'seq_lstm')!,
      gru = a.recurrent.find((r) => r.layer === 'summary_gru')!;
    expect(lstm.connectivity).not.toBeNull();
    // A causal layer: the loss at output step τ does not depend on later input steps, and does on τ itself.
    const c = lstm.connectivity!;
    c.outputSteps.forEach((tau, i) => {
      for (const t of c.inputSteps) if (t > tau) expect(c.values[i]![t]).toBe(0);
      expect(c.values[i]![tau]).toBeGreaterThan(0);
    });
    expect(gru.connectivity).toBeNull();
    expect(notes(a)).toEqual([
      {
        code: 'connectivity-layer-not-mapped',
        count: 1,
        message:
          "--connectivity: recurrent layer summary_gru does not feed output 'per_step' (None, 12, 1), the output mapped, so it has no connectivity map.",
      },
    ]);
  });

  it('two sequence outputs: the first is mapped, and the warnings say the second is not', () => {
    const m = twoOutputModel(true);
    expect(m.tensors[m.outputs[1]!]!.shape).toEqual([null, 12, 2]);
    const x = { shape: [6, 12, 2], data: randArr(lcg(5), 6 * 12 * 2, 1) };
    const a = analyzeModel(m, { inputs: [x], targets: null }, { connectivity: true }).analysis;
    expect(a.recurrent.find((r) => r.layer === 'seq_lstm')!.connectivity).not.toBeNull();
    expect(notes(a).map((w) => w.message)).toEqual([
      "--connectivity maps output 'per_step' (None, 12, 1) only (the first output with a time axis); 'label' (None, 12, 2) is not mapped.",
      "--connectivity: recurrent layer summary_gru does not feed output 'per_step' (None, 12, 1), the output mapped, so it has no connectivity map.",
    ]);
  });
});

describe('--connectivity through the command line', () => {
  it('analyze <ECG arch> --weights <h5> --connectivity --json -: the warning is in the JSON (stdout) and in the summary (stderr)', async () => {
    const bin = path.join(import.meta.dirname, '..', 'bin', 'rnnscope.js');
    const r = await promisify(execFile)(
      process.execPath,
      [bin, 'analyze', ECG_ARCH, '--weights', ECG_WEIGHTS, '--connectivity', '--max-samples', '4', '--json', '-'],
      { env: { ...process.env, RNNSCOPE_FROM_SOURCE: '1', NO_COLOR: '1' }, maxBuffer: 1 << 28 },
    );
    const a = JSON.parse(r.stdout) as Analysis;
    expect(notes(a)).toEqual([{ code: 'connectivity-no-sequence-output', message: NO_MAP, count: 1 }]);
    expect(a.recurrent.map((x) => x.connectivity)).toEqual([null, null]);
    expect(r.stderr).toContain(`note: ${NO_MAP}`);
  }, 120_000);
});
