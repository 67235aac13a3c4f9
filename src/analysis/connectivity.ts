// Connectivity (optional, --connectivity): for a model with a sequence output (B, T, C), keep
// the loss gradient of one output step τ at a time, backpropagate, and record ‖∂L_τ/∂x_t‖ at
// every input position t of every recurrent layer (x = the layer's input): how far back each
// prediction reaches. Steps after τ are recorded too (0 for a causal layer; a backward layer sees them). Computed on a
// small subsample; τ positions are downsampled to ≤ 40.
// What it could not map (no output with a time axis, layers that do not feed the mapped output,
// further sequence outputs) it says in the returned notes, which the analysis lists as warnings.

import type { ModelSpec } from '../model/types.js';
import { fmtShape } from '../model/errors.js';
import { computeLoss } from '../engine/losses.js';
import type { LossFlavor } from '../engine/loss-config.js';
import type { Params } from '../engine/graph.js';
import { gradsFromOutputs, predict } from '../engine/run.js';
import type { DType, Tensor } from '../engine/tensor.js';
import type { Objective } from './objective.js';
import { outputKind, selfTargets } from './objective.js';
import type { RecurrentAnalysis } from './schema.js';
import type { Kernels } from '../engine/kernels-js.js';

/** Something --connectivity could not map, and why (a warning of the analysis). */
export interface ConnectivityNote {
  code: string;
  message: string;
}

export function connectivity(
  model: ModelSpec,
  xs: Tensor[],
  recurrent: RecurrentAnalysis[],
  params: Params,
  objective: Objective,
  flavor: LossFlavor,
  targets: Tensor[] | null,
  dtype: DType = 'float32',
  kernels?: Kernels,
): ConnectivityNote[] {
  const outs = predict(model, xs, { params, dtype, kernels });
  const F = (n: number): Float32Array | Float64Array =>
    dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  const named = (i: number): string => `'${model.outputNames[i]}' ${fmtShape(model.tensors[model.outputs[i]!]!.shape)}`;
  const seqOuts = outs.flatMap((o, i) => (o.shape.length === 3 ? [i] : []));
  if (seqOuts.length === 0) {
    const list = outs.map((_, i) => named(i));
    return [
      {
        code: 'connectivity-no-sequence-output',
        message: `--connectivity maps how strongly each output step depends on each input step, so it needs an output with a time axis (batch, steps, features); the model's output${list.length > 1 ? 's' : ''} ${list.join(', ')} ${list.length > 1 ? 'give' : 'gives'} one prediction per sequence, so no map was made. For that single prediction, the input-sensitivity chart (‖∂L/∂x_t‖ per input step of each recurrent layer, recurrent[].dx in the JSON) shows how far back it reaches.`,
      },
    ];
  }
  const notes: ConnectivityNote[] = [];
  const oi = seqOuts[0]!;
  if (seqOuts.length > 1) {
    notes.push({
      code: 'connectivity-one-output',
      message: `--connectivity maps output ${named(oi)} only (the first output with a time axis); ${seqOuts.slice(1).map(named).join(', ')} ${seqOuts.length > 2 ? 'are' : 'is'} not mapped.`,
    });
  }
  const y = outs[oi]!;
  const [B, T, C] = y.shape as [number, number, number];
  let dFull: Float32Array | Float64Array;
  if (objective.self === 'half-squared-norm') {
    dFull = F(y.data.length);
    for (let i = 0; i < dFull.length; i++) dFull[i] = y.data[i]! / B;
  } else {
    const t = targets ? targets[oi]! : selfTargets([y], [outputKind(model, oi)])[0]!;
    const dPred = computeLoss(objective.losses[oi]!, flavor, y, t, null).dPred;
    dFull = F(dPred.length);
    dFull.set(dPred);
  }
  const taus = Array.from(
    new Set(
      Array.from({ length: Math.min(T, 40) }, (_, i) => Math.round((i * (T - 1)) / Math.max(1, Math.min(T, 40) - 1))),
    ),
  );
  const maps = new Map<string, (number | null)[][]>();
  for (const tau of taus) {
    const d = F(dFull.length);
    for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) d[(b * T + tau) * C + c] = dFull[(b * T + tau) * C + c]!;
    const r = gradsFromOutputs(
      model,
      xs,
      outs.map((o, i) => (i === oi ? { shape: o.shape, data: d } : null)),
      { dtype, taps: { dx: true }, params, kernels },
    );
    for (const tp of r.taps.layers) {
      const id = tp.direction ? `${tp.layer}/${tp.direction}` : tp.layer;
      const row: (number | null)[] = [];
      for (let t = 0; t < tp.steps; t++) {
        let s = 0;
        for (let b = 0; b < tp.batch; b++)
          for (let i = 0; i < tp.inputDim; i++) {
            const v = tp.data.dx![(b * tp.steps + t) * tp.inputDim + i]!;
            s += v * v;
          }
        row.push(Math.sqrt(s));
      }
      if (!maps.has(id)) maps.set(id, []);
      maps.get(id)!.push(row);
    }
  }
  for (const ra of recurrent) {
    const m = maps.get(ra.id);
    if (!m) {
      notes.push({
        code: 'connectivity-layer-not-mapped',
        message: `--connectivity: recurrent layer ${ra.direction ? `${ra.layer} (${ra.direction})` : ra.layer} does not feed output ${named(oi)}, the output mapped, so it has no connectivity map.`,
      });
      continue;
    }
    ra.connectivity = {
      samples: B,
      outputSteps: taus,
      inputSteps: Array.from({ length: ra.steps }, (_, t) => t),
      values: m,
    };
  }
  return notes;
}
