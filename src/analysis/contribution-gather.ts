// The per-step contributions' operands of several batches (contributions.ts), gathered step by step
// into one operand of all their samples, so that each C_t takes one product over all of them.
// Each batch's weight s is folded into its δ rows (and the cell's own right operand) unless all
// batches share one, which then stays the operand's own scale (the products are then exact float32
// reorderings of the per-batch ones).

import type { Arr } from '../engine/tensor.js';
import type { Contributions, Operands } from './contributions.js';

export interface Gathered {
  /** One step of all samples, (B, 1, ·): use with `one` (the contributions with T = 1) at t = 0. */
  op: Operands;
  one: Contributions;
  /** Fills op with step t of every batch. */
  step(t: number): void;
}

export function gatherer(c: Contributions, ops: readonly Operands[]): Gathered {
  const { T, I, U, G } = c,
    GU = G * U;
  const first = ops[0]!;
  const same = ops.every((o) => o.scale === first.scale);
  const B = ops.reduce((n, o) => n + o.B, 0);
  const like = (n: number): Arr => (first.delta instanceof Float32Array ? new Float32Array(n) : new Float64Array(n));
  const g: Operands = {
    B,
    scale: same ? first.scale : 1,
    x: like(B * I),
    hp: like(B * U),
    delta: like(B * GU),
    rRight: first.rRight ? like(B * U) : null,
    rLeft: first.rLeft ? like(B * U) : null,
  };
  const put = (dst: Arr, src: Arr, row: number, at: number, n: number, s: number): void => {
    if (s === 1) dst.set(src.subarray(at * n, (at + 1) * n), row * n);
    else for (let i = 0; i < n; i++) dst[row * n + i] = src[at * n + i]! * s;
  };
  const step = (t: number): void => {
    let row = 0;
    for (const o of ops) {
      const s = same ? 1 : o.scale;
      for (let b = 0; b < o.B; b++, row++) {
        const at = b * T + t;
        put(g.x, o.x, row, at, I, 1);
        put(g.hp, o.hp, row, at, U, 1);
        put(g.delta, o.delta, row, at, GU, s);
        if (g.rRight) put(g.rRight, o.rRight!, row, at, U, s);
        if (g.rLeft) put(g.rLeft, o.rLeft!, row, at, U, 1);
      }
    }
  };
  return { op: g, one: { ...c, T: 1 }, step };
}
