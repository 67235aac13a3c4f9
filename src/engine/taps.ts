// Taps: per-step quantities recorded while backpropagating through time. Each is defined in
// docs/taps.md; test/taps-fd.test.ts checks every one against finite differences.
//
// For each recurrent layer (and each direction of a Bidirectional) and each
// input step t (input order, also for go_backwards), per sample:
//   dh    ∂L/∂h_t, total derivative (through the output at t and the recurrence)   (B, T, U)
//   dc    ∂L/∂c_t, LSTM only, total (also through h_t = o ⊙ σ(c_t) at the same step) (B, T, U)
//   dx    ∂L/∂x_t of this layer's input; in a Bidirectional, this direction's own
//         contribution (the layer's input gradient is the sum of both)              (B, T, I)
//   gateGrad  ∂L/∂(pre-activation) of each gate, in Keras gate order                 (B, T, G·U)
//   gates     gate activations (LSTM i,f,c~,o; GRU z,r,h~; SimpleRNN h)              (B, T, G·U)
//   hPrev     h_{t−1} as the cell saw it (for per-step recurrent-kernel contributions) (B, T, U)
//   cPrev     LSTM c_{t−1} as the cell saw it                                         (B, T, U)
//   c         LSTM c_t (after masking: a masked step carries c_{t−1})                 (B, T, U)
//   z         gate pre-activations (for Jacobian–vector products)                      (B, T, G·U)
//   x         the cell input x_t (for per-step kernel contributions)                  (B, T, I)
//   rh        GRU reset_after only: h_{t−1}·R_h + b_h (the reset-gated recurrent term) (B, T, U)
// Masked steps record zeros for gate gradients and dx (the cell's results were discarded there).

import type { Arr } from './tensor.js';

export type TapName = 'dh' | 'dc' | 'dx' | 'gateGrad' | 'gates' | 'hPrev' | 'cPrev' | 'c' | 'z' | 'x' | 'rh';

export type TapRequest = Partial<Record<TapName, boolean>>;

/** Every tap, each once: the analysis asks for all of them, and option checks read the names from here. */
export const ALL_TAPS: Readonly<Record<TapName, true>> = {
  dh: true,
  dc: true,
  dx: true,
  gateGrad: true,
  gates: true,
  hPrev: true,
  cPrev: true,
  c: true,
  z: true,
  x: true,
  rh: true,
};

export interface LayerTaps {
  /** Layer name in the model file. */
  layer: string;
  /** 'forward' | 'backward' for the halves of a Bidirectional, null otherwise. */
  direction: 'forward' | 'backward' | null;
  /** The cell's kind (engine/cells). */
  kind: string;
  batch: number;
  steps: number;
  units: number;
  inputDim: number;
  /** Recorded arrays, row-major (B, T, width). */
  data: Partial<Record<TapName, Arr>>;
  /** The (B, T) step mask the layer saw (1 = valid), or null. */
  mask: Uint8Array | null;
}

/**
 * Where a layer's tap of `n` elements goes: an array of exactly n elements the caller owns (the gradient
 * pool's shared result arrays, engine/pool-place.ts), or null for a new array.
 */
export type TapPlacer = (
  layer: string,
  direction: 'forward' | 'backward' | null,
  name: TapName,
  n: number,
) => Arr | null;

export interface TapSink {
  record(t: LayerTaps): void;
  place?: TapPlacer;
}

export class TapStore implements TapSink {
  readonly layers: LayerTaps[] = [];
  constructor(readonly place?: TapPlacer) {}
  record(t: LayerTaps): void {
    this.layers.push(t);
  }
  get(layer: string, direction: 'forward' | 'backward' | null = null): LayerTaps | undefined {
    return this.layers.find((l) => l.layer === layer && l.direction === direction);
  }
}
