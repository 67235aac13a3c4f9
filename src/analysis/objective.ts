// The objective L whose gradients are analysed.
//
//   loss:    --loss, else the model file's training config, else a stated default
//            (cross-entropy for a softmax/sigmoid output, mse otherwise).
//   targets: --targets; without them a self-objective that is never degenerate:
//            classifier (softmax / sigmoid output) → cross-entropy against its own predicted
//            class; regressor → half the squared output norm, ½‖y‖² (mean over samples).
//   inputs:  the data; without data, seeded random inputs matching the model's inputs
//            (token ids for an Embedding), with a warning.

import type { LossConfig, ModelSpec } from '../model/types.js';
import { DataError } from '../model/errors.js';
import { parseLoss } from '../engine/loss-config.js';
import { LOSS_NAMES } from '../model/loss-config.js';
import type { Tensor } from '../engine/tensor.js';

export type OutputKind = 'softmax' | 'sigmoid' | 'other';

/** The activation that produces model output i (looks through Dense, TimeDistributed(Dense), Activation). */
export function outputKind(model: ModelSpec, i: number): OutputKind {
  const id = model.outputs[i]!;
  const node = model.nodes.find((n) => n.outputs.includes(id));
  if (!node) return 'other';
  let l = model.layers[node.layer]!;
  if (l.type === 'TimeDistributed') l = l.inner;
  const act = l.type === 'Dense' || l.type === 'Activation' ? l.activation.name : null;
  return act === 'softmax' ? 'softmax' : act === 'sigmoid' ? 'sigmoid' : 'other';
}

export interface Objective {
  losses: LossConfig[];
  lossSource: 'option' | 'model' | 'default' | 'self';
  self: 'predicted-class-crossentropy' | 'half-squared-norm' | null;
  description: string;
}

export function chooseObjective(model: ModelSpec, lossOption: string | undefined, haveTargets: boolean): Objective {
  const kinds = model.outputs.map((_, i) => outputKind(model, i));
  if (!haveTargets) {
    const classifier = kinds.every((k) => k !== 'other');
    if (classifier) {
      return {
        losses: kinds.map((k) => ({
          name: k === 'softmax' ? 'categorical_crossentropy' : 'binary_crossentropy',
          fromLogits: false,
          labelSmoothing: 0,
        })),
        lossSource: 'self',
        self: 'predicted-class-crossentropy',
        description:
          'No targets were given, so L is the cross-entropy of each sample against the class the model itself predicts (its most likely class).',
      };
    }
    return {
      losses: kinds.map(() => ({ name: 'half_squared_norm', fromLogits: false, labelSmoothing: 0 })),
      lossSource: 'self',
      self: 'half-squared-norm',
      description:
        'No targets were given, so L is half the squared norm of the model output, ½‖y‖², averaged over samples (its gradient is the output itself).',
    };
  }
  if (lossOption) {
    const l = parseLoss(lossOption);
    return {
      losses: model.outputs.map(() => l),
      lossSource: 'option',
      self: null,
      description: `L is ${l.name} against the given targets (chosen with --loss).`,
    };
  }
  // A loss the file names but Keras does not define (the project's own function: its code is not in the file).
  const foreign = (model.meta.loss ?? []).filter((l) => l.name !== 'none' && !LOSS_NAMES.includes(l.name));
  if (model.meta.loss && model.meta.loss.length === model.outputs.length && foreign.length === 0) {
    return {
      losses: model.meta.loss,
      lossSource: 'model',
      self: null,
      description: `L is ${model.meta.loss.map((l) => l.name).join(' + ')} against the given targets (the loss stored in the model file).`,
    };
  }
  const losses = kinds.map((k) => ({
    name: k === 'softmax' ? 'categorical_crossentropy' : k === 'sigmoid' ? 'binary_crossentropy' : 'mse',
    fromLogits: false,
    labelSmoothing: 0,
  }));
  const stored =
    foreign.length > 0
      ? `The model file's loss ${foreign.map((l) => `'${l.name}'`).join(', ')} is not a Keras loss (a function of the project's own, whose code is not in the file)`
      : 'The model file stores no loss';
  return {
    losses,
    lossSource: 'default',
    self: null,
    description: `${stored}, so L is ${losses.map((l) => l.name).join(' + ')} against the given targets (rnnscope's default for this output activation; choose another with --loss).`,
  };
}

/** Self-objective targets for a classifier: one-hot of the predicted class (softmax) or the rounded probability
 * (sigmoid). */
export function selfTargets(outputs: Tensor[], kinds: OutputKind[]): Tensor[] {
  return outputs.map((y, i) => {
    const C = y.shape[y.shape.length - 1]!;
    const t = new Float64Array(y.data.length);
    if (kinds[i] === 'sigmoid') for (let j = 0; j < t.length; j++) t[j] = y.data[j]! >= 0.5 ? 1 : 0;
    else {
      for (let r = 0; r < t.length / C; r++) {
        let best = 0;
        for (let c = 1; c < C; c++) if (y.data[r * C + c]! > y.data[r * C + best]!) best = c;
        t[r * C + best] = 1;
      }
    }
    return { shape: [...y.shape], data: t };
  });
}

/** Seeded random inputs matching the model's inputs: N samples; unknown time dims become `steps`. */
export function randomInputs(model: ModelSpec, N: number, steps: number, seed: number): Tensor[] {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  return model.inputs.map((id) => {
    const shape = model.tensors[id]!.shape.map((d, j) => (j === 0 ? N : (d ?? steps)));
    const n = shape.reduce((a, b) => a * b, 1);
    const emb = embeddingFor(model, id);
    const data = new Float64Array(n);
    if (emb !== null) for (let i = 0; i < n; i++) data[i] = 1 + Math.floor(rnd() * Math.max(1, emb - 1));
    else
      for (let i = 0; i < n; i++) {
        // standard normal (Box–Muller)
        const u = Math.max(rnd(), 1e-12),
          v = rnd();
        data[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      }
    return { shape, data };
  });
}

/** input_dim of the Embedding that consumes model input tensor `id`, or null. */
export function embeddingFor(model: ModelSpec, id: number): number | null {
  for (const n of model.nodes) {
    const l = model.layers[n.layer]!;
    if (n.inputs.includes(id) && l.type === 'Embedding') return l.inputDim;
  }
  return null;
}

/** Checks targets are finite numbers; shapes are checked by the loss. */
export function checkFinite(name: string, t: Tensor): void {
  let bad = 0,
    first = -1;
  for (let i = 0; i < t.data.length; i++)
    if (!Number.isFinite(t.data[i]!)) {
      bad++;
      if (first < 0) first = i;
    }
  if (bad)
    throw new DataError(
      `${name} holds ${bad} NaN/Inf value(s) (first at flat index ${first}); expected finite numbers; clean or drop those samples.`,
    );
}
