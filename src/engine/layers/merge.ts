// Elementwise merges: Add, Subtract (exactly 2 inputs), Multiply, Average,
// Maximum, Minimum (Keras 3 keras/src/layers/merging/). Concatenate lives in
// concatenate.ts; `mergeLayer` dispatches on the mode.
//
// Shapes (base_merge.py call/build): inputs of lower rank get size-1 dims
// inserted at axis 1 until all ranks are equal, then dims broadcast (each dim
// equal or 1).
//
// Values and masks (Keras ≥ 3.4, base_merge.py and multiply.py, commit
// 603db8003c). A mask is (B, T) and applies to every value of step (b, t).
// Inputs that had to be expanded lose their mask for the value computation
// (expand_dims makes a new tensor without one).
//   Add, Subtract, Average: masks do not change the values.
//   Multiply: a masked value counts as 1; when every input has a mask, the
//     product is 0 where all inputs are masked.
//   Maximum, Minimum: folded left to right; a masked x_k is replaced by the
//     running result, and where the running mask is false the running result
//     is replaced by x_k (once an input lacks a mask the running mask is gone).
//   Output mask (compute_mask): OR of the input masks, None if any is None.
// Keras note: Keras 2, tf.keras and Keras 3.0–3.3 ignore masks in the values of
// Multiply/Maximum/Minimum too.
//
// Gradient of Maximum/Minimum: each output value is a selection of one input
// value; the whole gradient goes to that input. On ties the earlier input wins,
// as TF's gradient of the binary maximum(a, b) gives dy to a when a >= b
// (minimum: a <= b) (tensorflow/python/ops/math_grad.py _MaximumMinimumGrad),
// and the fold keeps the running result as the first argument.
// (PyTorch's torch.maximum splits a tie's gradient in halves instead.)

import type { LayerSpec } from '../../model/types.js';
import { DataError, ModelError } from '../../model/errors.js';
import type { LayerImpl } from '../layer.js';
import type { Arr, Mask, Tensor } from '../tensor.js';
import { alloc } from '../tensor.js';
import { checkMask, fmtDims } from './basic-util.js';
import { concatenateLayer } from './concatenate.js';

type Merge = Extract<LayerSpec, { type: 'Merge' }>;

interface MergeCache {
  xs: Arr[];
  shapes: number[][];
  /** per input: output index → input index, null when the input has the output's shape */
  offs: (Int32Array | null)[];
  /** per input: the mask used for values (null = none), and where to read it */
  vm: (Mask | null)[];
  /** Maximum/Minimum: the input each output value comes from */
  src: Uint16Array | null;
  /** Multiply: output zeroed (every input masked) */
  dead: Uint8Array | null;
  outShape: number[];
}

/** Output shape after Keras' rank alignment (insert 1s at axis 1) and broadcasting; also the aligned input shapes. */
function broadcastShapes(layer: Merge, inputs: Tensor[]): { out: number[]; aligned: number[][] } {
  const maxRank = Math.max(...inputs.map((x) => x.shape.length));
  const aligned = inputs.map((x) => {
    const s = [...x.shape];
    while (s.length < maxRank) s.splice(1, 0, 1);
    return s;
  });
  const out = aligned[0].map((_, a) => Math.max(...aligned.map((s) => s[a])));
  for (const s of aligned) {
    if (s.some((d, a) => d !== out[a] && d !== 1)) {
      throw new DataError(
        `${layer.mode} '${layer.name}' got inputs of shapes ${inputs.map((x) => fmtDims(x.shape)).join(' and ')}; expected equal or broadcastable shapes, check the layers feeding it.`,
      );
    }
  }
  return { out, aligned };
}

/** Output flat index → input flat index for a broadcast input; null when no broadcasting is needed. */
function offsets(aligned: readonly number[], out: readonly number[]): Int32Array | null {
  if (aligned.every((d, a) => d === out[a])) return null;
  const rank = out.length;
  const stride = new Array<number>(rank);
  for (let a = rank - 1, s = 1; a >= 0; a--) {
    stride[a] = aligned[a] === 1 ? 0 : s;
    s *= aligned[a];
  }
  let n = 1;
  for (const d of out) n *= d;
  const off = new Int32Array(n);
  const idx = new Int32Array(rank);
  let p = 0;
  for (let i = 0; i < n; i++) {
    off[i] = p;
    for (let a = rank - 1; a >= 0; a--) {
      idx[a]++;
      p += stride[a];
      if (idx[a] < out[a]) break;
      p -= idx[a] * stride[a];
      idx[a] = 0;
    }
  }
  return off;
}

function outputMask(masks: (Mask | null)[], out: readonly number[]): Mask | null {
  if (masks.length === 0 || masks.some((m) => m === null) || out.length < 2) return null;
  const [B, T] = out;
  const data = new Uint8Array(B * T);
  for (const m of masks as Mask[]) {
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) data[b * T + t] |= m.data[b * m.t + (m.t === 1 ? 0 : t)];
  }
  return { b: B, t: T, data };
}

const elementwise: LayerImpl<Merge> = {
  forward(ctx, layer, _params, inputs, masks) {
    const n = inputs.length;
    if (layer.mode === 'Subtract' && n !== 2) {
      throw new ModelError(
        `Subtract '${layer.name}' is called on ${n} inputs; expected exactly 2, fix the model definition.`,
      );
    }
    const { out, aligned } = broadcastShapes(layer, inputs);
    const maxRank = out.length;
    const ms = inputs.map((x, k) => {
      const m = masks[k] ?? null;
      checkMask(layer, x, m);
      if (m !== null && x.shape.length !== maxRank) {
        throw new ModelError(
          `${layer.mode} '${layer.name}' got a masked input of shape ${fmtDims(x.shape)} together with rank-${maxRank} inputs; rnnscope supports masks only on inputs of the highest rank, remove the mask or report the model.`,
        );
      }
      return m;
    });
    const offs = aligned.map((s) => offsets(s, out));
    const vm = ms.map((m, k) => (inputs[k].shape.length === maxRank ? m : null));
    let total = 1;
    for (const d of out) total *= d;
    // (b, t) of output element i: i = (b·T + t)·inner + rest
    const T = maxRank >= 2 ? out[1] : 1;
    const inner = maxRank >= 2 ? total / (out[0] * T) : 1;
    const xs = inputs.map((x) => x.data);
    const y = alloc(ctx.dtype, total);
    let src: Uint16Array | null = null;
    let dead: Uint8Array | null = null;
    const mode = layer.mode;
    if (mode === 'Add' || mode === 'Average' || mode === 'Subtract') {
      const scale = mode === 'Average' ? 1 / n : 1;
      for (let i = 0; i < total; i++) {
        let v = xs[0][offs[0] === null ? i : offs[0][i]];
        for (let k = 1; k < n; k++) {
          const xv = xs[k][offs[k] === null ? i : offs[k]![i]];
          v = mode === 'Subtract' ? v - xv : v + xv;
        }
        y[i] = mode === 'Average' ? v * scale : v;
      }
    } else if (mode === 'Multiply') {
      const allMasked = vm.every((m) => m !== null);
      if (allMasked) dead = new Uint8Array(total);
      for (let i = 0; i < total; i++) {
        const bt = Math.floor(i / inner);
        const b = Math.floor(bt / T);
        const t = bt - b * T;
        let v = 1;
        let any = 0;
        for (let k = 0; k < n; k++) {
          const m = vm[k];
          const valid = m === null ? 1 : m.data[b * m.t + (m.t === 1 ? 0 : t)];
          any |= valid;
          if (valid) v *= xs[k][offs[k] === null ? i : offs[k]![i]];
        }
        if (dead !== null && !any) {
          dead[i] = 1;
          v = 0;
        }
        y[i] = v;
      }
    } else if (mode === 'Maximum' || mode === 'Minimum') {
      const isMax = mode === 'Maximum';
      src = new Uint16Array(total);
      for (let i = 0; i < total; i++) {
        const bt = Math.floor(i / inner);
        const b = Math.floor(bt / T);
        const t = bt - b * T;
        let v = xs[0][offs[0] === null ? i : offs[0][i]];
        let s = 0;
        // running mask: −1 = None, else 0/1
        let om = vm[0] === null ? -1 : vm[0].data[b * vm[0].t + (vm[0].t === 1 ? 0 : t)];
        for (let k = 1; k < n; k++) {
          let xv = xs[k][offs[k] === null ? i : offs[k]![i]];
          let xs_ = k;
          const m = vm[k];
          const mk = m === null ? -1 : m.data[b * m.t + (m.t === 1 ? 0 : t)];
          if (mk === 0) {
            xv = v;
            xs_ = s;
          }
          if (om === 0) {
            v = xv;
            s = xs_;
          }
          om = mk !== -1 && om !== -1 ? om | mk : -1;
          if (!(isMax ? v >= xv : v <= xv)) {
            v = xv;
            s = xs_;
          }
        }
        y[i] = v;
        src[i] = s;
      }
    } else {
      throw new ModelError(
        `Merge layer '${layer.name}' has mode ${mode}, which is not elementwise; this is an engine bug.`,
      );
    }
    const cache: MergeCache = { xs, shapes: inputs.map((x) => x.shape), offs, vm, src, dead, outShape: out };
    return { outputs: [{ shape: out, data: y }], masks: [outputMask(ms, out)], cache };
  },

  backward(ctx, layer, _params, cache, dOutputs) {
    const c = cache as MergeCache;
    const dY = dOutputs[0];
    if (dY === null) return c.shapes.map(() => null);
    const n = c.xs.length;
    const g = dY.data;
    const total = g.length;
    const dXs = c.xs.map((x) => alloc(ctx.dtype, x.length));
    const mode = layer.mode;
    if (mode === 'Add' || mode === 'Average' || mode === 'Subtract') {
      const scale = mode === 'Average' ? 1 / n : 1;
      for (let k = 0; k < n; k++) {
        const off = c.offs[k];
        const dx = dXs[k];
        const sk = mode === 'Subtract' && k === 1 ? -1 : scale;
        for (let i = 0; i < total; i++) dx[off === null ? i : off[i]] += sk * g[i];
      }
    } else if (mode === 'Multiply') {
      const out = c.outShape;
      const T = out.length >= 2 ? out[1] : 1;
      const inner = out.length >= 2 ? total / (out[0] * T) : 1;
      for (let i = 0; i < total; i++) {
        if (c.dead?.[i]) continue;
        const bt = Math.floor(i / inner);
        const b = Math.floor(bt / T);
        const t = bt - b * T;
        for (let k = 0; k < n; k++) {
          const mk = c.vm[k];
          if (mk !== null && !mk.data[b * mk.t + (mk.t === 1 ? 0 : t)]) continue;
          // Π_{j≠k} x'_j, masked x'_j = 1
          let p = g[i];
          for (let j = 0; j < n; j++) {
            if (j === k) continue;
            const mj = c.vm[j];
            if (mj !== null && !mj.data[b * mj.t + (mj.t === 1 ? 0 : t)]) continue;
            p *= c.xs[j][c.offs[j] === null ? i : c.offs[j]![i]];
          }
          dXs[k][c.offs[k] === null ? i : c.offs[k]![i]] += p;
        }
      }
    } else {
      const src = c.src!;
      for (let i = 0; i < total; i++) {
        const k = src[i];
        dXs[k][c.offs[k] === null ? i : c.offs[k]![i]] += g[i];
      }
    }
    return c.shapes.map((s, k) => ({ shape: [...s], data: dXs[k] }));
  },
};

export const mergeLayer: LayerImpl<Merge> = {
  forward(ctx, layer, params, inputs, masks) {
    return (layer.mode === 'Concatenate' ? concatenateLayer : elementwise).forward(ctx, layer, params, inputs, masks);
  },
  backward(ctx, layer, params, cache, dOutputs, dParams) {
    return (layer.mode === 'Concatenate' ? concatenateLayer : elementwise).backward(
      ctx,
      layer,
      params,
      cache,
      dOutputs,
      dParams,
    );
  },
};
