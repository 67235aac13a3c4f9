// Static shape inference: the output shapes of one layer call from its input
// shapes (batch dim included, null = unknown), following each layer's Keras
// compute_output_shape. The first call of a layer also fixes what the config
// leaves to the input (an RNN's input_dim).

import type { LayerSpec, RecurrentSpec, Shape } from './types.js';
import { ModelError } from './errors.js';
import { msg } from './messages.js';
import { inferExtra } from './extra-shapes.js';
import { convRecurrentOutputs } from './conv-recurrent.js';
import { convLength, normAxis } from './shape-math.js';

export { convLength, normAxis } from './shape-math.js';
import { cellOf } from '../engine/cells/index.js';

export type DType = 'float32' | 'int32';

export interface CallShapes {
  shapes: Shape[];
  dtypes: DType[];
}

/** Number of state tensors of the layer's cell ([h] or [h, c]). */
export function stateCount(rnn: RecurrentSpec): number {
  return cellOf(rnn.kind).states.length;
}

function known(layer: LayerSpec, s: Shape, i: number, what: string): number {
  const d = s[i];
  if (d === null || d === undefined) throw new ModelError(msg.unknownDim(layer.name, layer.className, s, what));
  return d;
}

function rank(layer: LayerSpec, s: Shape, r: number | [number, number], expected: string): void {
  const ok = typeof r === 'number' ? s.length === r : s.length >= r[0] && s.length <= r[1];
  if (!ok) throw new ModelError(msg.badRank(layer.name, layer.className, s, expected));
}

/** [output, ...final states] (docs/masking.md, 'The sequence loop'). */
function rnnOutputs(rnn: RecurrentSpec, x: Shape): Shape[] {
  const out: Shape[] = [rnn.returnSequences ? [x[0]!, x[1]!, rnn.units] : [x[0]!, rnn.units]];
  if (rnn.returnState) for (let i = 0; i < stateCount(rnn); i++) out.push([x[0]!, rnn.units]);
  return out;
}

function setInputDim(layer: LayerSpec, rnn: RecurrentSpec, x: Shape): void {
  const f = known(layer, x, 2, 'feature size (last axis)');
  if (rnn.inputDim === -1) rnn.inputDim = f;
  else if (rnn.inputDim !== f) throw new ModelError(msg.sharedLayerMismatch(layer.name, [null, null, rnn.inputDim], x));
}

function checkStates(layer: LayerSpec, states: Shape[], cells: RecurrentSpec[]): void {
  const expected = cells.reduce((n, c) => n + stateCount(c), 0);
  if (states.length === 0) return;
  if (states.length !== expected) throw new ModelError(msg.initialStateCount(layer.name, states.length, expected));
  let k = 0;
  for (const c of cells) {
    for (let i = 0; i < stateCount(c); i++, k++) {
      const s = states[k]!;
      if (s.length !== 2 || (s[1] !== null && s[1] !== c.units))
        throw new ModelError(msg.inputShapeMismatch(layer.name, s, [null, c.units]));
    }
  }
}

function compatible(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === null || b[i] === null || d === b[i]);
}

function mergeShapes(layer: LayerSpec & { type: 'Merge' }, ins: Shape[]): Shape {
  const n = ins.length;
  if (layer.mode === 'Subtract' ? n !== 2 : n < 2)
    throw new ModelError(
      msg.mergeCount(layer.name, layer.className, n, layer.mode === 'Subtract' ? 'exactly 2' : 'at least 2'),
    );
  const r = ins[0]!.length;
  if (layer.mode === 'Concatenate') {
    const ax = normAxis(layer.axis, r);
    if (
      ax < 1 ||
      ax >= r ||
      !ins.every(
        (s) => s.length === r && s.every((d, i) => i === ax || d === null || ins[0]![i] === null || d === ins[0]![i]),
      )
    ) {
      throw new ModelError(msg.mergeShapes(layer.name, layer.className, ins));
    }
    const out = ins[0]!.map((_, i) => (i === ax ? null : (ins.map((s) => s[i]!).find((d) => d !== null) ?? null)));
    out[ax] = ins.some((s) => s[ax] === null) ? null : ins.reduce((t, s) => t + (s[ax] as number), 0);
    return out;
  }
  if (!ins.every((s) => compatible(s, ins[0]!)))
    throw new ModelError(msg.mergeShapes(layer.name, layer.className, ins));
  return ins[0]!.map((_, i) => ins.map((s) => s[i]!).find((d) => d !== null) ?? null);
}

/** Output shapes and dtypes of one call. `inputs` holds every input tensor (RNNs: sequence, then initial states). */
export function inferCall(layer: LayerSpec, inputs: Shape[], dtypes: DType[]): CallShapes {
  const x = inputs[0]!;
  const f32 = (shapes: Shape[]): CallShapes => ({ shapes, dtypes: shapes.map(() => 'float32') });
  const same = (s: Shape): CallShapes => ({ shapes: [s], dtypes: [dtypes[0] ?? 'float32'] });
  switch (layer.type) {
    case 'InputLayer':
      return { shapes: [layer.shape], dtypes: [layer.dtype] };
    case 'Dense':
      rank(layer, x, [2, 8], 'rank ≥ 2 (batch, …, features)');
      known(layer, x, x.length - 1, 'feature size (last axis)');
      return f32([[...x.slice(0, -1), layer.units]]);
    case 'Embedding':
      return f32([[...x, layer.outputDim]]);
    case 'Masking':
    case 'Identity':
    case 'Activation':
      return layer.type === 'Activation' ? f32([x]) : same(x);
    case 'Recurrent': {
      if (layer.rnn.conv) return f32(convRecurrentOutputs(layer, layer.rnn, x, inputs.slice(1)));
      rank(layer, x, 3, 'rank 3 (batch, time, features)');
      setInputDim(layer, layer.rnn, x);
      checkStates(layer, inputs.slice(1), [layer.rnn]);
      return f32(rnnOutputs(layer.rnn, x));
    }
    case 'Bidirectional': {
      if (layer.forward.conv) throw new ModelError(msg.bidiConv(layer.name, layer.className));
      rank(layer, x, 3, 'rank 3 (batch, time, features)');
      setInputDim(layer, layer.forward, x);
      setInputDim(layer, layer.backward, x);
      checkStates(layer, inputs.slice(1), [layer.forward, layer.backward]);
      const fw = rnnOutputs(layer.forward, x);
      const bw = rnnOutputs(layer.backward, x);
      const y = fw[0]!;
      const merged: Shape[] =
        layer.mergeMode === 'concat'
          ? [[...y.slice(0, -1), layer.forward.units + layer.backward.units]]
          : layer.mergeMode === null
            ? [y, bw[0]!]
            : [y];
      return f32([...merged, ...fw.slice(1), ...bw.slice(1)]);
    }
    case 'RepeatVector':
      rank(layer, x, 2, 'rank 2 (batch, features)');
      return same([x[0]!, layer.n, x[1]!]);
    case 'Flatten': {
      if (x.length <= 2) return same(x);
      const rest = x.slice(1);
      return same([
        x[0]!,
        rest.some((d) => d === null) ? null : rest.reduce((a, b) => (a as number) * (b as number), 1),
      ]);
    }
    case 'Reshape': {
      const rest = x.slice(1);
      const t = layer.targetShape;
      const total = rest.some((d) => d === null)
        ? null
        : (rest.reduce((a, b) => (a as number) * (b as number), 1) as number);
      const fixed = t.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      if (total !== null && (t.includes(-1) ? total % fixed !== 0 : total !== fixed))
        throw new ModelError(msg.reshapeSize(layer.name, x, t));
      return same([x[0]!, ...t.map((d) => (d === -1 ? (total === null ? null : total / fixed) : d))]);
    }
    case 'Permute':
      if (x.length !== layer.dims.length + 1)
        throw new ModelError(msg.badRank(layer.name, layer.className, x, `rank ${layer.dims.length + 1}`));
      return same([x[0]!, ...layer.dims.map((d) => x[d]!)]);
    case 'Conv1D': {
      rank(layer, x, 3, 'rank 3 (batch, steps, channels)');
      known(layer, x, 2, 'channel count (last axis)');
      const len = convLength(x[1]!, layer.kernelSize, layer.strides, layer.padding, layer.dilationRate);
      if (len === 0)
        throw new ModelError(
          msg.badRank(
            layer.name,
            layer.className,
            x,
            `at least ${(layer.kernelSize - 1) * layer.dilationRate + 1} steps for padding='valid'`,
          ),
        );
      return f32([[x[0]!, len, layer.filters]]);
    }
    case 'Pooling1D': {
      rank(layer, x, 3, 'rank 3 (batch, steps, channels)');
      const len = convLength(x[1]!, layer.poolSize, layer.strides, layer.padding, 1);
      if (len === 0)
        throw new ModelError(
          msg.badRank(layer.name, layer.className, x, `at least ${layer.poolSize} steps for padding='valid'`),
        );
      return same([x[0]!, len, x[2]!]);
    }
    case 'GlobalPooling1D':
      rank(layer, x, 3, layer.channelsFirst ? 'rank 3 (batch, channels, steps)' : 'rank 3 (batch, steps, channels)');
      return f32([[x[0]!, layer.channelsFirst ? x[1]! : x[2]!]]);
    case 'BatchNormalization': {
      const ax = normAxis(layer.axis, x.length);
      if (ax < 1 || ax >= x.length)
        throw new ModelError(msg.badRank(layer.name, layer.className, x, `an axis ${layer.axis} inside the shape`));
      known(layer, x, ax, `size on axis ${layer.axis}`);
      return f32([x]);
    }
    case 'LayerNormalization':
      for (const a of layer.axis) {
        const ax = normAxis(a, x.length);
        if (ax < 1 || ax >= x.length)
          throw new ModelError(msg.badRank(layer.name, layer.className, x, `an axis ${a} inside the shape`));
        known(layer, x, ax, `size on axis ${a}`);
      }
      return f32([x]);
    case 'Merge':
      return f32([mergeShapes(layer, inputs)]);
    default:
      return inferExtra(layer, inputs, dtypes, inferCall)!;
  }
}
