// Weight naming: one model (Bidirectional LSTM → Bidirectional GRU → Bidirectional LSTM → Dense)
// with the same weights under the names each writer gives them (test/fixtures/tfjs-naming, made by
// scripts/make-tfjs-naming-fixtures.ts; docs/formats.md "Weight names"), plus variants of the
// naming rules built here. Every naming must load the same values into the same parameters, and
// the gradients must match TensorFlow.js (tf.layers + tf.variableGrads on the model TF.js itself
// loaded from the TF.js-written files, binding the weights by its own name rules).
import * as tf from '@tensorflow/tfjs';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fileSetFromMap, openModel } from '../src/io/index.js';
import { lossAndGrads } from '../src/engine/run.js';
import { LoadError, ModelError } from '../src/model/errors.js';
import { loadModelFile } from '../src/io/node.js';
import type { ModelSpec } from '../src/model/types.js';
import { relErr } from './helpers/oracle.js';
import { lcg } from './helpers/rng.js';

const DIR = join(import.meta.dirname, 'fixtures', 'tfjs-naming');
const B = 4,
  T = 5,
  F = 3;
const TOL = 1e-4;

interface Files {
  json: Record<string, unknown>;
  shard: string;
  bin: Uint8Array;
}
type Entry = { name: string; shape: number[]; dtype: string };

function read(variant: string): Files {
  const json = JSON.parse(readFileSync(join(DIR, variant, 'model.json'), 'utf8')) as Record<string, unknown>;
  const shard = (json.weightsManifest as { paths: string[] }[])[0]!.paths[0]!;
  return { json, shard, bin: new Uint8Array(readFileSync(join(DIR, variant, shard))) };
}

function entries(f: Files): Entry[] {
  return (f.json.weightsManifest as { weights: Entry[] }[])[0]!.weights;
}

/** A copy of `f` with every weight renamed by `rename`, and optionally reordered (bytes moved along). */
function edit(f: Files, rename: (n: string) => string, order?: (es: Entry[]) => number[]): Files {
  const es = entries(f);
  const sizes = es.map((e) => e.shape.reduce((a, b) => a * b, 1) * 4);
  const starts = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
  const idx = order ? order(es) : es.map((_, i) => i);
  const bin = new Uint8Array(f.bin.length);
  let o = 0;
  for (const i of idx) {
    bin.set(f.bin.subarray(starts[i]!, starts[i]! + sizes[i]!), o);
    o += sizes[i]!;
  }
  const json = structuredClone(f.json);
  (json.weightsManifest as { weights: Entry[] }[])[0]!.weights = idx.map((i) => ({
    ...es[i]!,
    name: rename(es[i]!.name),
  }));
  return { json, shard: f.shard, bin };
}

async function load(f: Files): Promise<ModelSpec> {
  return openModel(
    fileSetFromMap('model.json', { 'model.json': new TextEncoder().encode(JSON.stringify(f.json)), [f.shard]: f.bin }),
  );
}

async function refusal(f: Files): Promise<string> {
  try {
    await load(f);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelError);
    return (e as Error).message;
  }
  throw new Error('loaded, expected a refusal');
}

// ---- the oracle: TF.js on the model it loads itself -------------------------------------------

interface Oracle {
  weights: Float32Array[];
  loss: number;
  grads: Float32Array[];
  outputs: Float32Array;
}
const x = Float32Array.from(
  { length: B * T * F },
  (
    (r) => () =>
      Math.fround(r() * 3 - 1.5)
  )(lcg(7)),
);
const y = Float32Array.from(
  { length: B * 2 },
  (
    (r) => () =>
      Math.fround(r() * 2 - 1)
  )(lcg(8)),
);

async function tfjsOracle(variant: string): Promise<Oracle> {
  const f = read(variant);
  const m = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: f.json.modelTopology as object,
      weightSpecs: entries(f) as tf.io.WeightsManifestEntry[],
      weightData: f.bin.slice().buffer,
    }),
    { strict: true },
  );
  const xt = tf.tensor(x, [B, T, F]);
  const yt = tf.tensor(y, [B, 2]);
  const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(
    () => tf.losses.meanSquaredError(yt, m.apply(xt) as tf.Tensor, undefined, tf.Reduction.MEAN) as tf.Scalar,
    vars,
  );
  const out: Oracle = {
    weights: m.getWeights().map((t) => t.dataSync() as Float32Array),
    loss: value.dataSync()[0]!,
    grads: vars.map((v) => grads[v.name]!.dataSync() as Float32Array),
    outputs: (m.predict(xt) as tf.Tensor).dataSync() as Float32Array,
  };
  m.dispose();
  return out;
}

let ref: Oracle;
beforeAll(async () => {
  await tf.setBackend('cpu');
  ref = await tfjsOracle('tfjs-saved');
}, 120_000);

/** rnnscope's parameters equal TF.js's weights (same Keras order), and its gradients equal TF.js's. */
function checkAgainstOracle(model: ModelSpec, o: Oracle): void {
  const flat = model.params.flat();
  expect(flat.length).toBe(o.weights.length);
  flat.forEach((p, i) => expect(Array.from(model.weights.get(p.key)!.data), p.key).toEqual(Array.from(o.weights[i]!)));
  const r = lossAndGrads(model, [{ shape: [B, T, F], data: x }], [{ shape: [B, 2], data: y }], {
    losses: [{ name: 'mse', fromLogits: false, labelSmoothing: 0 }],
    flavor: 'tfjs',
    dtype: 'float32',
  });
  expect(relErr(r.outputs[0]!.data, o.outputs)).toBeLessThan(TOL);
  expect(relErr([r.loss], [o.loss])).toBeLessThan(TOL);
  r.grads.flat().forEach((g, i) => expect(relErr(g.data, o.grads[i]!), `∂L/∂${flat[i]!.key}`).toBeLessThan(TOL));
}

describe("each writer's Bidirectional naming loads the same weights, and gradients match TF.js", () => {
  it('TF.js itself (tf.LayersModel.save): bidirectional/forward_lstm/kernel', async () => {
    expect(entries(read('tfjs-saved'))[0]!.name).toBe('bidirectional/forward_lstm/kernel');
    checkAgainstOracle(await load(read('tfjs-saved')), ref);
  });

  it('TF.js re-saving a Keras 3 topology: bidirectional/forward_forward_lstm/kernel, backward_forward_lstm (TF.js also loads it itself)', async () => {
    const f = read('tfjs-resaved-keras3');
    expect(entries(f).map((e) => e.name)).toContain('bidirectional/backward_forward_lstm/kernel');
    const own = await tfjsOracle('tfjs-resaved-keras3');
    checkAgainstOracle(await load(f), own);
    checkAgainstOracle(await load(f), ref);
  });

  it('TF.js converter 4.22 on a Keras 3 .h5: forward_lstm/lstm_cell/kernel, backward_lstm_1/lstm_cell/bias, no wrapper scope', async () => {
    const f = read('keras3-converter');
    expect(f.json.generatedBy).toBe('keras v3.10.0');
    expect(entries(f).map((e) => e.name)).toContain('backward_lstm_1/lstm_cell/bias');
    checkAgainstOracle(await load(f), ref);
  });

  it('TF.js converter on a tf.keras 2.15 .h5: bidirectional/forward_lstm/lstm_cell/kernel', async () => {
    checkAgainstOracle(await load(read('tfkeras-converter')), ref);
  });
});

describe('variants of the naming rules (docs/formats.md), built from the fixtures', () => {
  it('Keras 3 paths with the enclosing model scope: sequential/bidirectional/forward_lstm/lstm_cell/kernel', async () => {
    const wrapperOf: Record<string, string> = {
      lstm: 'bidirectional',
      gru: 'bidirectional_1',
      lstm_1: 'bidirectional_2',
    };
    const f = edit(read('keras3-converter'), (n) => {
      const m = /^(forward|backward)_(\w+?)\//.exec(n);
      return m ? `sequential/${wrapperOf[m[2]!]}/${n}` : `sequential/${n}`;
    });
    expect(entries(f)[0]!.name).toBe('sequential/bidirectional/forward_lstm/lstm_cell/kernel');
    checkAgainstOracle(await load(f), ref);
  });

  it('a Keras 3 conversion renamed by hand to what TF.js expects (bidirectional_2/forward_forward_lstm_1/kernel), generatedBy still keras v3', async () => {
    const wrapperOf: Record<string, string> = {
      lstm: 'bidirectional',
      gru: 'bidirectional_1',
      lstm_1: 'bidirectional_2',
    };
    const f = edit(read('keras3-converter'), (n) =>
      n.replace(
        /^(forward|backward)_(\w+?)\/\w+_cell\//,
        (_, d: string, inner: string) => `${wrapperOf[inner]}/${d}_forward_${inner}/`,
      ),
    );
    expect(entries(f).map((e) => e.name)).toContain('bidirectional_2/backward_forward_lstm_1/bias');
    checkAgainstOracle(await load(f), ref);
  });

  it('TF 2.2+ cell scopes with uid suffixes (lstm_cell_4) and TF 2.0/2.1 names without a cell scope', async () => {
    let k = 0;
    const uid = edit(read('tfkeras-converter'), (n) => n.replace(/_cell\//, () => `_cell_${1 + (k++ % 7)}/`));
    expect(entries(uid)[0]!.name).toBe('bidirectional/forward_lstm/lstm_cell_1/kernel');
    checkAgainstOracle(await load(uid), ref);
    const noCell = edit(read('tfkeras-converter'), (n) => n.replace(/\/\w+_cell\//, '/'));
    expect(entries(noCell)[0]!.name).toBe('bidirectional/forward_lstm/kernel');
    checkAgainstOracle(await load(noCell), ref);
  });

  it('TF.js converter on a Keras 3 .keras: store paths layers/bidirectional/forward_layer/cell/vars/0', async () => {
    const wrapperOf: Record<string, string> = {
      lstm: 'bidirectional',
      gru: 'bidirectional_1',
      lstm_1: 'bidirectional_2',
    };
    const idx: Record<string, number> = { kernel: 0, recurrent_kernel: 1, bias: 2 };
    const f = edit(read('keras3-converter'), (n) => {
      const m = /^(forward|backward)_(\w+?)\/\w+_cell\/(\w+)$/.exec(n);
      if (m) return `layers/${wrapperOf[m[2]!]}/${m[1]}_layer/cell/vars/${idx[m[3]!]}`;
      return n.replace(/^dense\/(\w+)$/, (_, w: string) => `layers/dense/vars/${w === 'kernel' ? 0 : 1}`);
    });
    expect(entries(f)[0]!.name).toBe('layers/bidirectional/forward_layer/cell/vars/0');
    checkAgainstOracle(await load(f), ref);
  });

  it('order does not matter: the manifest reversed and interleaved', async () => {
    const f = edit(
      read('keras3-converter'),
      (n) => n,
      (es) =>
        es
          .map((_, i) => i)
          .sort((a, b) => ((a * 7) % es.length) - ((b * 7) % es.length))
          .reverse(),
    );
    expect(entries(f)[0]!.name).not.toBe('forward_lstm/lstm_cell/kernel');
    checkAgainstOracle(await load(f), ref);
  });
});

describe('refusals name what was found and what was expected', () => {
  it('a half the config does not declare: the missing weights, the scopes expected, and the names that fit nothing', async () => {
    const msg = await refusal(edit(read('keras3-converter'), (n) => n.replace('backward_lstm_1/', 'backward_lstm_9/')));
    expect(msg).toContain(
      'model.json has weights that do not match its layers: layer bidirectional_2 (Bidirectional) has no weight for backward/kernel (expected a name like [bidirectional_2/](backward_lstm_1|backward_forward_lstm_1|backward_backward_lstm_1)[/lstm_cell]/kernel);',
    );
    expect(msg).toContain(
      '3 weight(s) fit no layer of the config: backward_lstm_9/lstm_cell/kernel, backward_lstm_9/lstm_cell/recurrent_kernel, backward_lstm_9/lstm_cell/bias;',
    );
    expect(msg).not.toContain('belong together');
  });

  it('two names for one weight', async () => {
    const f = read('tfkeras-converter');
    const twice = edit(
      f,
      (n) => (n === 'bidirectional/forward_lstm/lstm_cell/kernel' ? 'bidirectional/forward_lstm/kernel' : n),
      (es) => [...es.map((_, i) => i)],
    );
    // add the cell-scoped name too, with its bytes
    const es = entries(twice);
    const first = es[0]!;
    es.push({ ...first, name: 'bidirectional/forward_lstm/lstm_cell/kernel' });
    const n0 = first.shape.reduce((a, b) => a * b, 1) * 4;
    const bin = new Uint8Array(twice.bin.length + n0);
    bin.set(twice.bin);
    bin.set(twice.bin.subarray(0, n0), twice.bin.length);
    const msg = await refusal({ ...twice, bin });
    expect(msg).toContain(
      'both bidirectional/forward_lstm/kernel and bidirectional/forward_lstm/lstm_cell/kernel name bidirectional/forward/kernel',
    );
  });

  it('duplicate layer names: one clear message instead of a weight-shape or naming error', async () => {
    const f = read('tfkeras-converter');
    const json = JSON.parse(JSON.stringify(f.json).replace(/"bidirectional_2"/g, '"bidirectional_1"')) as Record<
      string,
      unknown
    >;
    expect(await refusal({ ...f, json })).toBe(
      'model.json: two layers are named bidirectional_1 (a Bidirectional and a Bidirectional); expected unique layer names, as Keras requires (its weight files key weights by layer name, so they cannot be told apart); rename one of them in the model config and re-save the model.',
    );
  });
});

describe('shards on disk', () => {
  it('a shard that is a symbolic link to a file outside the model folder is refused, one inside loads', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'rnnscope-shardlink-'));
    try {
      const model = join(tmp, 'model');
      mkdirSync(join(model, 'parts'), { recursive: true });
      mkdirSync(join(tmp, 'elsewhere'));
      copyFileSync(join(DIR, 'tfjs-saved', 'model.json'), join(model, 'model.json'));
      copyFileSync(join(DIR, 'tfjs-saved', 'weights.bin'), join(tmp, 'elsewhere', 'weights.bin'));
      symlinkSync(join(tmp, 'elsewhere', 'weights.bin'), join(model, 'weights.bin'));
      const err = await loadModelFile(join(model, 'model.json')).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(LoadError);
      const real = realpathSync(tmp);
      expect((err as Error).message).toBe(
        `${join(model, 'model.json')} refers to weights.bin, a link to ${join(real, 'elsewhere', 'weights.bin')}, outside the model folder ${join(real, 'model')}; expected the file itself inside the folder; copy the file into the model folder instead of linking it.`,
      );
      // The same bytes reached through a link that stays inside the folder are fine.
      rmSync(join(model, 'weights.bin'));
      copyFileSync(join(DIR, 'tfjs-saved', 'weights.bin'), join(model, 'parts', 'weights.bin'));
      symlinkSync(join(model, 'parts', 'weights.bin'), join(model, 'weights.bin'));
      checkAgainstOracle(await loadModelFile(join(model, 'model.json')), ref);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
