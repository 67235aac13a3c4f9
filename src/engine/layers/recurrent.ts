// The sequence loop shared by every recurrent cell (Keras RNN layer; the cells are in ../cells/).
//
// Forward:  P = X·K (+ input bias), one product per segment of steps (cuDNN style: only the
//           recurrent product is per step); then for k = 0..T−1 the cell step on x at
//           t = goBackwards ? T−1−k : k; masked samples carry their state (Keras semantics).
//           Outputs in PROCESSING order (Keras returns go_backwards sequences un-reversed).
// Backward: mirror image, k = T−1..0; masked samples pass ∂L/∂h straight to the previous step;
//           per segment dK += Xᵀ·dP and dX = dP·Kᵀ are again one product each.
// Memory (speed/space trade): when the per-step buffers of the whole sequence would exceed
// SEGMENT_BUDGET bytes, the sequence is cut into segments of ~√T steps; forward keeps only the
// states at segment boundaries and backward recomputes each segment's forward pass before
// backpropagating through it (gradient checkpointing: one extra forward pass, O(√T) memory).
// Taps (taps.ts) are written during backward, in INPUT order t, also for go_backwards.
// Fused path (recurrent-fused.ts): with the wasm kernels, float32 and a cell with a wasm step, the
// buffers live in wasm memory and each step is one packed product plus one cells-*.as kernel.

import type { RecurrentSpec } from '../../model/types.js';
import type { Ctx } from '../layer.js';
import { alloc, copyTo, type Arr, type Mask, type Tensor } from '../tensor.js';
import type { LayerTaps, TapName } from '../taps.js';
import { cellOf } from '../cells/index.js';
import { newSeqBuffers } from '../cells/common.js';
import type { CellGrads, CellParams, CellStep, SeqBuffers } from '../cells/types.js';
import {
  fusedBackward,
  fusedBuffers,
  fusedFor,
  fusedForward,
  fusedSegmentGrads,
  type Fused,
} from './recurrent-fused.js';

/** Bytes of per-step buffers above which the loop checkpoints (see the header). */
export let SEGMENT_BUDGET = 256 * 1024 * 1024;
export function setSegmentBudget(bytes: number): void {
  SEGMENT_BUDGET = bytes;
}

export function makeCell(spec: RecurrentSpec): CellStep {
  return cellOf(spec.kind).step(spec);
}

/** The layer's parameter tensors (Keras weight order, as the cell lists them) by role. */
function cellParams(spec: RecurrentSpec, params: Tensor[]): CellParams {
  const p: CellParams = { K: null!, R: null!, b: null, extra: {} };
  cellOf(spec.kind)
    .params(spec)
    .forEach((d, i) => {
      const a = params[i]!.data;
      if (d.name === 'kernel') p.K = a;
      else if (d.name === 'recurrent_kernel') p.R = a;
      else if (d.name === 'bias') p.b = a;
      else p.extra[d.name] = a;
    });
  return p;
}

function cellGrads(spec: RecurrentSpec, dParams: Tensor[]): CellGrads {
  const p = cellParams(spec, dParams);
  return { dK: p.K, dR: p.R, db: p.b, dExtra: p.extra };
}

export interface SeqCache {
  spec: RecurrentSpec;
  cell: CellStep;
  p: CellParams;
  /** Buffers of one segment (the whole sequence when seg === T). */
  bufs: SeqBuffers;
  /** Segment length in steps. */
  seg: number;
  T: number;
  /** Input in processing order, time-major (T, B, I). */
  Xp: Arr;
  /** States at segment boundaries ((nSeg+1), B, U). */
  Hb: Arr;
  Cb: Arr;
  mask: Mask | null;
  /** The fused wasm step, or null (the cell's JavaScript step). */
  fused: Fused | null;
  name: string;
  direction: 'forward' | 'backward' | null;
  /** The input's shape, and one sample's state shape ([U], or ConvLSTM's (…outSpatial, filters)). */
  xShape: number[];
  stateShape: number[];
}

export interface SeqOutputs {
  /** (B, T, U) in processing order when return_sequences, else (B, U). */
  y: Tensor;
  /** Final states [h] or [h, c], each (B, U). */
  states: Tensor[];
  cache: SeqCache;
}

const stepOf = (spec: RecurrentSpec, T: number, k: number): number => (spec.goBackwards ? T - 1 - k : k);

/** Runs steps [k0, k0+n) of the sequence into the segment buffers, starting from the states in H[0] (and C[0]). */
function runSegment(ctx: Ctx, c: SeqCache, k0: number, n: number): void {
  const { spec, cell, p, bufs: s, mask, T } = c;
  const { B, U, I } = s,
    GU = cell.G * U;
  const ib = cell.inputBias(p);
  if (c.fused) {
    // P = bias rows (copied by doubling), then P += X·K in the product (the wasm gemm adds each
    // depth block's sum once: the same rounding as adding the bias after, for inputs up to kc = 256 wide).
    const P = s.P,
      m = n * B * GU;
    if (ib) {
      P.set(ib);
      for (let w = GU; w < m; w *= 2) P.copyWithin(w, 0, Math.min(w, m - w));
    }
    ctx.kernels.gemm(false, false, n * B, GU, I, c.Xp, k0 * B * I, I, p.K, 0, GU, ib ? 1 : 0, P, 0, GU);
  } else {
    if (cell.project) cell.project(ctx.kernels, p, c.Xp, k0 * B * I, n * B, s.P);
    else ctx.kernels.gemm(false, false, n * B, GU, I, c.Xp, k0 * B * I, I, p.K, 0, GU, 0, s.P, 0, GU);
    if (ib) for (let r = 0; r < n * B; r++) for (let j = 0; j < GU; j++) s.P[r * GU + j] += ib[j]!;
  }
  for (let k = 0; k < n; k++) {
    if (c.fused) fusedForward(c.fused, s, k);
    else cell.forwardStep(ctx.kernels, p, s, k, k);
    if (!mask) continue;
    const t = stepOf(spec, T, k0 + k);
    for (let b = 0; b < B; b++) {
      if (mask.data[b * T + t]) continue;
      s.H.copyWithin((k + 1) * B * U + b * U, k * B * U + b * U, k * B * U + (b + 1) * U);
      if (cell.hasC) s.C.copyWithin((k + 1) * B * U + b * U, k * B * U + b * U, k * B * U + (b + 1) * U);
    }
  }
}

export function seqForward(
  ctx: Ctx,
  spec: RecurrentSpec,
  params: Tensor[],
  x: Tensor,
  mask: Mask | null,
  name: string,
  direction: 'forward' | 'backward' | null,
  initialStates?: Tensor[],
): SeqOutputs {
  // A ConvLSTM's frames (B, T, …spatial, C) are rows of I = their size; its outputs keep the spatial axes.
  const [B, T] = x.shape as [number, number];
  const I = x.shape.slice(2).reduce((a, d) => a * d, 1);
  const U = spec.units;
  const cell = makeCell(spec);
  const GU = cell.G * U;
  const bytes = ctx.dtype === 'float32' ? 4 : 8;
  const perStep = B * (3 * GU + 3 * U) * bytes;
  const seg =
    perStep * T <= SEGMENT_BUDGET
      ? T
      : Math.max(1, Math.min(T, Math.ceil(Math.sqrt(T)), Math.floor(SEGMENT_BUDGET / perStep)));
  const nSeg = Math.ceil(T / seg);
  const p = cellParams(spec, params);
  const fused = fusedFor(ctx, spec, p, B, seg);
  const s = fused
    ? fusedBuffers(fused, spec, cell.G, cell.hasC, cell.sWidth, B, seg)
    : newSeqBuffers(ctx.dtype, spec, cell, B, seg);
  const Xp = fused ? fused.alloc(T * B * I, false) : alloc(ctx.dtype, T * B * I);
  for (let k = 0; k < T; k++) {
    const t = stepOf(spec, T, k);
    for (let b = 0; b < B; b++) copyTo(Xp, (k * B + b) * I, x.data, (b * T + t) * I, I);
  }
  const c: SeqCache = {
    spec,
    cell,
    p,
    bufs: s,
    seg,
    T,
    Xp,
    mask,
    fused,
    name,
    direction,
    xShape: [...x.shape],
    stateShape: spec.conv ? [...spec.conv.outSpatial, spec.conv.filters] : [U],
    Hb: alloc(ctx.dtype, (nSeg + 1) * B * U),
    Cb: alloc(ctx.dtype, cell.hasC ? (nSeg + 1) * B * U : 0),
  };
  // Keras: zero initial state unless initial_state is given (stateful layers start from zero here too).
  if (initialStates?.[0]) c.Hb.set(initialStates[0].data);
  if (cell.hasC && initialStates?.[1]) c.Cb.set(initialStates[1].data);
  const Y = spec.returnSequences ? alloc(ctx.dtype, B * T * U) : null;
  for (let j = 0; j < nSeg; j++) {
    const k0 = j * seg,
      n = Math.min(seg, T - k0);
    s.H.set(c.Hb.subarray(j * B * U, (j + 1) * B * U));
    if (cell.hasC) s.C.set(c.Cb.subarray(j * B * U, (j + 1) * B * U));
    runSegment(ctx, c, k0, n);
    c.Hb.set(s.H.subarray(n * B * U, (n + 1) * B * U), (j + 1) * B * U);
    if (cell.hasC) c.Cb.set(s.C.subarray(n * B * U, (n + 1) * B * U), (j + 1) * B * U);
    if (Y) {
      for (let k = 0; k < n; k++) {
        const t = stepOf(spec, T, k0 + k);
        for (let b = 0; b < B; b++) {
          if (mask && spec.zeroOutputForMask && !mask.data[b * T + t]) continue;
          copyTo(Y, (b * T + k0 + k) * U, s.H, (k + 1) * B * U + b * U, U);
        }
      }
    }
  }
  const last = (buf: Arr): Arr => buf.slice(nSeg * B * U, (nSeg + 1) * B * U);
  const st = c.stateShape;
  const y: Tensor = Y ? { shape: [B, T, ...st], data: Y } : { shape: [B, ...st], data: last(c.Hb) };
  const states: Tensor[] = [{ shape: [B, ...st], data: last(c.Hb) }];
  if (cell.hasC) states.push({ shape: [B, ...st], data: last(c.Cb) });
  return { y, states, cache: c };
}

/**
 * Backward through the sequence. dY matches `y` (or null), dStates matches `states` (entries may be null).
 * Accumulates into dParams ([dK, dR, db?]) and returns ∂L/∂x (B, T, I). If `dInit` is given, the
 * gradients of the initial states ([h0] or [h0, c0]) are written into it.
 */
export function seqBackward(
  ctx: Ctx,
  c: SeqCache,
  dY: Tensor | null,
  dStates: (Tensor | null)[],
  dParams: Tensor[],
  dInit?: Tensor[],
): Tensor {
  const { spec, cell, p, bufs: s, mask, T, seg, fused } = c;
  const { B, U, I } = s;
  const GU = cell.G * U;
  const dt = ctx.dtype;
  // Fused: the buffers the wasm kernels read and write live in wasm memory.
  const mk = (n: number, zero = true): Arr => (fused ? fused.alloc(n, zero) : alloc(dt, n));
  const nSeg = Math.ceil(T / seg);
  const g = cellGrads(spec, dParams);
  const dh = mk(B * U),
    dc = mk(B * U),
    dZ = alloc(dt, B * GU),
    tmp = alloc(dt, B * U);
  const bs = { dh, dc, dZ, tmp };
  const holdH = mask ? alloc(dt, B * U) : null,
    holdC = mask && cell.hasC ? alloc(dt, B * U) : null;
  // Written whole per segment (every gate's dz at every step; dXp by a product) before any read.
  const dP = mk(seg * B * GU, false),
    dXp = mk(seg * B * I, false);
  const dX = alloc(dt, B * T * I);
  if (dStates[0]) dh.set(dStates[0].data);
  if (cell.hasC && dStates[1]) dc.set(dStates[1].data);
  if (dY && !spec.returnSequences) for (let i = 0; i < B * U; i++) dh[i] += dY.data[i]!;
  const tap = ctx.taps ? newTaps(ctx, c) : null;

  for (let j = nSeg - 1; j >= 0; j--) {
    const k0 = j * seg,
      n = Math.min(seg, T - k0);
    if (nSeg > 1) {
      // Checkpointing: recompute this segment's forward pass from its boundary state.
      s.H.set(c.Hb.subarray(j * B * U, (j + 1) * B * U));
      if (cell.hasC) s.C.set(c.Cb.subarray(j * B * U, (j + 1) * B * U));
      runSegment(ctx, c, k0, n);
    }
    for (let k = n - 1; k >= 0; k--) {
      const t = stepOf(spec, T, k0 + k);
      if (dY && spec.returnSequences) {
        for (let b = 0; b < B; b++) {
          if (mask && spec.zeroOutputForMask && !mask.data[b * T + t]) continue;
          const o = (b * T + k0 + k) * U;
          for (let u = 0; u < U; u++) dh[b * U + u] += dY.data[o + u]!;
        }
      }
      if (tap?.dh) for (let b = 0; b < B; b++) blit(tap.dh, (b * T + t) * U, dh, b * U, U);
      if (tap?.dc) {
        // Total ∂L/∂c_t (c_t also feeds h_t); a masked step carried c, and h does not depend on it there.
        for (let b = 0; b < B; b++) {
          if (mask && !mask.data[b * T + t]) copyTo(tap.dc, (b * T + t) * U, dc, b * U, U);
          else cell.totalDc!(p, s, bs, k, b, tap.dc, (b * T + t) * U);
        }
      }
      if (mask) {
        // Masked samples skip the cell: hold their gradient aside, run the cell on zeros for them.
        for (let b = 0; b < B; b++) {
          if (mask.data[b * T + t]) continue;
          copyTo(holdH!, b * U, dh, b * U, U);
          dh.fill(0, b * U, (b + 1) * U);
          if (holdC) {
            copyTo(holdC, b * U, dc, b * U, U);
            dc.fill(0, b * U, (b + 1) * U);
          }
        }
      }
      if (fused) fusedBackward(fused, s, dh, dc, dP, k);
      else cell.backwardStep(ctx.kernels, p, g, s, bs, k);
      if (mask) {
        for (let b = 0; b < B; b++) {
          if (mask.data[b * T + t]) continue;
          copyTo(dh, b * U, holdH!, b * U, U);
          if (holdC) copyTo(dc, b * U, holdC, b * U, U);
        }
      }
      if (!fused) dP.set(dZ, k * B * GU);
      if (tap) recordStep(c, tap, k, k0 + k, t, dP);
    }
    if (fused) fusedSegmentGrads(fused, s, dP, n, g.dR, g.db);
    if (cell.projectBack) cell.projectBack(ctx.kernels, p, c.Xp, k0 * B * I, n * B, dP, g.dK, dXp);
    else {
      ctx.kernels.gemm(true, false, I, GU, n * B, c.Xp, k0 * B * I, I, dP, 0, GU, 1, g.dK, 0, GU);
      ctx.kernels.gemm(false, true, n * B, I, GU, dP, 0, GU, p.K, 0, GU, 0, dXp, 0, I);
    }
    for (let k = 0; k < n; k++) {
      const t = stepOf(spec, T, k0 + k);
      for (let b = 0; b < B; b++) blit(dX, (b * T + t) * I, dXp, (k * B + b) * I, I);
    }
  }
  if (dInit) {
    // Copies out of wasm memory (released when the run returns).
    dInit[0] = { shape: [B, ...c.stateShape], data: fused ? dh.slice() : dh };
    if (cell.hasC) dInit[1] = { shape: [B, ...c.stateShape], data: fused ? dc.slice() : dc };
  }
  if (tap) {
    if (ctx.taps!.dx) tap.dx = dX;
    ctx.sink.record({
      layer: c.name,
      direction: c.direction,
      kind: spec.kind,
      batch: B,
      steps: T,
      units: U,
      inputDim: I,
      data: tap,
      mask: mask ? mask.data : null,
    } satisfies LayerTaps);
  }
  return { shape: [...c.xShape], data: dX };
}

function newTaps(ctx: Ctx, c: SeqCache): Partial<Record<TapName, Arr>> {
  const { cell, bufs: s, T } = c;
  const { B, U, I } = s,
    GU = cell.G * U,
    dt = ctx.dtype,
    want = ctx.taps!;
  const tap: Partial<Record<TapName, Arr>> = {};
  const mk = (n: TapName, w: number, ok = true): void => {
    if (want[n] && ok) tap[n] = ctx.sink.place?.(c.name, c.direction, n, B * T * w) ?? alloc(dt, B * T * w);
  };
  mk('dh', U);
  mk('dc', U, cell.hasC);
  mk('gateGrad', GU);
  mk('gates', GU);
  mk('z', GU);
  mk('hPrev', U);
  mk('cPrev', U, cell.hasC);
  mk('c', U, cell.hasC);
  mk('x', I);
  if (cell.sTap) mk(cell.sTap, U);
  return tap;
}

/** Taps of processing step k (segment-local; kg global) at input position t; dP holds the segment's dz. */
function recordStep(c: SeqCache, tap: Partial<Record<TapName, Arr>>, k: number, kg: number, t: number, dP: Arr): void {
  const { cell, bufs: s, T } = c;
  const { B, U, I } = s,
    GU = cell.G * U;
  for (let b = 0; b < B; b++) {
    const bt = b * T + t,
      r = k * B + b;
    if (tap.gateGrad) blit(tap.gateGrad, bt * GU, dP, r * GU, GU);
    if (tap.gates) blit(tap.gates, bt * GU, s.A, r * GU, GU);
    if (tap.z) blit(tap.z, bt * GU, s.Z, r * GU, GU);
    if (tap.hPrev) blit(tap.hPrev, bt * U, s.H, r * U, U);
    if (tap.cPrev) blit(tap.cPrev, bt * U, s.C, r * U, U);
    if (tap.c) blit(tap.c, bt * U, s.C, (r + B) * U, U);
    if (cell.sTap && tap[cell.sTap]) blit(tap[cell.sTap]!, bt * U, s.S, r * U, U);
    if (tap.x) blit(tap.x, bt * I, c.Xp, (kg * B + b) * I, I);
  }
}

/** dst[dOff..dOff+n) = src[sOff..): rows of taps are copied as a memcpy through a view (one small object per call). */
function blit(dst: Arr, dOff: number, src: Arr, sOff: number, n: number): void {
  if (n < 32) copyTo(dst, dOff, src, sOff, n);
  else dst.set(src.subarray(sOff, sOff + n), dOff);
}
