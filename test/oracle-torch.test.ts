// Oracle: PyTorch autograd, float64 (goldens written by scripts/torch_goldens.py; see its header).
//
// Each golden is a small Keras 3 Sequential model (LSTM, GRU reset_after=True, SimpleRNN tanh/relu,
// stacked LSTM, Bidirectional LSTM concat / GRU sum, each with a Dense head) whose numbers torch
// computed with its own cells (nn.LSTMCell/GRUCell/RNNCell, unrolled, retain_grad on every h_t and
// c_t). rnnscope builds the model from the golden's Keras config (buildModel), binds the Keras-layout
// weights and must reproduce the loss, the outputs, every parameter gradient, ∂L/∂x and the
// per-step ∂L/∂h_t taps of every layer and direction:
//   float64 run: norm-wise relative error < 1e-9 (the goldens are exact float64);
//   float32 run: < 1e-4 (weights and inputs rounded to float32, then float32 arithmetic).
import { afterAll, describe, expect, it } from 'vitest';
import { buildModel } from '../src/model/build.js';
import { jsKernels, type Kernels } from '../src/engine/kernels.js';
import { createWasmKernels } from '../src/engine/kernels-wasm.js';
import { lossAndGrads } from '../src/engine/run.js';
import { lossFlavor, parseLoss } from '../src/engine/loss-config.js';
import type { ModelSpec } from '../src/model/types.js';
import { CELLS } from '../src/engine/cells/index.js';
import type { DType } from '../src/engine/tensor.js';
import {
  bindWeights,
  ErrorLog,
  loadTorchGolden,
  relErr,
  tensorOf,
  torchGoldenNames,
  type TorchGolden,
} from './helpers/oracle.js';

const log = new ErrorLog();
const TOL: Record<DType, number> = { float64: 1e-9, float32: 1e-4 };

function build(g: TorchGolden): ModelSpec {
  const model = buildModel(structuredClone(g.config), {
    kerasVersion: g.kerasVersion,
    format: 'config',
    source: `torch golden ${g.name}`,
  });
  bindWeights(model, g.weights);
  return model;
}

// Every kernel variant runs the float32 checks (float64 always uses the JavaScript reference).
const KERNELS: [string, Kernels][] = [
  ['js', jsKernels],
  ['wasm', createWasmKernels()],
];

function run(g: TorchGolden, dtype: DType, kern: Kernels = jsKernels) {
  const model = build(g);
  const r = lossAndGrads(model, [tensorOf(g.inputs)], [tensorOf(g.targets)], {
    losses: [g.lossConfig],
    flavor: lossFlavor(g.kerasVersion, 'config'),
    dtype,
    taps: { dh: true, dc: true },
    kernels: kern,
  });
  return { model, r };
}

/** Model type for the error summary: the recurrent layers of the golden. */
const kindOf = (g: TorchGolden): string =>
  g.name
    .split('_')
    .slice(0, g.name.startsWith('simplernn') ? 2 : 1)
    .join('_');

afterAll(() => {
  console.log(`PyTorch oracle, worst norm-wise relative error (rnnscope vs torch float64):\n${log.table()}`);
});

describe('PyTorch goldens: loss, outputs, every gradient, ∂L/∂x, ∂L/∂h_t', () => {
  for (const name of torchGoldenNames()) {
    const g = loadTorchGolden(name);

    it(`${name}: the golden is well-formed and not trivial`, () => {
      // The Keras-serialized loss in compile_config means the LossConfig the test passes.
      const compileLoss = (g.config['compile_config'] as { loss: unknown }).loss;
      expect(parseLoss(compileLoss)).toEqual(g.lossConfig);
      for (const [k, a] of Object.entries(g.grads)) {
        expect(
          a.data.some((v) => v !== 0),
          `∂L/∂${k} is all zero`,
        ).toBe(true);
        expect(a.shape).toEqual(g.weights[k]!.shape);
      }
      for (const [k, t] of Object.entries(g.taps))
        expect(
          t.dh.data.some((v) => v !== 0),
          `dh ${k}`,
        ).toBe(true);
      expect(Object.keys(g.taps).length).toBeGreaterThan(0);
    });

    for (const [dtype, kname, kern] of [
      ['float64', 'js', jsKernels],
      ...KERNELS.map(([n, kk]) => ['float32', n, kk]),
    ] as [DType, string, Kernels][]) {
      it(`${name} ${dtype} (${kname} kernels): ${g.description}`, () => {
        const { model, r } = run(g, dtype, kern);
        const tol = TOL[dtype];
        const k = `torch/${kindOf(g)}/${dtype}`;
        expect(log.note(`${k}/loss`, relErr([r.loss], [g.loss]))).toBeLessThan(tol);
        expect(r.outputs[0]!.shape).toEqual(g.outputs.shape);
        expect(log.note(`${k}/outputs`, relErr(r.outputs[0]!.data, g.outputs.data))).toBeLessThan(tol);
        // Every parameter has a golden gradient, in the model's own order and Keras layout.
        const keys = model.params.flat().map((p) => p.key);
        expect([...keys].sort()).toEqual(Object.keys(g.grads).sort());
        model.params.forEach((ps, li) =>
          ps.forEach((p, pi) => {
            const e = log.note(`${k}/grads`, relErr(r.grads[li]![pi]!.data, g.grads[p.key]!.data));
            expect(e, `∂L/∂${p.key}`).toBeLessThan(tol);
          }),
        );
        expect(log.note(`${k}/dInputs`, relErr(r.dInputs[0]!.data, g.dInputs.data))).toBeLessThan(tol);
        for (const [key, t] of Object.entries(g.taps)) {
          const tap = r.taps.get(t.layer, t.direction);
          expect(tap, `taps of ${key}`).toBeDefined();
          expect([tap!.batch, tap!.steps, tap!.units]).toEqual(t.dh.shape);
          expect(log.note(`${k}/dh`, relErr(tap!.data.dh!, t.dh.data)), `dh ${key}`).toBeLessThan(tol);
          if (t.dc) expect(log.note(`${k}/dc`, relErr(tap!.data.dc!, t.dc.data)), `dc ${key}`).toBeLessThan(tol);
        }
      });
    }
  }
});

// The LSTM dc tap is the total ∂L/∂c_t (c_t also feeds h_t = o_t ⊙ tanh(c_t)), torch's c_t.grad.
// Minimal case: LSTM(1) → Dense(1), T = 1, where dc_0 = dh_0 · o · (1 − tanh² c_0) exactly.
function dcReproducer() {
  const cfg = {
    module: 'keras',
    class_name: 'Sequential',
    registered_name: null,
    config: {
      name: 'sequential',
      trainable: true,
      layers: [
        {
          module: 'keras.layers',
          class_name: 'InputLayer',
          registered_name: null,
          config: { batch_shape: [null, 1, 1], dtype: 'float32', sparse: false, name: 'input_layer' },
        },
        {
          module: 'keras.layers',
          class_name: 'LSTM',
          registered_name: null,
          config: {
            name: 'lstm',
            units: 1,
            activation: 'tanh',
            recurrent_activation: 'sigmoid',
            use_bias: true,
            return_sequences: false,
            return_state: false,
            go_backwards: false,
            stateful: false,
            unroll: false,
            zero_output_for_mask: false,
            dropout: 0,
            recurrent_dropout: 0,
          },
        },
        {
          module: 'keras.layers',
          class_name: 'Dense',
          registered_name: null,
          config: { name: 'dense', units: 1, activation: 'linear', use_bias: true },
        },
      ],
    },
  };
  const model = buildModel(cfg, { kerasVersion: '3.10.0', format: 'config', source: 'dc reproducer' });
  // kernel (1, 4) in gate order i, f, c, o; h_{-1} = c_{-1} = 0 so recurrent_kernel does not matter.
  const K = [0.5, -0.3, 0.8, 0.4],
    b = [0.1, 0.2, -0.1, 0.3],
    W = 1.5,
    bd = 0.2,
    x = 0.7,
    target = -0.4;
  bindWeights(model, {
    'lstm/kernel': { shape: [1, 4], data: K },
    'lstm/recurrent_kernel': { shape: [1, 4], data: [0.1, 0.1, 0.1, 0.1] },
    'lstm/bias': { shape: [4], data: b },
    'dense/kernel': { shape: [1, 1], data: [W] },
    'dense/bias': { shape: [1], data: [bd] },
  });
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const z = K.map((k, j) => x * k + b[j]!);
  const i = sig(z[0]!),
    g = Math.tanh(z[2]!),
    o = sig(z[3]!);
  const c = i * g,
    h = o * Math.tanh(c),
    y = h * W + bd;
  const dh = 2 * (y - target) * W;
  const dcTotal = dh * o * (1 - Math.tanh(c) ** 2);
  const r = lossAndGrads(
    model,
    [tensorOf({ shape: [1, 1, 1], data: [x] })],
    [tensorOf({ shape: [1, 1], data: [target] })],
    {
      losses: [{ name: 'mse', fromLogits: false, labelSmoothing: 0 }],
      flavor: 'keras3',
      dtype: 'float64',
      taps: { dh: true, dc: true },
    },
  );
  const tap = r.taps.get('lstm', null)!;
  return { dh, dcTotal, tapDh: tap.data.dh![0]!, tapDc: tap.data.dc![0]! };
}

describe('LSTM dc tap = total ∂L/∂c_t', () => {
  it('minimal: LSTM(1) → Dense(1), T=1, mse: dc_0 = dh_0 · o · (1 − tanh² c_0)', () => {
    const r = dcReproducer();
    expect(r.tapDh).toBeCloseTo(r.dh, 12);
    expect(Math.abs(r.dcTotal)).toBeGreaterThan(0.01);
    expect(r.tapDc).toBeCloseTo(r.dcTotal, 12);
  });
});

// A registered cell gets this oracle by having a golden: every cell of the registry must appear in one.
describe('PyTorch goldens cover every registered cell', () => {
  it('each cell kind of src/engine/cells runs in at least one golden', () => {
    const covered = new Set<string>();
    for (const name of torchGoldenNames()) {
      for (const l of build(loadTorchGolden(name)).layers) {
        if (l.type === 'Recurrent') covered.add(l.rnn.kind);
        if (l.type === 'Bidirectional') {
          covered.add(l.forward.kind);
          covered.add(l.backward.kind);
        }
      }
    }
    expect(
      CELLS.map((c) => c.kind).filter((k) => !covered.has(k)),
      'cells without a PyTorch golden (add one to scripts/torch_goldens.py)',
    ).toEqual([]);
  });
});
