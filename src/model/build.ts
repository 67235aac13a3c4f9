// The model stage: a Keras model config (Keras 1, Keras 2, tf.keras, Keras 3,
// TF.js) → ModelSpec, the explicit DAG the engine runs.
//
//   io (file bytes → config JSON + weight arrays)
//     → buildModel (this file): writer profile (versions.ts) → parse layers
//       (layers-config.ts, recurrent-config.ts) → graph (graph.ts) with shapes
//       (shapes.ts) and parameter specs (params.ts) → meta (loss-config.ts)
//     → bindLayerWeights (bind.ts) per layer, checkAllBound
//     → engine
//
// No weights here: `weights` is empty until bind.ts fills it.

import type { CellInfo, ModelSpec, TensorId, Warning, WeightGroup, WriterFamily } from './types.js';
import { ModelError, RnnscopeError, fmtShape } from './errors.js';
import { writerFamily, writerProfile } from './versions.js';
import type { BuildContext } from './config-reader.js';
import { GraphBuilder, parseModel, sequentialInputHint, type ModelDef } from './graph.js';
import { parseLosses, parseOptimizer } from './loss-config.js';
import { isRecord } from './keras-format.js';
import { gateCount, rnnParamShapes } from './params.js';
import { cellOf, cellOfLayerClass } from '../engine/cells/index.js';
import type { ParsedLayer } from './layers-config.js';
import { msg } from './messages.js';
import { checkBlockers } from './blockers.js';
import { adoptCrfLoss } from './crf-config.js';

export type { WeightGroup } from './types.js';

export interface BuildOptions {
  /** Writer's Keras version ("1.2.2", "2.1.3", "2.13.1", "3.10.0", or "tfjs-layers 4.x" / tfjs converter's keras
   * version). Decides defaults and the hard_sigmoid slope (1/6 only for Keras 3 writers; 0.2 for Keras 1/2,
   * tf.keras and TF.js), and with `format` the model's writer family (docs/keras-versions.md). */
  kerasVersion: string;
  /** "keras-v3" | "keras-h5" | "keras-h5-weights" | "tfjs-layers" | "config" */
  format: string;
  backend?: string | null;
  /** training_config / compile_config as stored (object), for meta.loss/optimizer. */
  trainingConfig?: unknown;
  source: string; // file name for messages
}

/** model_config / config.json / modelTopology.model_config (the {class_name, config} object, or a Keras-1 Sequential
 * list) → ModelSpec without weights (weights: empty Map). */
export function buildModel(modelConfig: unknown, opts: BuildOptions): ModelSpec {
  try {
    return build(modelConfig, opts);
  } catch (e) {
    if (e instanceof ModelError && e.file === undefined)
      throw new ModelError(e.message, { file: opts.source, cause: e.cause });
    if (e instanceof RnnscopeError) throw e;
    // A config of the right overall form with a wrong type deep inside (a mutated or hand-edited file).
    throw new ModelError(msg.malformedConfig(e instanceof Error ? e.message : String(e)), {
      file: opts.source,
      cause: e,
    });
  }
}

function build(modelConfig: unknown, opts: BuildOptions): ModelSpec {
  const warnings: Warning[] = [];
  const ctx: BuildContext = { writer: writerProfile(opts.kerasVersion), warnings, format: opts.format };
  checkBlockers(modelConfig, ctx);
  const def = parseModel(modelConfig, '', true, ctx);
  const g = new GraphBuilder();

  let inputs: TensorId[];
  let inputNames: string[];
  let outputNames: string[];
  if (def.kind === 'sequential') {
    addAutoInput(def, ctx);
    g.register(def, true);
    const first = def.entries[0];
    if (first?.kind !== 'input' || !first.slot) throw new ModelError(msg.noInputShape(def.name));
    inputs = [g.inputNode(first.slot)];
    inputNames = [first.parsed.spec.name];
    const last = def.entries[def.entries.length - 1]!;
    outputNames = [last.kind === 'input' ? last.parsed.spec.name : last.name];
  } else {
    g.register(def, true);
    inputs = def.inputRefs.map((r) => {
      const e = def.entries.find((x) => x.name === r.layer);
      if (e?.kind !== 'input' || !e.slot) throw new ModelError(msg.unknownInbound(def.name, `input '${r.layer}'`));
      return g.inputNode(e.slot);
    });
    inputNames = def.inputRefs.map((r) => r.layer);
    outputNames = def.outputKeys ?? def.outputRefs.map((r) => r.layer);
  }
  const outputs = g.callModel(def, inputs);
  checkSampleSizes(g);
  const called = new Set(g.nodes.map((n) => n.layer));
  for (let i = 0; i < g.layers.length; i++) {
    if (!called.has(i)) throw new ModelError(msg.graphCycle([g.layers[i]!.name]));
  }

  const tc = opts.trainingConfig;
  const model: ModelSpec = {
    name: def.name,
    layers: g.layers,
    params: g.params,
    nodes: g.nodes,
    tensors: g.tensors,
    inputs,
    inputNames,
    outputs,
    outputNames,
    weights: new Map(),
    meta: {
      format: opts.format,
      kerasVersion: opts.kerasVersion,
      writer: writerFamily(opts.kerasVersion, opts.format),
      saved: { groups: g.groups, cells: g.cells },
      backend: opts.backend ?? null,
      loss: parseLosses(tc, outputNames, warnings),
      optimizer: parseOptimizer(tc),
      metrics: isRecord(tc) ? (tc['metrics'] ?? null) : null,
      source: opts.source,
    },
    warnings,
  };
  adoptCrfLoss(model);
  return model;
}

/**
 * Most values one sample of any tensor may hold: 2^27 (1 GiB as float64). Larger declared shapes
 * (a config declaring 10^15 steps) could never be allocated, so they are refused when the model is
 * built rather than when the analysis allocates them.
 */
export const MAX_SAMPLE_VALUES = 2 ** 27;

function checkSampleSizes(g: GraphBuilder): void {
  for (const node of g.nodes) {
    for (const t of node.outputs) {
      const shape = g.tensors[t]!.shape;
      const values = shape.slice(1).reduce<number>((a, d) => a * (d ?? 1), 1);
      if (values > MAX_SAMPLE_VALUES) {
        const layer = g.layers[node.layer]!;
        throw new ModelError(
          `Layer '${layer.name}' (${layer.className}) outputs shape ${fmtShape(shape)}, ${values} values per sample; expected at most ${MAX_SAMPLE_VALUES} (2^27, 1 GiB of float64) per sample; the config's input shape or layer sizes are damaged or too large for rnnscope.`,
        );
      }
    }
  }
}

/**
 * A Sequential without an InputLayer gets one from the first layer's batch_input_shape (or Keras 1
 * input_dim / input_length, or the model's build_input_shape), named as Keras names it: Keras 2
 * `<first layer>_input` (Keras 2.2.4 keras/engine/sequential.py `add`: `name=layer.name + '_input'`), Keras 1
 * `<class>_input_1` (Keras 1.2.2 keras/engine/topology.py `create_input_layer`; the corpus DL4J files store
 * their inputs as `lstm_input_1`).
 */
function addAutoInput(def: ModelDef, ctx: BuildContext): void {
  const first = def.entries[0];
  if (!first || first.kind === 'input') return;
  const hint = sequentialInputHint(def);
  if (!hint) throw new ModelError(msg.noInputShape(def.name));
  const firstName = first.kind === 'model' ? first.name : first.parsed.spec.name;
  const firstCls = first.kind === 'model' ? first.cls : first.parsed.spec.className;
  const name = ctx.writer.family === 'keras1' ? `${firstCls.toLowerCase()}_input_1` : `${firstName}_input`;
  const parsed: ParsedLayer = {
    spec: { name, className: 'InputLayer', type: 'InputLayer', shape: hint.shape, dtype: hint.dtype },
    trainable: false,
    inputHint: hint.shape,
    inputDtype: hint.dtype,
    cells: [],
  };
  def.entries.unshift({ kind: 'input', name, shape: hint.shape, dtype: hint.dtype, parsed, slot: null });
}

/** The Keras top-level layers (model.layers order) and the ModelSpec layer indices each became; a nested model spans
 * several. */
export function weightGroups(model: ModelSpec): WeightGroup[] {
  return (
    model.meta.saved?.groups ?? model.layers.map((l, i) => ({ name: l.name, className: l.className, layers: [i] }))
  );
}

// ---------------------------------------------------------------------------- saved weight layout

type Item = { name: string; shape: number[] };

/** A cuDNN layer class (CuDNNLSTM, CuDNNGRU) stores input and recurrent biases side by side (2·G·U,). */
const isCudnn = (cls: string): boolean => cellOfLayerClass(cls)?.layerClass.cudnn === true;

function rnnLayout(
  rnn: Parameters<typeof rnnParamShapes>[0],
  flavor: WriterFamily,
  cell: CellInfo | undefined,
  prefix: string,
): Item[] {
  const consumeLess = cell?.consumeLess ?? null;
  const cls = cell?.className ?? '';
  const U = rnn.units,
    I = rnn.inputDim,
    gu = gateCount(rnn) * U;
  if (flavor === 'keras1') {
    // Keras 1 per-gate arrays in the cell's saved gate order (LSTM i, c, f, o; docs/formats.md, 'Keras 1 weights').
    const gates = cellOf(rnn.kind).keras1Gates;
    if (!gates || consumeLess === 'gpu')
      return [
        { name: `${prefix}W`, shape: [I, gu] },
        { name: `${prefix}U`, shape: [U, gu] },
        { name: `${prefix}b`, shape: [gu] },
      ];
    return gates.flatMap((g) => [
      { name: `${prefix}W_${g}`, shape: [I, U] },
      { name: `${prefix}U_${g}`, shape: [U, U] },
      { name: `${prefix}b_${g}`, shape: [U] },
    ]);
  }
  return rnnParamShapes(rnn).map((p) => {
    // CuDNNLSTM stores input and recurrent biases (8U,); CuDNNGRU (6U,).
    if (p.name === 'bias' && isCudnn(cls)) return { name: prefix + p.name, shape: [2 * gu] };
    return { name: prefix + p.name, shape: p.shape };
  });
}

/** Keras save order of the weights of layer i (what an HDF5 `weight_names` list / a .keras `vars/N` list holds), for
 * loaders: e.g. LSTM → [kernel, recurrent_kernel, bias]; Bidirectional → forward three then backward three; Keras 1
 * LSTM → 12 per-gate arrays. `flavor`: the writer of the weights (the model's own unless a separate file's). */
export function savedWeightLayout(
  model: ModelSpec,
  layerIndex: number,
  flavor: WriterFamily = model.meta.writer,
): { name: string; shape: number[] }[] {
  const spec = model.layers[layerIndex];
  if (!spec) throw new ModelError(msg.noSuchLayer(layerIndex, model.layers.length));
  const cells = cellsOf(model, layerIndex);
  if (spec.type === 'Recurrent') return rnnLayout(spec.rnn, flavor, cells[0], '');
  if (spec.type === 'Bidirectional') {
    return [
      ...rnnLayout(spec.forward, flavor, cells[0], 'forward/'),
      ...rnnLayout(spec.backward, flavor, cells[1], 'backward/'),
    ];
  }
  const params = model.params[layerIndex] ?? [];
  if (flavor !== 'keras1') return params.map((p) => ({ name: p.name, shape: [...p.shape] }));
  // Keras 1 names: W / b (Dense, TimeDistributedDense, Convolution1D), W (Embedding), running_std (= variance) in
  // BatchNormalization.
  return params.map((p) => {
    if (spec.type === 'Conv1D' && p.name === 'kernel')
      return { name: 'W', shape: [p.shape[0]!, 1, p.shape[1]!, p.shape[2]!] };
    const name =
      { kernel: 'W', bias: 'b', embeddings: 'W', moving_mean: 'running_mean', moving_variance: 'running_std' }[
        p.name
      ] ?? p.name;
    return { name, shape: [...p.shape] };
  });
}

function cellsOf(model: ModelSpec, i: number): CellInfo[] {
  const spec = model.layers[i]!;
  // Without build-time facts (a ModelSpec made elsewhere), the layer's own class is the best guess.
  return (
    model.meta.saved?.cells[i] ?? [
      { className: spec.className, consumeLess: null },
      { className: spec.className, consumeLess: null },
    ]
  );
}

/** The Keras parameter count of layer i: what model.summary() prints (CuDNNLSTM counts its 8U bias). */
export function layerParamCount(model: ModelSpec, i: number): { trainable: number; nonTrainable: number } {
  let trainable = 0,
    nonTrainable = 0;
  const cells = cellsOf(model, i);
  for (const p of model.params[i] ?? []) {
    let n = p.shape.reduce((a, b) => a * b, 1);
    const cell = p.key.slice(model.layers[i]!.name.length + 1).startsWith('backward/') ? cells[1] : cells[0];
    // A cuDNN bias the cell sums into one row (CuDNNLSTM) counts both halves; CuDNNGRU's two rows are its bias.
    if (cell && isCudnn(cell.className) && p.name === 'bias' && p.shape.length === 1) n *= 2;
    if (p.trainable) trainable += n;
    else nonTrainable += n;
  }
  return { trainable, nonTrainable };
}
