// attentionPaths: ∂L/∂h_t split into what arrives through the attention layers that
// read h, through its other readers, and through the recurrence. Oracle: the same
// network rebuilt with the attention branch (or the other branch) reading a second
// model input hx instead of the LSTM output; with hx set to the LSTM's output the
// loss is the same, and float64 central finite differences of that loss in hx are
// the gradient through that branch alone.

import { describe, expect, it } from 'vitest';
import { buildModel } from '../src/model/build.js';
import type { ModelSpec } from '../src/model/types.js';
import { lossAndGrads } from '../src/engine/run.js';
import { graphForward, materializeParams } from '../src/engine/graph.js';
import { jsKernels } from '../src/engine/kernels.js';
import type { Tensor } from '../src/engine/tensor.js';
import { attentionPaths } from '../src/analysis/attention-paths.js';
import { randTensor, rng } from './helpers/layer-fd.js';

const T = 5,
  I = 3,
  U = 4,
  B = 2;
const node = (...names: string[]) => [names.map((n) => [n, 0, 0, {}])];
const inputLayer = (name: string, shape: number[]) => ({
  class_name: 'InputLayer',
  name,
  config: { name, batch_input_shape: [null, ...shape] },
  inbound_nodes: [],
});

/** attSource / otherSource: which tensor the attention branch and the flatten branch read ('lstm' or 'hx'). */
function config(score: string, attSource: string, otherSource: string, withHx: boolean): unknown {
  const attCfg =
    score === 'mha'
      ? {
          class_name: 'MultiHeadAttention',
          name: 'att',
          config: {
            name: 'att',
            num_heads: 2,
            key_dim: 2,
            value_dim: 2,
            use_bias: true,
            output_shape: null,
            attention_axes: null,
          },
          inbound_nodes: [[[attSource, 0, 0, { value: [attSource, 0, 0] }]]],
        }
      : {
          class_name: 'Attention',
          name: 'att',
          config: { name: 'att', use_scale: true, score_mode: score, dropout: 0 },
          inbound_nodes: node(attSource, attSource),
        };
  return {
    class_name: 'Functional',
    config: {
      name: 'm',
      input_layers: withHx
        ? [
            ['x', 0, 0],
            ['hx', 0, 0],
          ]
        : [['x', 0, 0]],
      output_layers: [['sum', 0, 0]],
      layers: [
        inputLayer('x', [T, I]),
        ...(withHx ? [inputLayer('hx', [T, U])] : []),
        {
          class_name: 'LSTM',
          name: 'lstm',
          config: { name: 'lstm', units: U, return_sequences: true },
          inbound_nodes: node('x'),
        },
        attCfg,
        { class_name: 'GlobalAveragePooling1D', name: 'gap', config: { name: 'gap' }, inbound_nodes: node('att') },
        {
          class_name: 'Dense',
          name: 'out1',
          config: { name: 'out1', units: 2, activation: 'tanh' },
          inbound_nodes: node('gap'),
        },
        { class_name: 'Flatten', name: 'flat', config: { name: 'flat' }, inbound_nodes: node(otherSource) },
        { class_name: 'Dense', name: 'd2', config: { name: 'd2', units: 2 }, inbound_nodes: node('flat') },
        { class_name: 'Add', name: 'sum', config: { name: 'sum' }, inbound_nodes: node('out1', 'd2') },
      ],
    },
  };
}

const build = (cfg: unknown): ModelSpec =>
  buildModel(cfg, { kerasVersion: '3.10.0', format: 'config', source: 'test' });
const losses = [{ name: 'mse', fromLogits: false, labelSmoothing: 0 }];

function withWeights(m: ModelSpec, from: ModelSpec | null, seed: number): ModelSpec {
  const r = rng(seed);
  for (const p of m.params.flat())
    m.weights.set(
      p.key,
      from?.weights.get(p.key) ?? {
        shape: p.shape,
        data: randTensor(p.shape, () => r(-0.8, 0.8)).data as Float64Array,
      },
    );
  return m;
}

/** FD of the loss of `m` in its second input, per step norms averaged over samples. */
function fdStepNorms(m: ModelSpec, x: Tensor, hx: Tensor, y: Tensor): number[] {
  const loss = (): number =>
    lossAndGrads(m, [x, hx], [y], { losses, flavor: 'keras3', dtype: 'float64', kernels: jsKernels }).loss;
  const g = new Float64Array(hx.data.length);
  for (let i = 0; i < g.length; i++) {
    const v = hx.data[i]!;
    hx.data[i] = v + 1e-6;
    const lp = loss();
    hx.data[i] = v - 1e-6;
    const lm = loss();
    hx.data[i] = v;
    g[i] = (lp - lm) / 2e-6;
  }
  const out = new Array<number>(T).fill(0);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      let s = 0;
      for (let j = 0; j < U; j++) s += g[(b * T + t) * U + j]! ** 2;
      out[t]! += Math.sqrt(s) / B;
    }
  return out;
}

describe('attentionPaths against finite differences of the branch alone', () => {
  for (const score of ['dot', 'concat', 'mha']) {
    it(`LSTM → ${score === 'mha' ? 'MultiHeadAttention' : `Attention(${score})`} and LSTM → Flatten → Dense`, () => {
      const a = withWeights(build(config(score, 'lstm', 'lstm', false)), null, 7);
      const r = rng(3);
      const x = randTensor([B, T, I], r);
      const y = randTensor([B, 2], r);
      const ctx = { dtype: 'float64' as const, kernels: jsKernels, taps: null, sink: { record() {} } };
      const fwd = graphForward(ctx, a, materializeParams(a, 'float64'), [x]);
      const lstmOut = a.nodes.find((n) => a.layers[n.layer]!.name === 'lstm')!.outputs[0]!;
      const h = fwd.values[lstmOut]!;
      const hx = (): Tensor => ({ shape: [...h.shape], data: Float64Array.from(h.data) });
      const [p] = attentionPaths(a, [x], [y], { losses, flavor: 'keras3', dtype: 'float64' });
      expect(p!.layer).toBe('lstm');
      expect(p!.attentionConsumers).toEqual(['att']);
      const viaAtt = fdStepNorms(withWeights(build(config(score, 'hx', 'lstm', true)), a, 0), x, hx(), y);
      const viaOther = fdStepNorms(withWeights(build(config(score, 'lstm', 'hx', true)), a, 0), x, hx(), y);
      for (let t = 0; t < T; t++) {
        expect(Math.abs(p!.viaAttention[t]! - viaAtt[t]!)).toBeLessThan(1e-7 * Math.max(1, viaAtt[t]!));
        expect(Math.abs(p!.viaOther[t]! - viaOther[t]!)).toBeLessThan(1e-7 * Math.max(1, viaOther[t]!));
      }
      expect(viaAtt.some((v) => v > 1e-3)).toBe(true);
      // The last step has no later step to receive gradient from through the cell.
      expect(p!.viaRecurrence[T - 1]).toBeLessThan(1e-12);
      expect(p!.viaRecurrence[0]).toBeGreaterThan(1e-6);
    });
  }
});
