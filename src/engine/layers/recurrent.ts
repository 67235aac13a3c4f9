// The sequence loop shared by SimpleRNN, LSTM and GRU (Keras RNN layer, keras-formats.md §4.6–4.7).
//
// Forward:  P = X·K (+ input bias), one product for all steps; then for k = 0..T−1 the cell step
//           on x at t = goBackwards ? T−1−k : k; masked samples carry their state (Keras semantics).
//           Outputs in PROCESSING order (Keras returns go_backwards sequences un-reversed).
// Backward: mirror image, k = T−1..0; masked samples pass ∂L/∂h straight to the previous step;
//           after the loop dK = Xᵀ·dP and dX = dP·Kᵀ are again one product each.
// Taps (taps.ts) are written in INPUT order t, also for go_backwards.

import type { RecurrentSpec } from '../../model/types.js';
import type { Ctx } from '../layer.js';
import { alloc, type Arr, type Mask, type Tensor } from '../tensor.js';
import type { LayerTaps, TapName } from '../taps.js';
import { newSeqBuffers, type Cell, type CellParams, type SeqBuffers } from './cell.js';
import { gruCell } from './gru.js';
import { lstmCell } from './lstm.js';
import { simpleRnnCell } from './simple-rnn.js';

export function makeCell(spec: RecurrentSpec): Cell {
  switch (spec.kind) {
    case 'LSTM': return lstmCell(spec);
    case 'GRU': return gruCell(spec);
    case 'SimpleRNN': return simpleRnnCell(spec);
  }
}

export interface SeqCache {
  spec: RecurrentSpec;
  cell: Cell;
  p: CellParams;
  bufs: SeqBuffers;
  /** Input, time-major (T, B, I). */
  Xtm: Arr;
  mask: Mask | null;
  name: string;
  direction: 'forward' | 'backward' | null;
}

export interface SeqOutputs {
  /** (B, T, U) in processing order when return_sequences, else (B, U). */
  y: Tensor;
  /** Final states [h] or [h, c], each (B, U). */
  states: Tensor[];
  cache: SeqCache;
}

const stepOf = (spec: RecurrentSpec, T: number, k: number): number => (spec.goBackwards ? T - 1 - k : k);

export function seqForward(ctx: Ctx, spec: RecurrentSpec, params: Tensor[], x: Tensor, mask: Mask | null,
  name: string, direction: 'forward' | 'backward' | null, initialStates?: Tensor[]): SeqOutputs {
  const [B, T, I] = x.shape as [number, number, number];
  const U = spec.units;
  const cell = makeCell(spec);
  const G = cell.G, GU = G * U;
  const p: CellParams = { K: params[0]!.data, R: params[1]!.data, b: spec.useBias ? params[2]!.data : null };
  const s = newSeqBuffers(ctx.dtype, spec, cell, B, T);
  // Keras: zero initial state unless initial_state is given (stateful layers start from zero here too).
  if (initialStates?.[0]) s.H.set(initialStates[0].data);
  if (cell.hasC && initialStates?.[1]) s.C.set(initialStates[1].data);
  const Xtm = alloc(ctx.dtype, T * B * I);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) Xtm.set(x.data.subarray((b * T + t) * I, (b * T + t + 1) * I), (t * B + b) * I);
  ctx.kernels.gemm(false, false, T * B, GU, I, Xtm, 0, I, p.K, 0, GU, 0, s.P, 0, GU);
  const ib = cell.inputBias(p);
  if (ib) for (let r = 0; r < T * B; r++) for (let j = 0; j < GU; j++) s.P[r * GU + j] += ib[j]!;

  for (let k = 0; k < T; k++) {
    const t = stepOf(spec, T, k);
    cell.forwardStep(ctx.kernels, p, s, k, t);
    if (mask) {
      for (let b = 0; b < B; b++) {
        if (mask.data[b * T + t]) continue;
        s.H.copyWithin((k + 1) * B * U + b * U, k * B * U + b * U, k * B * U + (b + 1) * U);
        if (cell.hasC) s.C.copyWithin((k + 1) * B * U + b * U, k * B * U + b * U, k * B * U + (b + 1) * U);
      }
    }
  }

  let y: Tensor;
  if (spec.returnSequences) {
    const Y = alloc(ctx.dtype, B * T * U);
    for (let k = 0; k < T; k++) {
      const t = stepOf(spec, T, k);
      for (let b = 0; b < B; b++) {
        if (mask && spec.zeroOutputForMask && !mask.data[b * T + t]) continue;
        Y.set(s.H.subarray((k + 1) * B * U + b * U, (k + 1) * B * U + (b + 1) * U), (b * T + k) * U);
      }
    }
    y = { shape: [B, T, U], data: Y };
  } else {
    y = { shape: [B, U], data: s.H.slice(T * B * U, (T + 1) * B * U) };
  }
  const states: Tensor[] = [{ shape: [B, U], data: s.H.slice(T * B * U, (T + 1) * B * U) }];
  if (cell.hasC) states.push({ shape: [B, U], data: s.C.slice(T * B * U, (T + 1) * B * U) });
  return { y, states, cache: { spec, cell, p, bufs: s, Xtm, mask, name, direction } };
}

/**
 * Backward through the sequence. dY matches `y` (or null), dStates matches `states` (entries may be null).
 * Accumulates into dParams ([dK, dR, db?]) and returns ∂L/∂x (B, T, I). If `dInit` is given, the
 * gradients of the initial states ([h0] or [h0, c0]) are written into it.
 */
export function seqBackward(ctx: Ctx, c: SeqCache, dY: Tensor | null, dStates: (Tensor | null)[], dParams: Tensor[], dInit?: Tensor[]): Tensor {
  const { spec, cell, p, bufs: s, mask } = c;
  const { B, T, U, I } = s;
  const GU = cell.G * U;
  const dt = ctx.dtype;
  const g = { dK: dParams[0]!.data, dR: dParams[1]!.data, db: spec.useBias ? dParams[2]!.data : null };
  const dh = alloc(dt, B * U), dc = alloc(dt, B * U), dZ = alloc(dt, B * GU), tmp = alloc(dt, B * U);
  const bs = { dh, dc, dZ, tmp };
  const holdH = mask ? alloc(dt, B * U) : null, holdC = mask && cell.hasC ? alloc(dt, B * U) : null;
  const dP = alloc(dt, T * B * GU);
  if (dStates[0]) dh.set(dStates[0].data);
  if (cell.hasC && dStates[1]) dc.set(dStates[1].data);
  if (dY && !spec.returnSequences) for (let i = 0; i < B * U; i++) dh[i] += dY.data[i]!;

  const taps = ctx.taps;
  const want = (n: TapName): boolean => !!taps && !!taps[n];
  const tap: Partial<Record<TapName, Arr>> = {};
  if (want('dh')) tap.dh = alloc(dt, B * T * U);
  if (want('dc') && cell.hasC) tap.dc = alloc(dt, B * T * U);
  if (want('gateGrad')) tap.gateGrad = alloc(dt, B * T * GU);

  for (let k = T - 1; k >= 0; k--) {
    const t = stepOf(spec, T, k);
    if (dY && spec.returnSequences) {
      for (let b = 0; b < B; b++) {
        if (mask && spec.zeroOutputForMask && !mask.data[b * T + t]) continue;
        const o = (b * T + k) * U;
        for (let u = 0; u < U; u++) dh[b * U + u] += dY.data[o + u]!;
      }
    }
    if (tap.dh) for (let b = 0; b < B; b++) tap.dh.set(dh.subarray(b * U, (b + 1) * U), (b * T + t) * U);
    if (tap.dc) for (let b = 0; b < B; b++) tap.dc.set(dc.subarray(b * U, (b + 1) * U), (b * T + t) * U);
    if (mask) {
      // Masked samples skip the cell: hold their gradient aside, run the cell on zeros for them.
      for (let b = 0; b < B; b++) {
        if (mask.data[b * T + t]) continue;
        holdH!.set(dh.subarray(b * U, (b + 1) * U), b * U);
        dh.fill(0, b * U, (b + 1) * U);
        if (holdC) { holdC.set(dc.subarray(b * U, (b + 1) * U), b * U); dc.fill(0, b * U, (b + 1) * U); }
      }
    }
    cell.backwardStep(ctx.kernels, p, g, s, bs, k);
    if (mask) {
      for (let b = 0; b < B; b++) {
        if (mask.data[b * T + t]) continue;
        dh.set(holdH!.subarray(b * U, (b + 1) * U), b * U);
        if (holdC) dc.set(holdC.subarray(b * U, (b + 1) * U), b * U);
      }
    }
    dP.set(dZ, t * B * GU);
    if (tap.gateGrad) for (let b = 0; b < B; b++) tap.gateGrad.set(dZ.subarray(b * GU, (b + 1) * GU), (b * T + t) * GU);
  }

  if (dInit) {
    dInit[0] = { shape: [B, U], data: dh };
    if (cell.hasC) dInit[1] = { shape: [B, U], data: dc };
  }
  ctx.kernels.gemm(true, false, I, GU, T * B, c.Xtm, 0, I, dP, 0, GU, 1, g.dK, 0, GU);
  const dXtm = alloc(dt, T * B * I);
  ctx.kernels.gemm(false, true, T * B, I, GU, dP, 0, GU, p.K, 0, GU, 0, dXtm, 0, I);
  const dX = alloc(dt, B * T * I);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) dX.set(dXtm.subarray((t * B + b) * I, (t * B + b + 1) * I), (b * T + t) * I);

  if (taps) recordTaps(ctx, c, tap, dX);
  return { shape: [B, T, I], data: dX };
}

/** Forward-side taps (gates, hPrev, x, S) in input order, then hand everything to the sink. */
function recordTaps(ctx: Ctx, c: SeqCache, tap: Partial<Record<TapName, Arr>>, dX: Arr): void {
  const { spec, cell, bufs: s } = c;
  const { B, T, U, I } = s;
  const GU = cell.G * U, dt = ctx.dtype, want = ctx.taps!;
  if (want.dx) tap.dx = dX;
  if (want.gates) tap.gates = alloc(dt, B * T * GU);
  if (want.hPrev) tap.hPrev = alloc(dt, B * T * U);
  if (want.cPrev && cell.hasC) tap.cPrev = alloc(dt, B * T * U);
  if (want.c && cell.hasC) tap.c = alloc(dt, B * T * U);
  if (want.z) tap.z = alloc(dt, B * T * GU);
  if (want.rh && s.S.length && spec.kind === 'GRU') tap.rh = alloc(dt, B * T * U);
  if (want.x) tap.x = alloc(dt, B * T * I);
  for (let k = 0; k < T; k++) {
    const t = stepOf(spec, T, k);
    for (let b = 0; b < B; b++) {
      const bt = b * T + t;
      if (tap.gates) tap.gates.set(s.A.subarray((k * B + b) * GU, (k * B + b + 1) * GU), bt * GU);
      if (tap.z) tap.z.set(s.Z.subarray((k * B + b) * GU, (k * B + b + 1) * GU), bt * GU);
      if (tap.c) tap.c.set(s.C.subarray(((k + 1) * B + b) * U, ((k + 1) * B + b + 1) * U), bt * U);
      if (tap.hPrev) tap.hPrev.set(s.H.subarray((k * B + b) * U, (k * B + b + 1) * U), bt * U);
      if (tap.cPrev) tap.cPrev.set(s.C.subarray((k * B + b) * U, (k * B + b + 1) * U), bt * U);
      if (tap.rh) tap.rh.set(s.S.subarray((k * B + b) * U, (k * B + b + 1) * U), bt * U);
      if (tap.x) tap.x.set(c.Xtm.subarray((t * B + b) * I, (t * B + b + 1) * I), bt * I);
    }
  }
  const rec: LayerTaps = {
    layer: c.name, direction: c.direction, kind: spec.kind,
    batch: B, steps: T, units: U, inputDim: I, data: tap,
    mask: c.mask ? c.mask.data : null,
  };
  ctx.sink.record(rec);
}
