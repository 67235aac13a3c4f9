// The built-in demo: no files needed.
//
// The adding problem (Hochreiter & Schmidhuber 1997): each input step carries a value in [0, 1)
// and a marker; exactly two steps are marked (one in the first tenth, one in the second half),
// and the target is the sum of the two marked values. The answer depends on a step ~90 steps
// before the end, so a network has to carry information across the whole sequence.
//
// A SimpleRNN, an LSTM and a GRU of the same width are built from Keras configs (the same path a
// user's model takes), initialised as Keras does (glorot_uniform kernels, orthogonal recurrent
// kernels, unit_forget_bias), briefly trained with Adam by rnnscope's own engine, and analysed
// before and after training on a fixed evaluation set. Everything is seeded: the same every run.

import { buildModel } from '../model/build.js';
import type { ModelSpec } from '../model/types.js';
import { materializeParams } from '../engine/graph.js';
import { initParam } from '../engine/init.js';
import { makeOptimizer } from '../engine/optim.js';
import { makeRng, type Rng } from '../engine/rng.js';
import { lossAndGrads } from '../engine/run.js';
import type { Tensor } from '../engine/tensor.js';
import { analyzeModel } from './analyze.js';
import { ANALYSIS_SET_SCHEMA, type Analysis, type AnalysisSet } from './schema.js';
import { cellOf, cellOfLayerClass, type CellDef } from '../engine/cells/index.js';

export interface DemoOptions {
  steps?: number;
  units?: number;
  iterations?: number;
  batchSize?: number;
  seed?: number;
  kinds?: ('SimpleRNN' | 'LSTM' | 'GRU')[];
  onProgress?: (p: { phase: string; done: number; total: number }) => void;
}

/** One batch of the adding problem: x (B, T, 2), y (B, 1). */
export function addingProblem(rng: Rng, B: number, T: number): { x: Tensor; y: Tensor } {
  const x = new Float32Array(B * T * 2),
    y = new Float32Array(B);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) x[(b * T + t) * 2] = rng.uniform();
    const i = Math.floor(rng.uniform() * Math.max(1, Math.floor(T / 10)));
    const j = Math.floor(T / 2) + Math.floor(rng.uniform() * (T - Math.floor(T / 2)));
    x[(b * T + i) * 2 + 1] = 1;
    x[(b * T + j) * 2 + 1] = 1;
    y[b] = x[(b * T + i) * 2]! + x[(b * T + j) * 2]!;
  }
  return { x: { shape: [B, T, 2], data: x }, y: { shape: [B, 1], data: y } };
}

/** Keras unit_forget_bias applies to cells with a forget gate (LSTM and its variants). */
const hasForgetGate = (cell: CellDef | undefined): boolean => cell?.gates.some((g) => g.name === 'f') ?? false;

/** A Keras 3 Sequential config: Input(T, 2) → <kind>(units) → Dense(1), compiled with mse and Adam. */
export function demoConfig(kind: string, T: number, units: number): unknown {
  const rnn: Record<string, unknown> = {
    name: kind.toLowerCase(),
    units,
    activation: 'tanh',
    use_bias: true,
    return_sequences: false,
  };
  // The options the layer's cell (engine/cells) has: gate activation, its first form's reset_after, a forget gate's
  // bias.
  const cell = cellOfLayerClass(kind)?.cell;
  if (cell?.gates.some((g) => g.activation === 'recurrent_activation')) rnn['recurrent_activation'] = 'sigmoid';
  const resetAfter = cell?.forms?.[0]?.options.resetAfter;
  if (resetAfter !== undefined) rnn['reset_after'] = resetAfter;
  if (hasForgetGate(cell)) rnn['unit_forget_bias'] = true;
  return {
    module: 'keras',
    class_name: 'Sequential',
    registered_name: null,
    config: {
      name: `adding_${kind.toLowerCase()}`,
      layers: [
        {
          module: 'keras.layers',
          class_name: 'InputLayer',
          config: { batch_shape: [null, T, 2], dtype: 'float32', name: 'input_layer' },
          registered_name: null,
        },
        { module: 'keras.layers', class_name: kind, config: rnn, registered_name: null },
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

export function buildDemoModel(kind: 'SimpleRNN' | 'LSTM' | 'GRU', T: number, units: number, rng: Rng): ModelSpec {
  const model = buildModel(demoConfig(kind, T, units), {
    kerasVersion: '3.10.0',
    format: 'demo',
    source: `demo-${kind.toLowerCase()}`,
    trainingConfig: { loss: 'mse', optimizer: { class_name: 'Adam', config: { learning_rate: 0.01 } } },
  });
  model.params.forEach((ps, li) =>
    ps.forEach((p) => {
      const l = model.layers[li]!;
      const data = initParam(p.name, p.shape, {
        rng,
        unitForgetBias: l.type === 'Recurrent' && hasForgetGate(cellOf(l.rnn.kind)) && p.name === 'bias',
        units: l.type === 'Recurrent' ? l.rnn.units : undefined,
      });
      model.weights.set(p.key, { shape: [...p.shape], data });
    }),
  );
  return model;
}

/** Trains `model` in place on fresh adding-problem batches; returns the loss per iteration. */
export function train(
  model: ModelSpec,
  rng: Rng,
  iterations: number,
  B: number,
  T: number,
  onStep?: (i: number) => void,
): number[] {
  const params = materializeParams(model, 'float32');
  const opt = makeOptimizer({ className: 'Adam', config: { learning_rate: 0.01, clipnorm: 1.0 } });
  const flat = params.flat().map((p) => p.data);
  const losses: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const { x, y } = addingProblem(rng, B, T);
    const r = lossAndGrads(model, [x], [y], {
      losses: [{ name: 'mse', fromLogits: false, labelSmoothing: 0 }],
      flavor: 'keras3',
      dtype: 'float32',
      params,
    });
    opt.step(
      flat,
      r.grads.flat().map((g) => g.data),
    );
    losses.push(r.loss);
    onStep?.(i + 1);
  }
  model.params.forEach((ps, li) =>
    ps.forEach((p, pi) =>
      model.weights.set(p.key, { shape: [...p.shape], data: Float64Array.from(params[li]![pi]!.data) }),
    ),
  );
  return losses;
}

export async function runDemo(opts: DemoOptions = {}): Promise<AnalysisSet> {
  const T = opts.steps ?? 100,
    U = opts.units ?? 32,
    iters = opts.iterations ?? 300,
    B = opts.batchSize ?? 32,
    seed = opts.seed ?? 7;
  const kinds = opts.kinds ?? ['SimpleRNN', 'LSTM', 'GRU'];
  const evalSet = addingProblem(makeRng(seed + 1000), 64, T);
  const runs: Analysis[] = [];
  const total = kinds.length * (iters + 2);
  let done = 0;
  for (const kind of kinds) {
    const rng = makeRng(seed);
    const model = buildDemoModel(kind, T, U, rng);
    // The per-sample drill-down only after training (the untrained runs are for comparison; it keeps the page light).
    const analyse = (label: string, samples: boolean): Analysis => {
      const a = analyzeModel(
        model,
        { inputs: [evalSet.x], targets: [evalSet.y], dataSource: 'adding problem (built-in)' },
        { batchSize: 64, label, group: kind, index: runs.length, seed, samples },
      ).analysis;
      opts.onProgress?.({ phase: `${kind}: analysing`, done: ++done, total });
      return a;
    };
    runs.push(analyse(`${kind} · initial`, false));
    const losses = train(model, rng, iters, B, T, () =>
      opts.onProgress?.({ phase: `${kind}: training`, done: ++done, total }),
    );
    const after = analyse(`${kind} · trained ${iters} steps`, true);
    after.objective.warnings.push({
      code: 'demo-training',
      message: `Trained ${iters} Adam steps (lr 0.01, clipnorm 1, batch ${B}); training loss ${losses[0]!.toFixed(3)} → ${losses[losses.length - 1]!.toFixed(3)}.`,
      count: 1,
    });
    runs.push(after);
  }
  return {
    schema: ANALYSIS_SET_SCHEMA,
    title: `Built-in demo: the adding problem over ${T} steps — SimpleRNN vs LSTM vs GRU (${U} units), before and after ${iters} training steps`,
    runs,
  };
}
