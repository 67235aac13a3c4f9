// Static shapes and parameter specs of the layers in types-extra.ts, and of
// TimeDistributed around any layer (the inner layer sees (batch·time, ...)).
// Registered in shapes.ts (inferCall) and params.ts (paramSpecs, shapeHint).

import type { LayerSpec, ParamSpec, Shape } from './types.js';
import type { Pair } from './types-extra.js';
import { ModelError } from './errors.js';
import { msg } from './messages.js';
import { infer3d } from './vision3d-config.js';
import type { CallShapes, DType } from './shapes.js';
import { convLength, normAxis } from './shape-math.js';

type Spec<K extends LayerSpec['type']> = Extract<LayerSpec, { type: K }>;

function rank(layer: LayerSpec, s: Shape, r: number | [number, number], expected: string): void {
  const ok = typeof r === 'number' ? s.length === r : s.length >= r[0] && s.length <= r[1];
  if (!ok) throw new ModelError(msg.badRank(layer.name, layer.className, s, expected));
}

function known(layer: LayerSpec, s: Shape, i: number, what: string): number {
  const d = s[i];
  if (d === null || d === undefined) throw new ModelError(msg.unknownDim(layer.name, layer.className, s, what));
  return d;
}

function window2d(
  layer: LayerSpec,
  x: Shape,
  k: Pair,
  s: Pair,
  padding: string,
  d: Pair,
): [number | null, number | null] {
  const h = convLength(x[1]!, k[0], s[0], padding, d[0]);
  const w = convLength(x[2]!, k[1], s[1], padding, d[1]);
  if (h === 0 || w === 0)
    throw new ModelError(
      msg.badRank(
        layer.name,
        layer.className,
        x,
        `at least ${(k[0] - 1) * d[0] + 1}×${(k[1] - 1) * d[1] + 1} pixels for padding='valid'`,
      ),
    );
  return [h, w];
}

const f32 = (shapes: Shape[]): CallShapes => ({ shapes, dtypes: shapes.map(() => 'float32') });

/** Output shapes of one call of an added layer type, or null for the types shapes.ts handles; `inferCall` (shapes.ts,
 * passed in so that the two modules do not import each other) infers a wrapped layer's call. */
export function inferExtra(
  layer: LayerSpec,
  inputs: Shape[],
  dtypes: DType[],
  inferCall: (layer: LayerSpec, inputs: Shape[], dtypes: DType[]) => CallShapes,
): CallShapes | null {
  const x = inputs[0]!;
  const v3 = infer3d(layer, x);
  if (v3) return { shapes: [v3], dtypes: [layer.type === 'Pooling3D' ? (dtypes[0] ?? 'float32') : 'float32'] };
  switch (layer.type) {
    case 'TimeDistributed': {
      rank(layer, x, [3, 8], 'rank ≥ 3 (batch, time, …)');
      const inner = inferCall(layer.inner, [[null, ...x.slice(2)]], [dtypes[0] ?? 'float32']);
      return { shapes: inner.shapes.map((s) => [x[0]!, x[1]!, ...s.slice(1)]), dtypes: inner.dtypes };
    }
    case 'Conv2D':
      rank(layer, x, 4, 'rank 4 (batch, rows, cols, channels)');
      known(layer, x, 3, 'channel count (last axis)');
      return f32([
        [
          x[0]!,
          ...window2d(layer, x, layer.kernelSize, layer.strides, layer.padding, layer.dilationRate),
          layer.filters,
        ],
      ]);
    case 'Pooling2D':
      rank(layer, x, 4, 'rank 4 (batch, rows, cols, channels)');
      return {
        shapes: [[x[0]!, ...window2d(layer, x, layer.poolSize, layer.strides, layer.padding, [1, 1]), x[3]!]],
        dtypes: [dtypes[0] ?? 'float32'],
      };
    case 'GlobalPooling2D':
      rank(layer, x, 4, 'rank 4 (batch, rows, cols, channels)');
      return f32([[x[0]!, x[3]!]]);
    case 'ZeroPadding2D': {
      rank(layer, x, 4, 'rank 4 (batch, rows, cols, channels)');
      const [[t, b], [l, r]] = layer.padding;
      return f32([[x[0]!, x[1] === null ? null : x[1]! + t + b, x[2] === null ? null : x[2]! + l + r, x[3]!]]);
    }
    case 'Attention': {
      if (inputs.length < 2 || inputs.length > 3)
        throw new ModelError(
          msg.mergeCount(layer.name, layer.className, inputs.length, '2 or 3 ([query, value] or [query, value, key])'),
        );
      for (const s of inputs) rank(layer, s, 3, 'rank 3 (batch, steps, features)');
      const [q, v] = inputs as [Shape, Shape];
      const k = inputs[2] ?? v;
      known(layer, q, 2, 'query feature size');
      const out: Shape[] = [[q[0]!, q[1]!, v[2]!]];
      if (layer.returnScores) out.push([q[0]!, q[1]!, k[1]!]);
      return f32(out);
    }
    case 'MultiHeadAttention': {
      if (inputs.length < 2 || inputs.length > 3)
        throw new ModelError(
          msg.mergeCount(layer.name, layer.className, inputs.length, '2 or 3 (query, value[, key])'),
        );
      for (const s of inputs) rank(layer, s, 3, 'rank 3 (batch, steps, features)');
      const [q, v] = inputs as [Shape, Shape];
      const k = inputs[2] ?? v;
      const out: Shape[] = [[q[0]!, q[1]!, layer.outputDim ?? known(layer, q, 2, 'query feature size')]];
      if (layer.returnScores) out.push([q[0]!, layer.numHeads, q[1]!, k[1]!]);
      return f32(out);
    }
    case 'Dot': {
      if (inputs.length !== 2)
        throw new ModelError(msg.mergeCount(layer.name, layer.className, inputs.length, 'exactly 2'));
      const [a, b] = inputs as [Shape, Shape];
      for (const s of [a, b]) rank(layer, s, [2, 3], 'rank 2 or 3');
      const [a0, a1] = dotAxes(layer, a.length, b.length);
      if (a[a0] !== null && b[a1] !== null && a[a0] !== b[a1])
        throw new ModelError(msg.mergeShapes(layer.name, layer.className, [a, b]));
      const out = [...a.filter((_, i) => i !== a0), ...b.filter((_, i) => i !== a1 && i !== 0)];
      return f32([out.length === 1 ? [out[0]!, 1] : out]);
    }
    case 'CRF':
      rank(layer, x, 3, 'rank 3 (batch, steps, features)');
      known(layer, x, 2, 'feature size (last axis)');
      return f32([[x[0]!, x[1]!, layer.units]]);
    default:
      return null;
  }
}

/** Dot's axes resolved against the two ranks (Keras: a negative axis counts from the end of each input). */
export function dotAxes(layer: Spec<'Dot'>, r0: number, r1: number): [number, number] {
  const a0 = normAxis(layer.axes[0], r0);
  const a1 = normAxis(layer.axes[1], r1);
  if (a0 < 1 || a0 >= r0 || a1 < 1 || a1 >= r1)
    throw new ModelError(
      msg.badRank(
        layer.name,
        layer.className,
        [],
        `axes (${layer.axes.join(', ')}) inside inputs of ranks ${r0} and ${r1}`,
      ),
    );
  return [a0, a1];
}

/** Parameter specs of an added layer (Keras weight order), or null for the types params.ts handles. */
export function extraParamSpecs(
  layer: LayerSpec,
  inputs: Shape[],
  p: (name: string, shape: number[], trainable?: boolean) => ParamSpec,
  inner: (l: LayerSpec, ins: Shape[]) => ParamSpec[],
): ParamSpec[] | null {
  const x = inputs[0] ?? [];
  const last = (s: Shape = x): number => s[s.length - 1] as number;
  switch (layer.type) {
    case 'TimeDistributed':
      // The inner layer's weights, keyed by the wrapper (as TimeDistributed(Dense) always was).
      return inner(layer.inner, [[null, ...x.slice(2)]]).map((q) => p(q.name, q.shape, q.trainable));
    case 'Conv2D':
    case 'Conv3D':
      return [
        p('kernel', [...layer.kernelSize, last(), layer.filters]),
        ...(layer.useBias ? [p('bias', [layer.filters])] : []),
      ];
    case 'Attention':
      if (layer.score === 'additive') return layer.useScale ? [p('scale', [last(inputs[2] ?? inputs[1])])] : [];
      return [
        ...(layer.useScale ? [p('scale', [])] : []),
        ...(layer.score === 'concat' ? [p('concat_score_weight', [])] : []),
      ];
    case 'MultiHeadAttention': {
      const [q, v] = inputs as [Shape, Shape];
      const k = inputs[2] ?? v;
      const H = layer.numHeads,
        dk = layer.keyDim,
        dv = layer.valueDim;
      const out = layer.outputDim ?? last(q);
      const b = layer.useBias;
      return [
        p('query/kernel', [last(q), H, dk]),
        ...(b ? [p('query/bias', [H, dk])] : []),
        p('key/kernel', [last(k), H, dk]),
        ...(b ? [p('key/bias', [H, dk])] : []),
        p('value/kernel', [last(v), H, dv]),
        ...(b ? [p('value/bias', [H, dv])] : []),
        p('attention_output/kernel', [H, dv, out]),
        ...(b ? [p('attention_output/bias', [out])] : []),
      ];
    }
    case 'CRF': {
      const F = layer.units;
      return [
        p('kernel', [last(), F]),
        p('chain_kernel', [F, F]),
        ...(layer.useBias ? [p('bias', [F])] : []),
        ...(layer.useBoundary ? [p('left_boundary', [F]), p('right_boundary', [F])] : []),
      ];
    }
    default:
      return null;
  }
}

/** The "why" of an expected parameter shape of an added layer, or null. */
export function extraShapeHint(layer: LayerSpec, param: ParamSpec): string | null {
  switch (layer.type) {
    case 'TimeDistributed':
      return `${layer.inner.className} inside TimeDistributed`;
    case 'Conv2D':
    case 'Conv3D':
      return param.name === 'kernel'
        ? `kernel_size=${layer.kernelSize.join('×')}, input channels=${param.shape[param.shape.length - 2]}, filters=${layer.filters}`
        : `filters=${layer.filters}`;
    case 'MultiHeadAttention':
      return `num_heads=${layer.numHeads}, key_dim=${layer.keyDim}, value_dim=${layer.valueDim}`;
    case 'CRF':
      return `units=${layer.units}`;
    case 'Attention':
      return layer.score === 'additive' ? 'the value/key feature size' : 'a scalar';
    default:
      return null;
  }
}
