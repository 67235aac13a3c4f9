// Large configs load in time linear in the layer count, and absurd declared sizes are refused
// with a typed error when the model is built.
//
// Measured before (commit 6cb912d), same machine: a Keras 3 .keras with 10^4 Activation layers
// loaded in 63 s, 2×10^4 did not finish in 300 s (a name search per layer in the weight walk, a
// node search per layer in build and summary, an array copy per layer when grouping by class;
// issue 10 reports the same for a 2.6 MB file of 10^5 layers). Now 10^5 layers take ~6 s of CPU
// (compiled, 2 shared cores). A config declaring 10^15 steps crashed `analyze` with "Invalid
// typed array length".
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import * as h5wasm from 'h5wasm';
import { ModelError } from '../src/model/errors.js';
import { buildModel, MAX_SAMPLE_VALUES } from '../src/model/build.js';
import { summary } from '../src/model/summary.js';
import { bindV3 } from '../src/io/keras3-store.js';
import { fileSetFromMap, openModel } from '../src/io/index.js';
import type { VarStore } from '../src/io/weight-store.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dtype = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };

/** Keras 3 layer entries as model.save() writes them. */
const activation = (i: number) => ({
  module: 'keras.layers',
  class_name: 'Activation',
  config: { name: `activation_${i}`, trainable: true, dtype, activation: 'tanh' },
  registered_name: null,
  build_config: { input_shape: [null, 1] },
});
const dense = (name: string) => ({
  module: 'keras.layers',
  class_name: 'Dense',
  config: { name, trainable: true, dtype, units: 1, activation: 'linear', use_bias: true },
  registered_name: null,
  build_config: { input_shape: [null, 1] },
});
const input = {
  module: 'keras.layers',
  class_name: 'InputLayer',
  config: { batch_shape: [null, 1], dtype: 'float32', sparse: false, name: 'input_layer' },
  registered_name: null,
};

let weightsH5: Uint8Array | null = null;
/** model.weights.h5 of a Sequential whose only weighted layer is one Dense(1) on 1 feature (kernel 0.5, bias 0.25). */
async function oneDenseWeights(): Promise<Uint8Array> {
  if (weightsH5) return weightsH5;
  await h5wasm.ready;
  const f = new h5wasm.File('/model-large.weights.h5', 'w');
  for (const g of ['layers', 'layers/dense', 'layers/dense/vars']) f.create_group(g);
  const vars = f.get('layers/dense/vars') as h5wasm.Group;
  vars.create_dataset({ name: '0', data: new Float32Array([0.5]), shape: [1, 1] });
  vars.create_dataset({ name: '1', data: new Float32Array([0.25]), shape: [1] });
  f.close();
  weightsH5 = h5wasm.FS!.readFile('/model-large.weights.h5') as Uint8Array;
  h5wasm.FS!.unlink('/model-large.weights.h5');
  return weightsH5;
}

/** A .keras: n Activation layers then one Dense, config deflated as a re-zipped archive would have it. */
async function chainKeras(n: number): Promise<Uint8Array> {
  const layers: unknown[] = [input];
  for (let i = 0; i < n; i++) layers.push(activation(i));
  layers.push(dense('dense'));
  const config = {
    module: 'keras',
    class_name: 'Sequential',
    config: { name: 'sequential', trainable: true, dtype, layers },
    registered_name: null,
  };
  return zipSync({
    'metadata.json': [enc('{"keras_version": "3.5.0", "date_saved": "2024-06-11@12:00:00"}'), { level: 0 }],
    'config.json': [enc(JSON.stringify(config)), { level: 6 }],
    'model.weights.h5': [await oneDenseWeights(), { level: 0 }],
  });
}

async function timedLoad(bytes: Uint8Array) {
  const t0 = performance.now();
  const m = await openModel(fileSetFromMap('big.keras', { 'big.keras': bytes }));
  const text = summary(m);
  return { m, text, ms: performance.now() - t0 };
}

describe('10^5 layers load in time linear in the layer count', () => {
  it('a 10^5-layer .keras (~0.35 MB) loads, binds its Dense and summarises; 5× the layers take about 5× the time', async () => {
    const small = await chainKeras(20_000);
    const big = await chainKeras(100_000);
    expect(big.length).toBeLessThan(400_000);
    await timedLoad(await chainKeras(100)); // warm up h5wasm and the JIT
    const a = await timedLoad(small);
    const b = await timedLoad(big);
    console.log(
      `model-large: 2×10^4 layers ${a.ms.toFixed(0)} ms, 10^5 layers ${b.ms.toFixed(0)} ms (${(b.ms / a.ms).toFixed(1)}×)`,
    );
    expect(b.m.layers.length).toBe(100_002);
    expect(b.m.weights.get('dense/kernel')!.data[0]).toBe(0.5);
    expect(b.m.weights.get('dense/bias')!.data[0]).toBe(0.25);
    expect(b.text.split('\n').filter((l) => /^activation_\d+ \(Activation\)/.test(l)).length).toBe(100_000);
    expect(b.text).toContain('Total params: 2');
    // Linear: ~5×; the quadratic walk it replaces was 25× (and ran for minutes).
    expect(b.ms / a.ms).toBeLessThan(12);
    expect(b.ms).toBeLessThan(60_000);
  }, 300_000);

  it('the Keras 3 weight walk binds 10^5 Dense layers (an in-memory store) in linear time', () => {
    const n = 100_000;
    const layers: unknown[] = [input];
    for (let i = 0; i < n; i++) layers.push(dense(`d${i}`));
    const config = { class_name: 'Sequential', config: { name: 's', layers } };
    const model = buildModel(config, { kerasVersion: '3.5.0', format: 'keras-v3', source: 'big.keras' });
    const group = (i: number) => (i === 0 ? 'dense' : `dense_${i}`);
    const names = Array.from({ length: n }, (_, i) => group(i));
    const reads: string[] = [];
    const store: VarStore = {
      children: (p) => (p === '' ? ['layers'] : p === 'layers' ? names : []),
      vars: (p) => {
        const i = p === 'layers/dense' ? 0 : Number(p.slice('layers/dense_'.length));
        return [
          {
            name: `${p}/vars/0`,
            shape: [1, 1],
            bytes: 4,
            read: () => {
              reads.push(p);
              return [i];
            },
          },
          { name: `${p}/vars/1`, shape: [1], bytes: 4, read: () => [-i] },
        ];
      },
    };
    const t0 = performance.now();
    bindV3(model, config, store, 'big.keras');
    const ms = performance.now() - t0;
    console.log(`model-large: weight walk over 10^5 Dense layers ${ms.toFixed(0)} ms`);
    expect(reads.length).toBe(n);
    expect(model.weights.get('d99999/kernel')!.data[0]).toBe(99_999);
    expect(model.weights.get('d123/bias')!.data[0]).toBe(-123);
    expect(ms).toBeLessThan(30_000);
  }, 120_000);

  it('a functional chain listed in reverse order builds like the same chain in order (Keras pass semantics), linearly', () => {
    const n = 20_000;
    const entry = (i: number) => ({
      class_name: 'Activation',
      name: `a${i}`,
      config: { name: `a${i}`, activation: 'tanh' },
      inbound_nodes: [[[i === 0 ? 'in' : `a${i - 1}`, 0, 0, {}]]],
    });
    const mk = (reverse: boolean) => {
      const body = Array.from({ length: n }, (_, i) => entry(i));
      if (reverse) body.reverse();
      return {
        class_name: 'Model',
        config: {
          name: 'f',
          layers: [
            {
              class_name: 'InputLayer',
              name: 'in',
              config: { name: 'in', batch_input_shape: [null, 3] },
              inbound_nodes: [],
            },
            ...body,
          ],
          input_layers: [['in', 0, 0]],
          output_layers: [[`a${n - 1}`, 0, 0]],
        },
      };
    };
    const t0 = performance.now();
    const fwd = buildModel(mk(false), { kerasVersion: '2.2.4', format: 'keras-h5', source: 'f.h5' });
    const t1 = performance.now();
    const rev = buildModel(mk(true), { kerasVersion: '2.2.4', format: 'keras-h5', source: 'r.h5' });
    const t2 = performance.now();
    console.log(
      `model-large: functional chain of 2×10^4, in order ${(t1 - t0).toFixed(0)} ms, reversed ${(t2 - t1).toFixed(0)} ms`,
    );
    // The reversed config needs one Keras pass per layer (2×10^4 passes of 2×10^4 entries before).
    expect(rev.nodes.map((nd) => rev.layers[nd.layer]!.name)).toEqual(
      fwd.nodes.map((nd) => fwd.layers[nd.layer]!.name),
    );
    expect(t2 - t1).toBeLessThan(Math.max(20 * (t1 - t0), 5_000));
  }, 120_000);
});

describe('declared sizes no tensor could hold are refused when the model is built', () => {
  const seq = (steps: number, units = 4) => ({
    class_name: 'Sequential',
    config: [
      {
        class_name: 'LSTM',
        config: { name: 'lstm_1', units, batch_input_shape: [null, steps, 3], return_sequences: true },
      },
      { class_name: 'Dense', config: { name: 'dense_1', units: 1 } },
    ],
  });
  const build = (cfg: unknown) => () =>
    buildModel(cfg, { kerasVersion: '2.2.4', format: 'keras-h5', source: 'steps.h5' });

  it('10^15 steps: a ModelError naming the layer, its shape and the limit (was "Invalid typed array length" in analyze)', () => {
    expect(build(seq(1e15))).toThrow(ModelError);
    expect(build(seq(1e15))).toThrow(
      "Layer 'lstm_1_input' (InputLayer) outputs shape (None, 1000000000000000, 3), 3000000000000000 values per sample; expected at most 134217728 (2^27, 1 GiB of float64) per sample; the config's input shape or layer sizes are damaged or too large for rnnscope.",
    );
    try {
      build(seq(1e15))();
    } catch (e) {
      expect((e as ModelError).file).toBe('steps.h5');
    }
  });

  it('a layer whose output alone is too large is named; the largest allowed sample builds', () => {
    expect(build(seq(1000, 2 ** 20))).toThrow(
      /^Layer 'lstm_1' \(LSTM\) outputs shape \(None, 1000, 1048576\), 1048576000 values per sample; expected at most 134217728/,
    );
    const m = build(seq(MAX_SAMPLE_VALUES / 4, 2))();
    expect(m.tensors[m.inputs[0]!]!.shape).toEqual([null, MAX_SAMPLE_VALUES / 4, 3]);
  });
});
