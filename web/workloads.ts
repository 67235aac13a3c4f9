// The engine workloads the browser build is checked and timed on, rebuilt identically in any
// runtime from a Keras config and seeded weights and data:
//   small   Input(9, 3) → LSTM(7, return_sequences) → LSTM(5) → Dense(2), batch 4, mse
//           (the Node-vs-Chromium equality check: every gradient array, bit for bit)
//   W       Input(100, 64) → LSTM(128, return_sequences) → LSTM(128) → Dense(1), batch 32, mse
//           (issue 6's benchmark workload W; bench/workloads.ts defines the same model)
// Pure: no DOM, no node:*; web/bench.ts runs it in the page and the tests run it in Node.

import { buildModel } from '../src/model/build.js';
import type { ModelSpec } from '../src/model/types.js';
import { initParam } from '../src/engine/init.js';
import { makeRng } from '../src/engine/rng.js';
import { lossAndGrads } from '../src/engine/run.js';
import type { Kernels } from '../src/engine/kernels.js';
import type { Tensor } from '../src/engine/tensor.js';
import { materializeParams, type Params } from '../src/engine/graph.js';
import { cellOf } from '../src/engine/cells/index.js';

export interface LstmStack {
  id: string;
  steps: number;
  inputs: number;
  /** Units of each LSTM layer, bottom first. */
  units: number[];
  outputs: number;
  batch: number;
}

export const SMALL: LstmStack = { id: 'small', steps: 9, inputs: 3, units: [7, 5], outputs: 2, batch: 4 };
export const W: LstmStack = { id: 'W', steps: 100, inputs: 64, units: [128, 128], outputs: 1, batch: 32 };

export function workloadById(id: string): LstmStack {
  const w = [SMALL, W].find((x) => x.id === id);
  if (!w) throw new Error(`Unknown workload '${id}'; expected 'small' or 'W'.`);
  return w;
}

/** Keras 3 Sequential config of the stack. */
export function stackConfig(w: LstmStack): unknown {
  const lstm = (u: number, i: number) => ({
    module: 'keras.layers',
    class_name: 'LSTM',
    registered_name: null,
    config: {
      name: i === 0 ? 'lstm' : `lstm_${i}`,
      units: u,
      activation: 'tanh',
      recurrent_activation: 'sigmoid',
      use_bias: true,
      unit_forget_bias: true,
      return_sequences: i < w.units.length - 1,
    },
  });
  return {
    module: 'keras',
    class_name: 'Sequential',
    registered_name: null,
    config: {
      name: `lstm_stack_${w.id.toLowerCase()}`,
      layers: [
        {
          module: 'keras.layers',
          class_name: 'InputLayer',
          registered_name: null,
          config: { batch_shape: [null, w.steps, w.inputs], dtype: 'float32', name: 'input_layer' },
        },
        ...w.units.map(lstm),
        {
          module: 'keras.layers',
          class_name: 'Dense',
          registered_name: null,
          config: { name: 'dense', units: w.outputs, activation: 'linear', use_bias: true },
        },
      ],
    },
  };
}

/** The stack with Keras-style initial weights (glorot kernels, orthogonal recurrent kernels, unit forget bias) from
 * `seed`. */
export function buildStack(w: LstmStack, seed = 1): ModelSpec {
  const model = buildModel(stackConfig(w), {
    kerasVersion: '3.10.0',
    format: 'config',
    source: `workload-${w.id}`,
    trainingConfig: { loss: 'mse', optimizer: { class_name: 'Adam', config: { learning_rate: 0.001 } } },
  });
  const rng = makeRng(seed);
  model.params.forEach((ps, li) =>
    ps.forEach((p) => {
      const l = model.layers[li]!;
      const rec = l.type === 'Recurrent' ? l.rnn : null;
      // Keras's unit_forget_bias: cells with a forget gate (engine/cells).
      const forget = rec !== null && cellOf(rec.kind).gates.some((g) => g.name === 'f');
      const data = initParam(p.name, p.shape, { rng, unitForgetBias: forget && p.name === 'bias', units: rec?.units });
      model.weights.set(p.key, { shape: [...p.shape], data });
    }),
  );
  return model;
}

/** Seeded float32 data: x ~ N(0, 1) of shape (batch, steps, inputs), y ~ N(0, 1) of shape (batch, outputs). */
export function stackData(w: LstmStack, seed = 2): { x: Tensor; y: Tensor } {
  const rng = makeRng(seed);
  const x = new Float32Array(w.batch * w.steps * w.inputs),
    y = new Float32Array(w.batch * w.outputs);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  for (let i = 0; i < y.length; i++) y[i] = rng.normal();
  return { x: { shape: [w.batch, w.steps, w.inputs], data: x }, y: { shape: [w.batch, w.outputs], data: y } };
}

const MSE = [{ name: 'mse', fromLogits: false, labelSmoothing: 0 }];

export interface PreparedStack {
  model: ModelSpec;
  params: Params;
  data: { x: Tensor; y: Tensor };
}

export function prepare(w: LstmStack): PreparedStack {
  const model = buildStack(w);
  return { model, params: materializeParams(model, 'float32'), data: stackData(w) };
}

/** mse loss and the gradient of every parameter (float32 run), as plain arrays keyed by parameter. */
export function stackGradient(p: PreparedStack, kernels: Kernels): { loss: number; grads: Record<string, number[]> } {
  const r = lossAndGrads(p.model, [p.data.x], [p.data.y], {
    losses: MSE,
    flavor: 'keras3',
    dtype: 'float32',
    params: p.params,
    kernels,
  });
  const grads: Record<string, number[]> = {};
  p.model.params.forEach((ps, li) =>
    ps.forEach((q, pi) => {
      grads[q.key] = Array.from(r.grads[li]![pi]!.data);
    }),
  );
  return { loss: r.loss, grads };
}

/** Seconds of one gradient, `reps` times (the caller does the warm-up). Also returns ‖g‖ of the last run, to check the
 * runs computed the same thing. */
export function timeGradient(
  p: PreparedStack,
  kernels: Kernels,
  reps: number,
): { seconds: number[]; gradNorm: number; loss: number } {
  const seconds: number[] = [];
  let gradNorm = 0,
    loss = 0;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const r = lossAndGrads(p.model, [p.data.x], [p.data.y], {
      losses: MSE,
      flavor: 'keras3',
      dtype: 'float32',
      params: p.params,
      kernels,
    });
    seconds.push((performance.now() - t0) / 1e3);
    let sq = 0;
    for (const gs of r.grads) for (const g of gs) for (let j = 0; j < g.data.length; j++) sq += g.data[j]! * g.data[j]!;
    gradNorm = Math.sqrt(sq);
    loss = r.loss;
  }
  return { seconds, gradNorm, loss };
}
