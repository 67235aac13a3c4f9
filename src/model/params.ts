// Parameter specs of a layer in Keras layout and Keras weight order
// (`trainable_weights + non_trainable_weights`, creation order; docs/formats.md,
// 'Legacy HDF5' and 'Keras 3 variable store'), and the "why" hint each shape error prints.

import type { LayerSpec, ParamSpec, RecurrentSpec, Shape } from './types.js';
import { normAxis } from './shapes.js';
import { extraParamSpecs, extraShapeHint } from './extra-shapes.js';
import { cellOf } from '../engine/cells/index.js';

/** Gate count of the layer's cell (SimpleRNN 1, LSTM 4 (i, f, c, o), GRU 3 (z, r, h), …). */
export function gateCount(rnn: RecurrentSpec): number {
  return cellOf(rnn.kind).gates.length;
}

/** The cell's parameters in Keras layout and weight order (kernel (I, G·U), recurrent_kernel (U, G·U), bias, …). */
export function rnnParamShapes(rnn: RecurrentSpec): { name: string; shape: number[] }[] {
  return cellOf(rnn.kind)
    .params(rnn)
    .map((p) => ({ name: p.name, shape: p.shape }));
}

/** The ParamSpec list of layer `layer` called on `inputs` (first call). `trainable` = the layer's (and its parents')
 * trainable flag. */
export function paramSpecs(layer: LayerSpec, inputs: Shape[], trainable: boolean): ParamSpec[] {
  const p = (name: string, shape: number[], tr = true, sub = ''): ParamSpec => ({
    key: `${layer.name}/${sub}${name}`,
    name,
    shape,
    trainable: trainable && tr,
  });
  const x = inputs[0] ?? [];
  const last = (): number => x[x.length - 1] as number;
  switch (layer.type) {
    case 'Dense':
      return [p('kernel', [last(), layer.units]), ...(layer.useBias ? [p('bias', [layer.units])] : [])];
    case 'Embedding':
      return [p('embeddings', [layer.inputDim, layer.outputDim])];
    case 'Recurrent':
      return rnnParamShapes(layer.rnn).map((s) => p(s.name, s.shape));
    case 'Bidirectional':
      return [
        ...rnnParamShapes(layer.forward).map((s) => p(s.name, s.shape, true, 'forward/')),
        ...rnnParamShapes(layer.backward).map((s) => p(s.name, s.shape, true, 'backward/')),
      ];
    case 'Conv1D':
      return [
        p('kernel', [layer.kernelSize, last(), layer.filters]),
        ...(layer.useBias ? [p('bias', [layer.filters])] : []),
      ];
    case 'BatchNormalization': {
      const c = x[normAxis(layer.axis, x.length)] as number;
      // Keras creates gamma, beta, moving_mean, moving_variance in this order; the moving statistics are non-trainable.
      return [
        ...(layer.scale ? [p('gamma', [c])] : []),
        ...(layer.center ? [p('beta', [c])] : []),
        p('moving_mean', [c], false),
        p('moving_variance', [c], false),
      ];
    }
    case 'LayerNormalization': {
      const shape = layer.axis.map((a) => x[normAxis(a, x.length)] as number);
      return [...(layer.scale ? [p('gamma', shape)] : []), ...(layer.center ? [p('beta', shape)] : [])];
    }
    default:
      return extraParamSpecs(layer, inputs, p, (l, ins) => paramSpecs(l, ins, trainable)) ?? [];
  }
}

/** Explanation of an expected parameter shape, for "Weight 'lstm/kernel' has shape …; expected … (4 × units=32)." */
export function shapeHint(layer: LayerSpec, param: ParamSpec): string {
  const sub = param.key.slice(layer.name.length + 1);
  let rnn: RecurrentSpec | null = null;
  if (layer.type === 'Recurrent') rnn = layer.rnn;
  if (layer.type === 'Bidirectional') rnn = sub.startsWith('backward/') ? layer.backward : layer.forward;
  if (rnn) {
    const hint = cellOf(rnn.kind)
      .params(rnn)
      .find((p) => p.name === param.name)?.hint;
    if (hint !== undefined) return hint;
  }
  switch (layer.type) {
    case 'Dense':
      return param.name === 'kernel'
        ? `input features=${param.shape[0]}, units=${layer.units}`
        : `units=${layer.units}`;
    case 'TimeDistributed':
      return shapeHint(layer.inner, { ...param, key: `${layer.inner.name}/${param.name}` });
    case 'Embedding':
      return `input_dim=${layer.inputDim}, output_dim=${layer.outputDim}`;
    case 'Conv1D':
      return param.name === 'kernel'
        ? `kernel_size=${layer.kernelSize}, input channels=${param.shape[1]}, filters=${layer.filters}`
        : `filters=${layer.filters}`;
    case 'BatchNormalization':
      return `features on axis ${layer.axis}`;
    case 'LayerNormalization':
      return `features on axes ${layer.axis.join(', ')}`;
    default:
      return extraShapeHint(layer, param) ?? '';
  }
}
