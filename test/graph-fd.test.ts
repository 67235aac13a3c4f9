// Whole-graph gradients by float64 finite differences on Functional models built from Keras 3
// configs: an encoder–decoder passing LSTM states through initial_state, a shared GRU called on two
// inputs and merged with Add, and a Bidirectional with initial states.
import { describe, expect, it } from 'vitest';
import { buildModel } from '../src/model/build.js';
import type { ModelSpec } from '../src/model/types.js';
import { lossAndGrads } from '../src/engine/run.js';
import { lcg, maxRelErr, randArr } from './helpers/rng.js';

const kt = (layer: string, node: number, tensor: number, shape: (number | null)[]) => ({
  class_name: '__keras_tensor__',
  config: { shape, dtype: 'float32', keras_history: [layer, node, tensor] },
});
const input = (name: string, shape: (number | null)[]) => ({
  module: 'keras.layers',
  class_name: 'InputLayer',
  name,
  config: { name, batch_shape: shape, dtype: 'float32' },
  inbound_nodes: [],
});
const layer = (cls: string, name: string, config: object, calls: { args: unknown[]; kwargs?: object }[]) => ({
  module: 'keras.layers',
  class_name: cls,
  name,
  config: { name, ...config },
  inbound_nodes: calls.map((c) => ({ args: c.args, kwargs: c.kwargs ?? {} })),
});
const functional = (layers: unknown[], ins: string[], outs: string[]) => ({
  module: 'keras.src.models.functional',
  class_name: 'Functional',
  config: { name: 'f', layers, input_layers: ins.map((n) => [n, 0, 0]), output_layers: outs.map((n) => [n, 0, 0]) },
});

function withWeights(cfg: unknown, seed: number): ModelSpec {
  const m = buildModel(cfg, { kerasVersion: '3.10.0', format: 'config', source: 'test' });
  const r = lcg(seed);
  for (const ps of m.params)
    for (const p of ps)
      m.weights.set(p.key, {
        shape: p.shape,
        data: randArr(
          r,
          p.shape.reduce((a, b) => a * b, 1),
          0.7,
        ),
      });
  return m;
}

function check(m: ModelSpec, B: number): void {
  const r = lcg(42);
  const xs = m.inputs.map((id) => {
    const shape = m.tensors[id]!.shape.map((d, j) => (j === 0 ? B : d!));
    return {
      shape,
      data: randArr(
        r,
        shape.reduce((a, b) => a * b, 1),
        1,
      ),
    };
  });
  const ys = m.outputs.map((id) => {
    const shape = m.tensors[id]!.shape.map((d, j) => (j === 0 ? B : d!));
    return {
      shape,
      data: randArr(
        r,
        shape.reduce((a, b) => a * b, 1),
        1,
      ),
    };
  });
  const opts = {
    losses: m.outputs.map(() => ({ name: 'mse', fromLogits: false, labelSmoothing: 0 })),
    flavor: 'keras3' as const,
    dtype: 'float64' as const,
  };
  const res = lossAndGrads(m, xs, ys, opts);
  const L = (): number => lossAndGrads(m, xs, ys, opts).loss;
  const fd = (a: Float64Array, i: number): number => {
    const v = a[i]!;
    a[i] = v + 1e-6;
    const p = L();
    a[i] = v - 1e-6;
    const q = L();
    a[i] = v;
    return (p - q) / 2e-6;
  };
  m.params.forEach((ps, li) =>
    ps.forEach((p, pi) => {
      const w = m.weights.get(p.key)!.data;
      const num = Float64Array.from(w, (_, i) => fd(w, i));
      expect(maxRelErr(res.grads[li]![pi]!.data, num), p.key).toBeLessThan(1e-7);
    }),
  );
  xs.forEach((x, i) => {
    const num = Float64Array.from(x.data, (_, j) => fd(x.data, j));
    expect(maxRelErr(res.dInputs[i]!.data, num), `input ${i}`).toBeLessThan(1e-7);
  });
}

describe('graph gradients by finite differences', () => {
  it('encoder–decoder: LSTM states passed as initial_state', () => {
    check(
      withWeights(
        functional(
          [
            input('x', [null, 4, 3]),
            input('y', [null, 3, 2]),
            layer('LSTM', 'enc', { units: 3, return_state: true }, [{ args: [kt('x', 0, 0, [null, 4, 3])] }]),
            layer('LSTM', 'dec', { units: 3, return_sequences: true }, [
              {
                args: [kt('y', 0, 0, [null, 3, 2])],
                kwargs: { initial_state: [kt('enc', 0, 1, [null, 3]), kt('enc', 0, 2, [null, 3])] },
              },
            ]),
            layer('Dense', 'out', { units: 2 }, [{ args: [kt('dec', 0, 0, [null, 3, 3])] }]),
          ],
          ['x', 'y'],
          ['out'],
        ),
        1,
      ),
      2,
    );
  });

  it('shared GRU called on two inputs, merged with Add', () => {
    check(
      withWeights(
        functional(
          [
            input('a', [null, 4, 2]),
            input('b', [null, 5, 2]),
            layer('GRU', 'shared', { units: 3, reset_after: true }, [
              { args: [kt('a', 0, 0, [null, 4, 2])] },
              { args: [kt('b', 0, 0, [null, 5, 2])] },
            ]),
            layer('Add', 'sum', {}, [{ args: [[kt('shared', 0, 0, [null, 3]), kt('shared', 1, 0, [null, 3])]] }]),
            layer('Dense', 'out', { units: 1 }, [{ args: [kt('sum', 0, 0, [null, 3])] }]),
          ],
          ['a', 'b'],
          ['out'],
        ),
        2,
      ),
      2,
    );
  });

  it('Bidirectional GRU with initial states for both directions, two outputs', () => {
    const inner = {
      module: 'keras.layers',
      class_name: 'GRU',
      config: { name: 'g', units: 2, return_sequences: true, reset_after: false },
    };
    check(
      withWeights(
        functional(
          [
            input('x', [null, 4, 3]),
            input('h1', [null, 2]),
            input('h2', [null, 2]),
            layer('Bidirectional', 'bi', { merge_mode: 'concat', layer: inner }, [
              {
                args: [kt('x', 0, 0, [null, 4, 3])],
                kwargs: { initial_state: [kt('h1', 0, 0, [null, 2]), kt('h2', 0, 0, [null, 2])] },
              },
            ]),
            layer('Dense', 'o1', { units: 2 }, [{ args: [kt('bi', 0, 0, [null, 4, 4])] }]),
            layer('GlobalAveragePooling1D', 'pool', {}, [{ args: [kt('bi', 0, 0, [null, 4, 4])] }]),
          ],
          ['x', 'h1', 'h2'],
          ['o1', 'pool'],
        ),
        3,
      ),
      2,
    );
  });
});
