// The workloads of issue 6 and everything the rnnscope and TF.js children need
// to rebuild them identically: the Keras config, seeded weights and data, and
// the FLOP model used for GFLOP/s.
//
// FLOP model (multiply–adds of the matrix products only, 2 flops each; the
// elementwise gate math, the Dense head and checkpoint recomputation are not
// counted):   forward  = Σ_layers 2·T·B·(I_l + U)·G·U     (G = 4 LSTM, 3 GRU, 1 SimpleRNN)
//             backward = 2 × forward (∂/∂inputs and ∂/∂weights)
// so one gradient = 3 × forward.

import { buildModel } from '../src/model/build.js';
import type { ModelSpec } from '../src/model/types.js';
import { initParam } from '../src/engine/init.js';
import { makeRng } from '../src/engine/rng.js';
import type { Tensor } from '../src/engine/tensor.js';

/** Every per-step tap the analysis records (src/engine/taps.ts). */
export { ALL_TAPS } from '../src/engine/taps.js';

export type CellKind = 'LSTM' | 'GRU' | 'SimpleRNN';

export interface Workload {
  id: string;
  kind: CellKind;
  inputs: number;
  units: number;
  steps: number;
  batch: number;
  layers: number;
  /** One line for the table's notes. */
  note?: string;
}

export const WORKLOADS: Workload[] = [
  { id: 'W', kind: 'LSTM', inputs: 64, units: 128, steps: 100, batch: 32, layers: 2 },
  { id: 'W-large', kind: 'LSTM', inputs: 128, units: 256, steps: 200, batch: 32, layers: 2 },
  {
    id: 'W-gru',
    kind: 'GRU',
    inputs: 64,
    units: 128,
    steps: 100,
    batch: 32,
    layers: 2,
    note: 'GRU reset_after=true (TF.js peer: reset_after=false, which TF.js lacks)',
  },
  { id: 'W-rnn', kind: 'SimpleRNN', inputs: 64, units: 128, steps: 100, batch: 32, layers: 2 },
  // One layer: a stacked second layer would need its (B, T, U) input sequence and its gradient
  // (2 × 328 MB at 10,000 steps) held whole, which alone nears the 1 GiB target.
  { id: 'W-long', kind: 'LSTM', inputs: 32, units: 256, steps: 10_000, batch: 32, layers: 1, note: '1 LSTM layer' },
  // The short-sequence reference for W-long's time per step (same layer, no checkpointing).
  {
    id: 'W-long-ref',
    kind: 'LSTM',
    inputs: 32,
    units: 256,
    steps: 200,
    batch: 32,
    layers: 1,
    note: 'W-long at 200 steps: time-per-step reference',
  },
];

export function workload(id: string): Workload {
  const w = WORKLOADS.find((x) => x.id === id);
  if (!w) throw new Error(`Unknown workload '${id}'; expected one of ${WORKLOADS.map((x) => x.id).join(', ')}.`);
  return w;
}

export const gatesOf = (kind: CellKind): number => (kind === 'LSTM' ? 4 : kind === 'GRU' ? 3 : 1);

/** Flops of one forward pass (matrix products only, see the header). */
export function forwardFlops(w: Workload): number {
  const G = gatesOf(w.kind);
  let f = 0;
  for (let l = 0; l < w.layers; l++)
    f += 2 * w.steps * w.batch * ((l === 0 ? w.inputs : w.units) + w.units) * G * w.units;
  return f;
}

/** Flops of one forward + backward pass (3 × forward). */
export const gradFlops = (w: Workload): number => 3 * forwardFlops(w);

/** A Keras 3 Sequential config: Input(T, I) → `layers` × cell(U) → Dense(1), mse. */
export function kerasConfig(w: Workload): unknown {
  const rnn = (l: number): unknown => {
    const c: Record<string, unknown> = {
      name: l === 0 ? w.kind.toLowerCase() : `${w.kind.toLowerCase()}_${l}`,
      units: w.units,
      activation: 'tanh',
      use_bias: true,
      return_sequences: l < w.layers - 1,
    };
    if (w.kind !== 'SimpleRNN') c['recurrent_activation'] = 'sigmoid';
    if (w.kind === 'GRU') c['reset_after'] = true;
    if (w.kind === 'LSTM') c['unit_forget_bias'] = true;
    return { module: 'keras.layers', class_name: w.kind, config: c, registered_name: null };
  };
  return {
    module: 'keras',
    class_name: 'Sequential',
    registered_name: null,
    config: {
      name: `bench_${w.id.replace(/-/g, '_').toLowerCase()}`,
      layers: [
        {
          module: 'keras.layers',
          class_name: 'InputLayer',
          config: { batch_shape: [null, w.steps, w.inputs], dtype: 'float32', name: 'input_layer' },
          registered_name: null,
        },
        ...Array.from({ length: w.layers }, (_, l) => rnn(l)),
        {
          module: 'keras.layers',
          class_name: 'Dense',
          config: { name: 'dense', units: 1, activation: 'linear', use_bias: true },
          registered_name: null,
        },
      ],
    },
  };
}

/** The workload's model with Keras-style seeded initial weights. */
export function buildBenchModel(w: Workload, seed = 1): ModelSpec {
  const model = buildModel(kerasConfig(w), {
    kerasVersion: '3.10.0',
    format: 'bench',
    source: `bench-${w.id}`,
    trainingConfig: { loss: 'mse', optimizer: { class_name: 'Adam', config: { learning_rate: 0.001 } } },
  });
  const rng = makeRng(seed);
  model.params.forEach((ps, li) =>
    ps.forEach((p) => {
      const l = model.layers[li]!;
      const rec = l.type === 'Recurrent' ? l.rnn : null;
      const data = initParam(p.name, p.shape, {
        rng,
        unitForgetBias: rec?.kind === 'LSTM' && p.name === 'bias',
        units: rec?.units,
      });
      model.weights.set(p.key, { shape: [...p.shape], data });
    }),
  );
  return model;
}

/** Seeded data: x ~ N(0, 1) of shape (n, T, I), y ~ N(0, 1) of shape (n, 1). */
export function benchData(w: Workload, n: number, seed = 2): { x: Tensor; y: Tensor } {
  const rng = makeRng(seed);
  const x = new Float32Array(n * w.steps * w.inputs),
    y = new Float32Array(n);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  for (let i = 0; i < n; i++) y[i] = rng.normal();
  return { x: { shape: [n, w.steps, w.inputs], data: x }, y: { shape: [n, 1], data: y } };
}

// ConvLSTM (issue 16): the next-frame model's shape (the Keras conv_lstm example: stacked ConvLSTM2D
// 'same' layers over small frames, a Conv3D head). Not in WORKLOADS: the peers and tables of run.ts are
// for the dense cells; bench/conv-lstm.ts measures it. FLOP model as above, per layer and step the two
// convolutions as products: 2·B·positions·(k²·C_in + k²·F)·4F multiply–adds; the Conv3D head not counted.
export interface ConvLstmWorkload {
  id: string;
  frames: number;
  rows: number;
  cols: number;
  channels: number;
  filters: number;
  kernel: number;
  batch: number;
  layers: number;
}

export const CONV_LSTM_WORKLOAD: ConvLstmWorkload = {
  id: 'W-convlstm',
  frames: 10,
  rows: 40,
  cols: 40,
  channels: 1,
  filters: 16,
  kernel: 3,
  batch: 4,
  layers: 2,
};

export function convLstmForwardFlops(w: ConvLstmWorkload): number {
  const k2 = w.kernel * w.kernel,
    P = w.rows * w.cols;
  let f = 0;
  for (let l = 0; l < w.layers; l++)
    f += 2 * w.frames * w.batch * P * (k2 * (l === 0 ? w.channels : w.filters) + k2 * w.filters) * 4 * w.filters;
  return f;
}

/** Keras 3 Sequential: Input(T, rows, cols, C) → `layers` × ConvLSTM2D(F, k×k, same, seq) → Conv3D(C, 3×3×3), mse. */
export function convLstmConfig(w: ConvLstmWorkload): unknown {
  const layer = (class_name: string, config: Record<string, unknown>): unknown => ({
    module: 'keras.layers',
    class_name,
    config,
    registered_name: null,
  });
  return {
    module: 'keras',
    class_name: 'Sequential',
    registered_name: null,
    config: {
      name: 'bench_w_convlstm',
      layers: [
        layer('InputLayer', {
          batch_shape: [null, w.frames, w.rows, w.cols, w.channels],
          dtype: 'float32',
          name: 'input_layer',
        }),
        ...Array.from({ length: w.layers }, (_, l) =>
          layer('ConvLSTM2D', {
            name: l === 0 ? 'conv_lstm2d' : `conv_lstm2d_${l}`,
            filters: w.filters,
            kernel_size: [w.kernel, w.kernel],
            padding: 'same',
            activation: 'tanh',
            recurrent_activation: 'sigmoid',
            return_sequences: true,
            unit_forget_bias: true,
          }),
        ),
        layer('Conv3D', {
          name: 'conv3d',
          filters: w.channels,
          kernel_size: [3, 3, 3],
          padding: 'same',
          activation: 'sigmoid',
        }),
      ],
    },
  };
}

/** The ConvLSTM workload's model with seeded Keras-style initial weights, and seeded frames in [0, 1). */
export function buildConvLstmBench(w: ConvLstmWorkload, seed = 1): { model: ModelSpec; x: Tensor; y: Tensor } {
  const model = buildModel(convLstmConfig(w), {
    kerasVersion: '3.10.0',
    format: 'bench',
    source: `bench-${w.id}`,
    trainingConfig: { loss: 'mse', optimizer: { class_name: 'Adam', config: { learning_rate: 0.001 } } },
  });
  const rng = makeRng(seed);
  model.params.forEach((ps) =>
    ps.forEach((p) => {
      const cell = p.key.startsWith('conv_lstm2d');
      const data = initParam(p.name, p.shape, { rng, unitForgetBias: cell && p.name === 'bias', units: w.filters });
      model.weights.set(p.key, { shape: [...p.shape], data });
    }),
  );
  const n = w.batch * w.frames * w.rows * w.cols * w.channels;
  const x = new Float32Array(n),
    y = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.uniform();
  for (let i = 0; i < n; i++) y[i] = rng.uniform();
  const shape = [w.batch, w.frames, w.rows, w.cols, w.channels];
  return { model, x: { shape, data: x }, y: { shape, data: y } };
}
