// Small Sequential ModelSpecs built by hand for engine/analysis tests (the config
// builder in src/model is tested on its own against real Keras configs).
import type {
  Activation,
  LayerSpec,
  ModelSpec,
  ParamSpec,
  RecurrentKind,
  RecurrentSpec,
  Shape,
} from '../../src/model/types.js';
import { cellOf } from '../../src/engine/cells/index.js';
import { lcg, randArr } from './rng.js';

export const act = (name: Activation['name'], extra: Partial<Activation> = {}): Activation => ({ name, ...extra });

export function rnnSpec(
  kind: RecurrentKind,
  inputDim: number,
  units: number,
  o: Partial<RecurrentSpec> = {},
): RecurrentSpec {
  return {
    kind,
    units,
    inputDim,
    activation: act('tanh'),
    recurrentActivation: act('sigmoid'),
    useBias: true,
    returnSequences: false,
    returnState: false,
    goBackwards: false,
    stateful: false,
    resetAfter: false,
    zeroOutputForMask: false,
    ...cellOf(kind).forms?.[0]?.options,
    ...o,
  };
}

/** The cell's parameters (engine/cells registry) under `prefix`. */
function rnnParams(prefix: string, s: RecurrentSpec): ParamSpec[] {
  return cellOf(s.kind)
    .params(s)
    .map((p) => ({ key: `${prefix}/${p.name}`, name: p.name, shape: p.shape, trainable: true }));
}

/** A Sequential model: input (None, T, I) → layers. Supports Recurrent, Bidirectional, Dense, TimeDistributed(Dense).
 * */
export function sequential(T: number, I: number | number[], layers: LayerSpec[], seed = 1, scale = 0.5): ModelSpec {
  // I: the feature size, or a frame's shape (…spatial, channels) for a ConvLSTM.
  const frame = typeof I === 'number' ? [I] : I;
  const tensors = [{ id: 0, shape: [null, T, ...frame] as Shape, dtype: 'float32' as const }];
  const params: ParamSpec[][] = [];
  const nodes = [];
  let shape: Shape = [null, T, ...frame];
  for (let li = 0; li < layers.length; li++) {
    const l = layers[li]!;
    let ps: ParamSpec[] = [];
    if (l.type === 'Recurrent') {
      ps = rnnParams(l.name, l.rnn);
      const st = l.rnn.conv ? [...l.rnn.conv.outSpatial, l.rnn.conv.filters] : [l.rnn.units];
      shape = l.rnn.returnSequences ? [null, T, ...st] : [null, ...st];
    } else if (l.type === 'Bidirectional') {
      ps = [...rnnParams(`${l.name}/forward`, l.forward), ...rnnParams(`${l.name}/backward`, l.backward)];
      const u = l.mergeMode === 'concat' ? 2 * l.forward.units : l.forward.units;
      shape = l.forward.returnSequences ? [null, T, u] : [null, u];
    } else if (l.type === 'Dense' || (l.type === 'TimeDistributed' && l.inner.type === 'Dense')) {
      const d = (l.type === 'Dense' ? l : l.inner) as Extract<LayerSpec, { type: 'Dense' }>;
      const inDim = shape[shape.length - 1] as number;
      ps = [{ key: `${l.name}/kernel`, name: 'kernel', shape: [inDim, d.units], trainable: true }];
      if (d.useBias) ps.push({ key: `${l.name}/bias`, name: 'bias', shape: [d.units], trainable: true });
      shape = [...shape.slice(0, -1), d.units];
    } else throw new Error(`test helper: unsupported layer ${l.type}`);
    params.push(ps);
    tensors.push({ id: li + 1, shape, dtype: 'float32' });
    nodes.push({ layer: li, inputs: [li], outputs: [li + 1] });
  }
  const model: ModelSpec = {
    name: 'test',
    layers,
    params,
    nodes,
    tensors,
    inputs: [0],
    inputNames: ['input'],
    outputs: [layers.length],
    outputNames: [layers[layers.length - 1]!.name],
    weights: new Map(),
    meta: {
      format: 'config',
      kerasVersion: '3.10.0',
      writer: 'keras3',
      backend: null,
      loss: null,
      optimizer: null,
      metrics: null,
      source: 'test',
    },
    warnings: [],
  };
  const r = lcg(seed);
  for (const ps of params)
    for (const p of ps) {
      const n = p.shape.reduce((a, b) => a * b, 1);
      model.weights.set(p.key, { shape: p.shape, data: randArr(r, n, scale) });
    }
  return model;
}

export const recurrent = (name: string, rnn: RecurrentSpec): LayerSpec => ({
  type: 'Recurrent',
  name,
  className: rnn.kind,
  rnn,
});
export const dense = (name: string, units: number, a: Activation['name'] = 'linear'): LayerSpec => ({
  type: 'Dense',
  name,
  className: 'Dense',
  units,
  activation: act(a),
  useBias: true,
});
