// Shared pieces of the independent-oracle tests (oracle-torch, oracle-tfjs, oracle-keras):
// golden file types, weight binding, and the error measure every oracle reports.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelSpec } from '../../src/model/types.js';
import type { Tensor } from '../../src/engine/tensor.js';

/** A row-major array as the goldens store it. */
export interface JsonArray {
  shape: number[];
  data: number[];
}

/** One file written by scripts/torch_goldens.py (see its header for how each field is made). */
export interface TorchGolden {
  name: string;
  description: string;
  kerasVersion: string;
  /** The config Keras 3 writes for the model (config.json of a .keras file). */
  config: Record<string, unknown>;
  lossConfig: { name: string; fromLogits: boolean; labelSmoothing: number };
  inputs: JsonArray;
  targets: JsonArray;
  loss: number;
  outputs: JsonArray;
  /** Keras layout, keyed by rnnscope ParamSpec.key. */
  weights: Record<string, JsonArray>;
  grads: Record<string, JsonArray>;
  dInputs: JsonArray;
  /**
   * Keyed 'layer' or 'layer/forward' | 'layer/backward'; (B, T, U) in input order. dh = ∂L/∂h_t and
   * (LSTM) dc = ∂L/∂c_t are torch's total derivatives (retain_grad); dcHeld = ∂L/∂c_t with h_t held
   * fixed (f_{t+1} ⊙ dc_{t+1}, zero after the last processing step).
   */
  taps: Record<
    string,
    {
      layer: string;
      direction: 'forward' | 'backward' | null;
      kind: string;
      dh: JsonArray;
      dc?: JsonArray;
      dcHeld?: JsonArray;
    }
  >;
}

export const TORCH_GOLDEN_DIR = join(import.meta.dirname, '..', 'fixtures', 'goldens', 'torch');

export function torchGoldenNames(): string[] {
  return readdirSync(TORCH_GOLDEN_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

export function loadTorchGolden(name: string): TorchGolden {
  return JSON.parse(readFileSync(join(TORCH_GOLDEN_DIR, `${name}.json`), 'utf8')) as TorchGolden;
}

/** A golden array as an engine tensor (float64; the engine converts inputs to the run's dtype). */
export function tensorOf(a: { shape: number[]; data: ArrayLike<number> }): Tensor {
  return { shape: [...a.shape], data: Float64Array.from(a.data) };
}

/**
 * Fills model.weights from arrays keyed by ParamSpec.key; throws unless the keys and shapes
 * match the model's parameters exactly (a missing or extra weight is a test failure, not a skip).
 */
export function bindWeights(
  model: ModelSpec,
  weights: Record<string, JsonArray | { shape: number[]; data: ArrayLike<number> }>,
): void {
  const want = model.params.flat();
  const keys = new Set(want.map((p) => p.key));
  const extra = Object.keys(weights).filter((k) => !keys.has(k));
  if (extra.length)
    throw new Error(`weights not in the model: ${extra.join(', ')} (model has ${[...keys].join(', ')})`);
  for (const p of want) {
    const w = weights[p.key];
    if (!w) throw new Error(`no weight for ${p.key}`);
    if (w.shape.join(',') !== p.shape.join(',')) throw new Error(`${p.key}: shape [${w.shape}] vs model [${p.shape}]`);
    model.weights.set(p.key, { shape: [...w.shape], data: Float64Array.from(w.data) });
  }
}

/**
 * Norm-wise relative error: max_i |a_i − e_i| / max(max_i |e_i|, floor). Scaling by the largest
 * reference magnitude keeps tiny entries (a gradient that is 1e-12 of its neighbours) from
 * dominating while still catching any element-wise mistake of relevant size. NaN → Infinity.
 */
export function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>, floor = 1e-12): number {
  if (actual.length !== expected.length) return Infinity;
  let scale = floor;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  let m = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i]! - expected[i]!) / scale;
    if (!(e <= m)) m = Number.isNaN(e) ? Infinity : e;
  }
  return m;
}

/** Collects the worst error per (oracle, model kind, quantity) for the summary printed after a test file. */
export class ErrorLog {
  private readonly worst = new Map<string, number>();
  note(key: string, err: number): number {
    this.worst.set(key, Math.max(this.worst.get(key) ?? 0, err));
    return err;
  }
  table(): string {
    return [...this.worst.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k.padEnd(60)} ${v.toExponential(2)}`)
      .join('\n');
  }
}
