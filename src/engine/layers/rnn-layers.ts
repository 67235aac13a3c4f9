// LayerImpls for the recurrent layer types: a plain recurrent layer (any registered cell)
// and Bidirectional:
//   y     = forward(x)                  processing order = time order
//   y_rev = backward(x)                 go_backwards=True: processing order = reversed time
//   if return_sequences: y_rev = reverse(y_rev, time)
//   concat → [y ‖ y_rev] | sum → y + y_rev | ave → (y + y_rev)/2 | mul → y ⊙ y_rev | None → [y, y_rev]
// Outputs: [y] (+ final states when return_state: the cell's states, [h] or [h, c]; Bidirectional
// forward states then backward states). Inputs: [x, ...initial_state] (Keras `initial_state`;
// Bidirectional: first half to the forward layer, second half to the backward layer); their
// gradients are returned after ∂L/∂x.

import type { LayerSpec } from '../../model/types.js';
import type { LayerImpl } from '../layer.js';
import { alloc, type Mask, type Tensor } from '../tensor.js';
import { cellOf } from '../cells/index.js';
import { seqBackward, seqForward, type SeqCache } from './recurrent.js';

type RecSpec = Extract<LayerSpec, { type: 'Recurrent' }>;
type BidiSpec = Extract<LayerSpec, { type: 'Bidirectional' }>;

export const recurrentLayer: LayerImpl<RecSpec> = {
  forward(ctx, layer, params, inputs, masks) {
    const mask = masks[0] ?? null;
    const r = seqForward(ctx, layer.rnn, params, inputs[0]!, mask, layer.name, null, inputs.slice(1));
    const outputs = [r.y, ...(layer.rnn.returnState ? r.states : [])];
    const outMasks: (Mask | null)[] = outputs.map((_, i) => (i === 0 && layer.rnn.returnSequences ? mask : null));
    return { outputs, masks: outMasks, cache: r.cache };
  },
  backward(ctx, layer, _params, cache, dOutputs, dParams) {
    const dStates = layer.rnn.returnState ? dOutputs.slice(1) : [];
    const dInit: Tensor[] = [];
    const dx = seqBackward(ctx, cache as SeqCache, dOutputs[0] ?? null, dStates, dParams, dInit);
    return [dx, ...dInit];
  },
};

interface BidiCache {
  f: SeqCache;
  b: SeqCache;
  yf: Tensor;
  yb: Tensor;
  nState: number;
  nInit: number;
}

/** Reverse a (B, T, U) tensor along time. */
function reverseTime(x: Tensor): Tensor {
  const [B, T, U] = x.shape as [number, number, number];
  const out = alloc(x.data instanceof Float32Array ? 'float32' : 'float64', x.data.length);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      out.set(x.data.subarray((b * T + t) * U, (b * T + t + 1) * U), (b * T + (T - 1 - t)) * U);
  return { shape: x.shape, data: out };
}

export const bidirectionalLayer: LayerImpl<BidiSpec> = {
  forward(ctx, layer, params, inputs, masks) {
    const mask = masks[0] ?? null;
    const nf = cellOf(layer.forward.kind).params(layer.forward).length;
    const init = inputs.slice(1),
      half = init.length / 2;
    const f = seqForward(
      ctx,
      layer.forward,
      params.slice(0, nf),
      inputs[0]!,
      mask,
      layer.name,
      'forward',
      init.slice(0, half),
    );
    const b = seqForward(
      ctx,
      layer.backward,
      params.slice(nf),
      inputs[0]!,
      mask,
      layer.name,
      'backward',
      init.slice(half),
    );
    const seq = layer.forward.returnSequences;
    const yf = f.y,
      yb = seq ? reverseTime(b.y) : b.y;
    let merged: Tensor[];
    const n = yf.data.length;
    switch (layer.mergeMode) {
      case null:
        merged = [yf, yb];
        break;
      case 'concat': {
        const U = layer.forward.units,
          U2 = layer.backward.units,
          rows = n / U;
        const out = alloc(ctx.dtype, rows * (U + U2));
        for (let r = 0; r < rows; r++) {
          out.set(yf.data.subarray(r * U, (r + 1) * U), r * (U + U2));
          out.set(yb.data.subarray(r * U2, (r + 1) * U2), r * (U + U2) + U);
        }
        merged = [{ shape: [...yf.shape.slice(0, -1), U + U2], data: out }];
        break;
      }
      default: {
        const out = alloc(ctx.dtype, n),
          a = yf.data,
          c = yb.data,
          m = layer.mergeMode;
        for (let i = 0; i < n; i++)
          out[i] = m === 'sum' ? a[i]! + c[i]! : m === 'mul' ? a[i]! * c[i]! : (a[i]! + c[i]!) / 2;
        merged = [{ shape: yf.shape, data: out }];
      }
    }
    const states = layer.forward.returnState ? [...f.states, ...b.states] : [];
    const outputs = [...merged, ...states];
    const outMasks = outputs.map((_, i) => (i < merged.length && seq ? mask : null));
    return {
      outputs,
      masks: outMasks,
      cache: { f: f.cache, b: b.cache, yf, yb, nState: f.states.length, nInit: init.length } satisfies BidiCache,
    };
  },
  backward(ctx, layer, _params, cache, dOutputs, dParams) {
    const c = cache as BidiCache;
    const nMerged = layer.mergeMode === null ? 2 : 1;
    const d0 = dOutputs[0] ?? null;
    let dyf: Tensor | null = null,
      dyb: Tensor | null = null;
    if (layer.mergeMode === null) {
      dyf = d0;
      dyb = dOutputs[1] ?? null;
    } else if (d0) {
      const n = c.yf.data.length;
      const af = alloc(ctx.dtype, n),
        ab = alloc(ctx.dtype, c.yb.data.length);
      if (layer.mergeMode === 'concat') {
        const U = layer.forward.units,
          U2 = layer.backward.units,
          rows = n / U;
        for (let r = 0; r < rows; r++) {
          af.set(d0.data.subarray(r * (U + U2), r * (U + U2) + U), r * U);
          ab.set(d0.data.subarray(r * (U + U2) + U, (r + 1) * (U + U2)), r * U2);
        }
      } else {
        for (let i = 0; i < n; i++) {
          const g = d0.data[i]!;
          switch (layer.mergeMode) {
            case 'sum':
              af[i] = g;
              ab[i] = g;
              break;
            case 'ave':
              af[i] = g / 2;
              ab[i] = g / 2;
              break;
            case 'mul':
              af[i] = g * c.yb.data[i]!;
              ab[i] = g * c.yf.data[i]!;
              break;
          }
        }
      }
      dyf = { shape: c.yf.shape, data: af };
      dyb = { shape: c.yb.shape, data: ab };
    }
    if (dyb && layer.forward.returnSequences) dyb = reverseTime(dyb);
    const st = dOutputs.slice(nMerged);
    const nf = cellOf(layer.forward.kind).params(layer.forward).length;
    const dInitF: Tensor[] = [],
      dInitB: Tensor[] = [];
    const dxf = seqBackward(ctx, c.f, dyf, st.slice(0, c.nState), dParams.slice(0, nf), dInitF);
    const dxb = seqBackward(ctx, c.b, dyb, st.slice(c.nState), dParams.slice(nf), dInitB);
    // A new array: dxf and dxb are also each direction's own 'dx' tap.
    const dx = alloc(ctx.dtype, dxf.data.length);
    for (let i = 0; i < dx.length; i++) dx[i] = dxf.data[i]! + dxb.data[i]!;
    return [{ shape: dxf.shape, data: dx }, ...(c.nInit ? [...dInitF, ...dInitB] : [])];
  },
};
