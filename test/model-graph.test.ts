// Graph construction: functional connectivity in the Keras 1, Keras 2 / tf.keras
// and Keras 3 spellings, several inputs and outputs, shared layers, initial
// states, nested Sequential / Functional models flattened into the DAG, merge
// layers and their shapes.

import { describe, expect, test } from 'vitest';
import { buildModel, weightGroups } from '../src/model/build.js';
import { countParams, summary } from '../src/model/summary.js';
import type { ModelSpec, Shape } from '../src/model/types.js';
import { sequential } from './model-helpers.js';

const build = (v: string, cfg: unknown): ModelSpec =>
  buildModel(cfg, { kerasVersion: v, format: 'config', source: 't' });
const shapeOf = (m: ModelSpec, ts: number[]): Shape[] => ts.map((t) => m.tensors[t]!.shape);

/** One functional-model layer entry; `ins` are [layer, node, tensor] refs, written in `spelling`. */
function entry(
  spelling: 'k1' | 'k2' | 'k3',
  cls: string,
  name: string,
  config: Record<string, unknown>,
  ins: [string, number, number][][],
  kwargs: Record<string, unknown> = {},
) {
  const kt = (r: [string, number, number]) => ({
    class_name: '__keras_tensor__',
    config: { shape: null, dtype: 'float32', keras_history: r },
  });
  const inbound =
    spelling === 'k3'
      ? ins.map((call) => ({ args: call.length === 1 ? [kt(call[0]!)] : [call.map(kt)], kwargs }))
      : ins.map((call) => call.map((r) => (spelling === 'k1' ? [...r] : [...r, kwargs])));
  return {
    ...(spelling === 'k3' ? { module: 'keras.layers', registered_name: null } : {}),
    class_name: cls,
    name,
    config: { name, ...config },
    inbound_nodes: inbound,
  };
}
const input = (s: 'k1' | 'k2' | 'k3', name: string, shape: (number | null)[]) =>
  entry(s, 'InputLayer', name, s === 'k3' ? { batch_shape: shape } : { batch_input_shape: shape }, []);
const model = (s: 'k1' | 'k2' | 'k3', layers: unknown[], ins: unknown, outs: unknown) => ({
  class_name: s === 'k3' ? 'Functional' : 'Model',
  config: { name: 'f', layers, input_layers: ins, output_layers: outs },
});

describe('functional connectivity', () => {
  for (const [s, v] of [
    ['k1', '1.2.2'],
    ['k2', '2.13.1'],
    ['k3', '3.10.0'],
  ] as const) {
    test(`two inputs, merge, two outputs (${s})`, () => {
      const cfg = model(
        s,
        [
          input(s, 'a', [null, 5, 3]),
          input(s, 'b', [null, 4]),
          entry(s, 'LSTM', 'enc', s === 'k1' ? { output_dim: 6 } : { units: 6 }, [[['a', 0, 0]]]),
          entry(
            s,
            s === 'k1' ? 'Merge' : 'Concatenate',
            'cat',
            s === 'k1' ? { mode: 'concat', concat_axis: -1 } : { axis: -1 },
            [
              [
                ['enc', 0, 0],
                ['b', 0, 0],
              ],
            ],
          ),
          entry(s, 'Dense', 'out1', s === 'k1' ? { output_dim: 1 } : { units: 1 }, [[['cat', 0, 0]]]),
          entry(s, 'Dense', 'out2', s === 'k1' ? { output_dim: 2 } : { units: 2 }, [[['enc', 0, 0]]]),
        ],
        s === 'k3'
          ? [
              ['a', 0, 0],
              ['b', 0, 0],
            ]
          : [
              ['a', 0, 0],
              ['b', 0, 0],
            ],
        [
          ['out1', 0, 0],
          ['out2', 0, 0],
        ],
      );
      const m = build(v, cfg);
      expect(m.layers.map((l) => `${l.name}:${l.type}`)).toEqual([
        'a:InputLayer',
        'b:InputLayer',
        'enc:Recurrent',
        'cat:Merge',
        'out1:Dense',
        'out2:Dense',
      ]);
      expect([m.inputNames, m.outputNames]).toEqual([
        ['a', 'b'],
        ['out1', 'out2'],
      ]);
      expect(shapeOf(m, m.outputs)).toEqual([
        [null, 1],
        [null, 2],
      ]);
      expect(m.layers[3]).toEqual({
        name: 'cat',
        className: s === 'k1' ? 'Merge' : 'Concatenate',
        type: 'Merge',
        mode: 'Concatenate',
        axis: -1,
      });
      expect(m.params[4]!.map((p) => p.shape)).toEqual([[10, 1], [1]]);
      const enc = m.nodes.find((n) => n.layer === 2)!;
      expect(enc.inputs).toEqual([m.inputs[0]]);
    });
  }

  test('single tensor input/output written as a flat triple (Keras 3); dict outputs name the outputs', () => {
    const m = build(
      '3.10.0',
      model(
        'k3',
        [input('k3', 'x', [null, 3]), entry('k3', 'Dense', 'd', { units: 2 }, [[['x', 0, 0]]])],
        ['x', 0, 0],
        { logits: ['d', 0, 0] },
      ),
    );
    expect([m.inputNames, m.outputNames, shapeOf(m, m.outputs)]).toEqual([['x'], ['logits'], [[null, 2]]]);
  });

  test('nodes listed before their inputs exist are deferred (Keras from_config)', () => {
    const m = build(
      '2.13.1',
      model(
        'k2',
        [
          entry('k2', 'Dense', 'late', { units: 2 }, [[['early', 0, 0]]]),
          input('k2', 'x', [null, 3]),
          entry('k2', 'Dense', 'early', { units: 4 }, [[['x', 0, 0]]]),
        ],
        [['x', 0, 0]],
        [['late', 0, 0]],
      ),
    );
    expect(m.nodes.map((n) => m.layers[n.layer]!.name)).toEqual(['x', 'early', 'late']);
    expect(m.layers.map((l) => l.name)).toEqual(['late', 'x', 'early']);
  });

  for (const [s, v] of [
    ['k2', '2.13.1'],
    ['k3', '3.10.0'],
  ] as const) {
    test(`shared layer called twice: one layer, two nodes, parameters counted once (${s})`, () => {
      const m = build(
        v,
        model(
          s,
          [
            input(s, 'a', [null, 5, 3]),
            input(s, 'b', [null, 7, 3]),
            entry(s, 'GRU', 'shared', { units: 4, reset_after: true }, [[['a', 0, 0]], [['b', 0, 0]]]),
            entry(s, 'Add', 'sum', {}, [
              [
                ['shared', 0, 0],
                ['shared', 1, 0],
              ],
            ]),
          ],
          [
            ['a', 0, 0],
            ['b', 0, 0],
          ],
          [['sum', 0, 0]],
        ),
      );
      expect(m.nodes.filter((n) => n.layer === 2).length).toBe(2);
      expect(countParams(m).total).toBe(3 * 12 + 4 * 12 + 24);
      expect(summary(m)).toContain('shared (GRU)    (None, 4)     108      a[0][0], b[0][0]\n');
    });
  }

  test('initial_state: Keras 3 kwargs and Keras 2 extra node entries become inputs [x, h, c]', () => {
    const k3 = build(
      '3.10.0',
      model(
        'k3',
        [
          input('k3', 'x', [null, 5, 3]),
          input('k3', 'y', [null, 6, 2]),
          entry('k3', 'LSTM', 'enc', { units: 4, return_state: true }, [[['x', 0, 0]]]),
          entry('k3', 'LSTM', 'dec', { units: 4, return_sequences: true }, [[['y', 0, 0]]], {
            initial_state: [
              {
                class_name: '__keras_tensor__',
                config: { shape: [null, 4], dtype: 'float32', keras_history: ['enc', 0, 1] },
              },
              {
                class_name: '__keras_tensor__',
                config: { shape: [null, 4], dtype: 'float32', keras_history: ['enc', 0, 2] },
              },
            ],
            training: false,
          }),
        ],
        [
          ['x', 0, 0],
          ['y', 0, 0],
        ],
        [['dec', 0, 0]],
      ),
    );
    const enc = k3.nodes.find((n) => n.layer === 2)!;
    const dec = k3.nodes.find((n) => n.layer === 3)!;
    expect(dec.inputs).toEqual([k3.inputs[1], enc.outputs[1], enc.outputs[2]]);
    expect(shapeOf(k3, k3.outputs)).toEqual([[null, 6, 4]]);

    const k2 = build(
      '2.13.1',
      model(
        'k2',
        [
          input('k2', 'x', [null, 5, 3]),
          input('k2', 'h', [null, 4]),
          entry('k2', 'GRU', 'g', { units: 4 }, [
            [
              ['x', 0, 0],
              ['h', 0, 0],
            ],
          ]),
        ],
        [
          ['x', 0, 0],
          ['h', 0, 0],
        ],
        [['g', 0, 0]],
      ),
    );
    expect(k2.nodes[2]!.inputs).toEqual(k2.inputs);
    expect(k2.params[2]!.map((p) => p.shape)).toEqual([
      [3, 12],
      [4, 12],
      [2, 12],
    ]);
  });
});

describe('nested models are flattened', () => {
  test('Sequential inside Functional (Keras 3), called twice: shared inner layers, names outer/inner, weight groups', () => {
    const inner = {
      module: 'keras',
      class_name: 'Sequential',
      name: 'encoder',
      config: {
        name: 'encoder',
        layers: [
          { module: 'keras.layers', class_name: 'InputLayer', config: { name: 'enc_in', batch_shape: [null, 5, 3] } },
          { module: 'keras.layers', class_name: 'LSTM', config: { name: 'lstm', units: 4 } },
          { module: 'keras.layers', class_name: 'Dense', config: { name: 'dense', units: 2 } },
        ],
      },
      inbound_nodes: [
        { args: [{ class_name: '__keras_tensor__', config: { keras_history: ['a', 0, 0] } }], kwargs: {} },
        { args: [{ class_name: '__keras_tensor__', config: { keras_history: ['b', 0, 0] } }], kwargs: {} },
      ],
    };
    const m = build(
      '3.10.0',
      model(
        'k3',
        [
          input('k3', 'a', [null, 5, 3]),
          input('k3', 'b', [null, 5, 3]),
          inner,
          entry('k3', 'Subtract', 'diff', {}, [
            [
              ['encoder', 0, 0],
              ['encoder', 1, 0],
            ],
          ]),
          entry('k3', 'Dense', 'dense', { units: 1 }, [[['diff', 0, 0]]]),
        ],
        [
          ['a', 0, 0],
          ['b', 0, 0],
        ],
        ['dense', 0, 0],
      ),
    );
    expect(m.layers.map((l) => l.name)).toEqual(['a', 'b', 'encoder/lstm', 'encoder/dense', 'diff', 'dense']);
    expect(m.params[2]!.map((p) => p.key)).toEqual([
      'encoder/lstm/kernel',
      'encoder/lstm/recurrent_kernel',
      'encoder/lstm/bias',
    ]);
    expect(m.nodes.filter((n) => n.layer === 2).length).toBe(2);
    expect(weightGroups(m)).toEqual([
      { name: 'a', className: 'InputLayer', layers: [0] },
      { name: 'b', className: 'InputLayer', layers: [1] },
      { name: 'encoder', className: 'Sequential', layers: [2, 3] },
      { name: 'diff', className: 'Subtract', layers: [4] },
      { name: 'dense', className: 'Dense', layers: [5] },
    ]);
    expect(countParams(m).total).toBe(4 * 4 * (3 + 4 + 1) + 4 * 2 + 2 + 2 + 1);
  });

  test('Sequential inside Sequential (Keras 2 list form); trainable=false propagates', () => {
    const m = build('2.1.6', {
      class_name: 'Sequential',
      config: [
        {
          class_name: 'Sequential',
          config: [
            {
              class_name: 'Embedding',
              config: { name: 'emb', input_dim: 10, output_dim: 3, batch_input_shape: [null, 6] },
            },
            { class_name: 'SimpleRNN', config: { name: 'rnn', units: 2, trainable: false } },
          ],
        },
        { class_name: 'Dense', config: { name: 'out', units: 1 } },
      ],
    });
    expect(m.layers.map((l) => l.name)).toEqual(['sequential_input', 'sequential/emb', 'sequential/rnn', 'out']);
    expect(m.tensors[0]!.shape).toEqual([null, 6]);
    expect(countParams(m)).toEqual({ trainable: 30 + 3, nonTrainable: 3 * 2 + 2 * 2 + 2, total: 45 });
  });

  test('Functional inside Functional (Keras 2 form)', () => {
    const sub = {
      class_name: 'Model',
      name: 'sub',
      config: {
        name: 'sub',
        layers: [input('k2', 'si', [null, 4]), entry('k2', 'Dense', 'sd', { units: 3 }, [[['si', 0, 0]]])],
        input_layers: [['si', 0, 0]],
        output_layers: [['sd', 0, 0]],
      },
      inbound_nodes: [[['x', 0, 0, {}]]],
    };
    const m = build('2.13.1', model('k2', [input('k2', 'x', [null, 4]), sub], [['x', 0, 0]], [['sub', 0, 0]]));
    expect([m.layers.map((l) => l.name), m.outputNames, shapeOf(m, m.outputs)]).toEqual([
      ['x', 'sub/sd'],
      ['sub'],
      [[null, 3]],
    ]);
  });
});

describe('merge layers', () => {
  const two = (cls: string, a: (number | null)[], b: (number | null)[], cfg: Record<string, unknown> = {}) =>
    build(
      '2.13.1',
      model(
        'k2',
        [
          input('k2', 'a', a),
          input('k2', 'b', b),
          entry('k2', cls, 'm', cfg, [
            [
              ['a', 0, 0],
              ['b', 0, 0],
            ],
          ]),
        ],
        [
          ['a', 0, 0],
          ['b', 0, 0],
        ],
        [['m', 0, 0]],
      ),
    );
  test('shapes', () => {
    expect(shapeOf(two('Concatenate', [null, 5, 3], [null, 5, 2]), [2])).toEqual([[null, 5, 5]]);
    expect(shapeOf(two('Concatenate', [null, 5, 3], [null, 4, 3], { axis: 1 }), [2])).toEqual([[null, 9, 3]]);
    expect(shapeOf(two('Concatenate', [null, null, 3], [null, 4, 3], { axis: 1 }), [2])).toEqual([[null, null, 3]]);
    for (const cls of ['Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum']) {
      const m = two(cls, [null, 5, 3], [null, 5, 3]);
      expect([m.layers[2]!, shapeOf(m, [2])]).toEqual([
        { name: 'm', className: cls, type: 'Merge', mode: cls, axis: -1 },
        [[null, 5, 3]],
      ]);
    }
    const k1 = build(
      '1.2.2',
      model(
        'k1',
        [
          input('k1', 'a', [null, 3]),
          input('k1', 'b', [null, 3]),
          entry('k1', 'Merge', 'm', { mode: 'ave', mode_type: 'raw' }, [
            [
              ['a', 0, 0],
              ['b', 0, 0],
            ],
          ]),
        ],
        [
          ['a', 0, 0],
          ['b', 0, 0],
        ],
        [['m', 0, 0]],
      ),
    );
    expect(k1.layers[2]).toMatchObject({ type: 'Merge', mode: 'Average' });
  });
  test('unequal shapes and counts are refused', () => {
    expect(() => two('Add', [null, 5, 3], [null, 5, 1])).toThrow(
      "Layer 'm' (Add) receives shapes (None, 5, 3) and (None, 5, 1); expected equal shapes; rnnscope does not broadcast merge inputs; reshape the inputs to match.",
    );
    expect(() =>
      build(
        '2.13.1',
        model(
          'k2',
          [
            input('k2', 'a', [null, 3]),
            entry('k2', 'Subtract', 's', {}, [
              [
                ['a', 0, 0],
                ['a', 0, 0],
                ['a', 0, 0],
              ],
            ]),
          ],
          [['a', 0, 0]],
          [['s', 0, 0]],
        ),
      ),
    ).toThrow(
      "Layer 's' (Subtract) receives 3 inputs; expected exactly 2; the config is inconsistent; re-save the model.",
    );
  });
});

test('Sequential writers produce the same graph', () => {
  const layers = [
    { class_name: 'LSTM', config: { units: 4, name: 'lstm' } },
    { class_name: 'Dense', config: { units: 1, name: 'd' } },
  ];
  const graphs = (['keras2', 'keras3', 'tfjs'] as const).map((w) => {
    const m = build(
      w === 'keras2' ? '2.2.4' : w === 'keras3' ? '3.1.0' : 'tfjs-layers 4.0.0',
      sequential(w, [null, 5, 3], layers),
    );
    return [m.nodes.map((n) => [n.layer, n.inputs, n.outputs]), m.tensors.map((t) => t.shape), countParams(m).total];
  });
  expect(graphs[1]).toEqual(graphs[0]);
  expect(graphs[2]).toEqual(graphs[0]);
});

test('a topology saved by tf.LayersModel.save (snake-cased by convertTsToPythonic, tfjs default names)', () => {
  const topology = {
    class_name: 'Model',
    keras_version: 'tfjs-layers 4.22.0',
    backend: 'tensor_flow.js',
    config: {
      name: 'model1',
      layers: [
        {
          class_name: 'InputLayer',
          name: 'input1',
          config: { batch_input_shape: [null, 12, 5], dtype: 'float32', sparse: false, name: 'input1' },
          inbound_nodes: [],
        },
        {
          class_name: 'Bidirectional',
          name: 'bidirectional_Bidirectional1',
          config: {
            name: 'bidirectional_Bidirectional1',
            trainable: true,
            merge_mode: 'ave',
            layer: {
              class_name: 'GRU',
              config: {
                name: 'gru_GRU1',
                units: 3,
                activation: 'tanh',
                use_bias: true,
                return_sequences: true,
                implementation: 1,
              },
            },
            backward_layer: {
              class_name: 'GRU',
              config: { name: 'other', units: 3, go_backwards: true, return_sequences: true },
            },
          },
          inbound_nodes: [[['input1', 0, 0, {}]]],
        },
        {
          class_name: 'TimeDistributed',
          name: 'td',
          config: {
            name: 'td',
            layer: { class_name: 'Dense', config: { name: 'dense_Dense1', units: 1, activation: 'hard_sigmoid' } },
          },
          inbound_nodes: [[['bidirectional_Bidirectional1', 0, 0, {}]]],
        },
      ],
      input_layers: [['input1', 0, 0]],
      output_layers: [['td', 0, 0]],
    },
  };
  const m = buildModel(topology, {
    kerasVersion: topology.keras_version,
    backend: topology.backend,
    format: 'tfjs-layers',
    source: 'model.json',
  });
  const bi = m.layers[1]!;
  if (bi.type !== 'Bidirectional') throw new Error('not bidirectional');
  // TF.js: reset_after false when absent, hard_sigmoid default and slope 0.2, backward_layer ignored
  // (docs/keras-versions.md, 'TensorFlow.js').
  expect([
    bi.forward.resetAfter,
    bi.forward.recurrentActivation,
    bi.backwardName,
    bi.backward.goBackwards,
    bi.forward.zeroOutputForMask,
  ]).toEqual([false, { name: 'hard_sigmoid', hardSigmoidSlope: 0.2 }, 'backward_gru_GRU1', true, false]);
  expect(m.warnings.map((w) => w.code)).toEqual(['tfjs-backward-layer']);
  expect(shapeOf(m, m.outputs)).toEqual([[null, 12, 1]]);
  expect(m.params[1]!.map((p) => p.shape.join('x'))).toEqual(['5x9', '3x9', '9', '5x9', '3x9', '9']);
  expect((m.layers[2] as { inner: { activation: unknown } }).inner.activation).toEqual({
    name: 'hard_sigmoid',
    hardSigmoidSlope: 0.2,
  });
});

test('Keras 1 model_config that is itself a bare list of layers; input_dtype', () => {
  const m = build('1', [
    {
      class_name: 'Embedding',
      config: {
        name: 'e',
        input_dim: 20,
        output_dim: 4,
        input_length: 9,
        input_dtype: 'int32',
        batch_input_shape: [null, 9],
      },
    },
    { class_name: 'GRU', config: { name: 'g', output_dim: 3, inner_activation: 'sigmoid', return_sequences: false } },
  ]);
  expect([m.name, m.inputNames, m.tensors[0], m.outputNames]).toEqual([
    'sequential',
    ['embedding_input_1'],
    { id: 0, shape: [null, 9], dtype: 'int32' },
    ['g'],
  ]);
  expect(m.layers[2]).toMatchObject({
    type: 'Recurrent',
    rnn: { kind: 'GRU', resetAfter: false, inputDim: 4, recurrentActivation: { name: 'sigmoid' } },
  });
});
