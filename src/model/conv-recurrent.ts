// Shapes of a convolutional recurrent layer (ConvLSTM1D/2D/3D, RecurrentSpec.conv) at its first call:
// the frame's spatial extent and channels fix the convolutions' geometry, the state's spatial extent
// (the input convolution's output, Keras's conv_output_length) and so units and inputDim.
// Input (batch, time, …spatial, channels); output (batch, [time,] …outSpatial, filters); states like
// one output frame.

import type { LayerSpec, RecurrentSpec, Shape } from './types.js';
import { ModelError } from './errors.js';
import { msg } from './messages.js';
import { convLength } from './shape-math.js';

export function convRecurrentOutputs(layer: LayerSpec, rnn: RecurrentSpec, x: Shape, states: Shape[]): Shape[] {
  const c = rnn.conv!;
  const r = c.rank;
  const axes = r === 1 ? 'length' : r === 2 ? 'rows, cols' : 'depth, rows, cols';
  const frame = `rank ${r + 3} (batch, time, ${axes}, channels)`;
  if (x.length !== r + 3) throw new ModelError(msg.badRank(layer.name, layer.className, x, frame));
  const dims = x.slice(2);
  if (dims.some((d) => d === null))
    throw new ModelError(msg.unknownDim(layer.name, layer.className, x, 'frame size (every axis after time)'));
  const inSpatial = dims.slice(0, r) as number[],
    channels = dims[r] as number;
  const outSpatial = inSpatial.map(
    (n, a) => convLength(n, c.kernelSize[a]!, c.strides[a]!, c.padding, c.dilationRate[a]!) as number,
  );
  if (outSpatial.some((n) => n <= 0))
    throw new ModelError(
      msg.badRank(layer.name, layer.className, x, `frames at least as large as the kernel (${c.kernelSize.join('×')})`),
    );
  if (c.channels === -1) {
    c.inSpatial = inSpatial;
    c.outSpatial = outSpatial;
    c.channels = channels;
    rnn.units = outSpatial.reduce((a, n) => a * n, c.filters);
    rnn.inputDim = inSpatial.reduce((a, n) => a * n, channels);
  } else if (c.channels !== channels || c.inSpatial.some((n, a) => n !== inSpatial[a])) {
    throw new ModelError(msg.sharedLayerMismatch(layer.name, [null, null, ...c.inSpatial, c.channels], x));
  }
  const st: Shape = [x[0]!, ...outSpatial, c.filters];
  for (const s of states)
    if (s.length !== st.length || s.some((d, i) => i > 0 && d !== null && d !== st[i]))
      throw new ModelError(msg.inputShapeMismatch(layer.name, s, st));
  const out: Shape[] = [rnn.returnSequences ? [x[0]!, x[1]!, ...outSpatial, c.filters] : st];
  if (rnn.returnState) out.push(st, st);
  return out;
}
