// The sequence loop's fused WebAssembly path (recurrent.ts decides when it applies):
//
//   per sequence: the sequence buffers (inputs, P, Z, gates, states, S, dP, …) come from the
//                 kernels' allocF32 (inside wasm memory); R and Rᵀ are packed once
//   per step:     forward  Z[k] (+)= h_{k}·R (packed) ─► cells-*.as step kernel: gates, c, h into the buffers
//                 backward cells-*.as kernel: dz ─► dP[k] (and GRU's recurrent-side dRS[k]); dh = dz·Rᵀ
//   per segment:  dR += Hᵀ·dP (GRU: Hᵀ·dRS, (r⊙h)ᵀ·dP_h), db += Σ dP: one product each, not one per step
//
// Nothing is copied into or out of wasm memory per step and nothing is allocated per step; the
// JavaScript parts of the loop (masking, taps, dY) read the same buffers through typed-array views.
// The buffers live as long as the entry point's run: run.ts opens a scope (openSeqScope) and
// releases it when the run returns, after everything handed back has been copied out.
// Applies when the run is float32, its kernels are the wasm ones with shared memory (so views
// survive memory growth), the cell definition names a wasmStep for the spec, and cells-*.as compiled.

import type { RecurrentSpec } from '../../model/types.js';
import type { CellExports, PackedB, WasmKernels } from '../kernels-wasm.js';
import type { Ctx } from '../layer.js';
import type { Arr } from '../tensor.js';
import { cellOf } from '../cells/index.js';
import type { CellParams, SeqBuffers, WasmStepKind } from '../cells/types.js';

interface Scope {
  kern: WasmKernels;
  arrays: Float32Array[];
  packed: PackedB[];
}

const scopes = new WeakMap<Ctx, Scope>();

/** Lets the recurrent layers of this run use the fused path; returns the release of its buffers. */
export function openSeqScope(ctx: Ctx): () => void {
  const k = ctx.kernels as Partial<WasmKernels>;
  if (ctx.dtype !== 'float32' || typeof k.cellKernels !== 'function' || !k.inPlace) return () => {};
  const scope: Scope = { kern: k as WasmKernels, arrays: [], packed: [] };
  scopes.set(ctx, scope);
  return () => {
    scopes.delete(ctx);
    for (const a of scope.arrays) scope.kern.free(a);
    for (const p of scope.packed) scope.kern.freePacked(p);
    scope.arrays.length = 0;
    scope.packed.length = 0;
  };
}

/** The fused step of one sequence: its kernels, packed recurrent matrices and scratch. */
export interface Fused {
  kind: WasmStepKind;
  kern: WasmKernels;
  cx: CellExports;
  /** A zeroed array in wasm memory for this run; `zero` false for buffers written whole before any read. */
  alloc(n: number, zero?: boolean): Float32Array;
  /** Packed addresses: R (U×GU) and Rᵀ; GRU reset_before: R_zr, R_h and their transposes instead. */
  r: number;
  rT: number;
  rh: number;
  rhT: number;
  /** Recurrent bias row (GRU reset_after), address or 0. */
  bh: number;
  /** B×GU scratch: the recurrent product (GRU), and B×U for g = da·R_hᵀ (GRU reset_before). */
  rs: Float32Array;
  g: Float32Array;
  /** Recurrent-side gradient of the segment (GRU), seg·B·GU (after) or seg·B·U (before). */
  dRS: Float32Array;
  /** A row of ones for the bias gradients' column sums (grown on demand). */
  ones: Float32Array;
}

/** The fused path for this layer in this run, or null (JavaScript cell steps). */
export function fusedFor(ctx: Ctx, spec: RecurrentSpec, p: CellParams, B: number, seg: number): Fused | null {
  const scope = scopes.get(ctx);
  const kind = scope ? (cellOf(spec.kind).wasmStep?.(spec) ?? null) : null;
  if (!scope || !kind || !(p.R instanceof Float32Array)) return null;
  const cx = scope.kern.cellKernels();
  if (!cx) return null;
  const kern = scope.kern,
    U = spec.units;
  const alloc = (n: number, zero = true): Float32Array => {
    const a = kern.allocF32(n, zero);
    scope.arrays.push(a);
    return a;
  };
  const pack = (trans: boolean, k: number, n: number, off: number): number => {
    const pb = kern.packB(trans, k, n, p.R, off, p.R.length / U);
    scope.packed.push(pb);
    return kern.packedAddress(pb);
  };
  const GU = p.R.length / U;
  const before = kind === 'gru-before';
  const f: Fused = {
    kind,
    kern,
    cx,
    alloc,
    r: before ? pack(false, U, 2 * U, 0) : pack(false, U, GU, 0),
    rT: before ? pack(true, 2 * U, U, 0) : pack(true, GU, U, 0),
    rh: before ? pack(false, U, U, 2 * U) : 0,
    rhT: before ? pack(true, U, U, 2 * U) : 0,
    bh: 0,
    rs: alloc(kind.startsWith('gru') ? B * GU : 0, false),
    g: alloc(before ? B * U : 0, false),
    dRS: alloc(kind === 'gru-after' ? seg * B * GU : before ? seg * B * U : 0, false),
    ones: alloc(0),
  };
  if (kind === 'gru-after' && p.b) {
    const bh = alloc(GU);
    bh.set(p.b.subarray(GU, 2 * GU));
    f.bh = bh.byteOffset;
  }
  return f;
}

/**
 * Sequence buffers of one segment inside wasm memory (Z is P itself where the step adds into it), not
 * zeroed: every step writes its slots whole (H[0] and C[0] come from the segment's boundary state).
 */
export function fusedBuffers(
  f: Fused,
  spec: RecurrentSpec,
  G: number,
  hasC: boolean,
  sWidth: number,
  B: number,
  T: number,
): SeqBuffers {
  const U = spec.units,
    I = spec.inputDim,
    n = T * B * G * U;
  const P = f.alloc(n, false);
  return {
    B,
    T,
    U,
    I,
    G,
    P,
    Z: f.kind.startsWith('gru') ? f.alloc(n, false) : P,
    A: f.alloc(n, false),
    H: f.alloc((T + 1) * B * U, false),
    C: f.alloc(hasC ? (T + 1) * B * U : 0, false),
    S: f.alloc(sWidth ? T * B * U : 0, false),
  };
}

const at = (a: Arr, off: number): number => a.byteOffset + 4 * off;

/** Forward step k of the segment (processing order; P[k] is this step's input projection). */
export function fusedForward(f: Fused, s: SeqBuffers, k: number): void {
  const { B, U, G } = s,
    GU = G * U,
    { kern, cx } = f;
  const zo = k * B * GU,
    ho = k * B * U,
    hn = ho + B * U;
  const { Z, A, H, C, S, P } = s;
  switch (f.kind) {
    case 'lstm':
      kern.gemmAt(false, false, B, GU, U, at(H, ho), U, f.r, 0, true, 1, at(Z, zo), GU);
      cx.lstmFwd(B, U, at(Z, zo), at(A, zo), at(C, ho), at(C, hn), at(S, ho), at(H, hn));
      break;
    case 'simple-rnn':
      kern.gemmAt(false, false, B, U, U, at(H, ho), U, f.r, 0, true, 1, at(Z, zo), U);
      cx.rnnFwd(B * U, at(Z, zo), at(A, zo), at(H, hn));
      break;
    case 'gru-after':
      kern.gemmAt(false, false, B, GU, U, at(H, ho), U, f.r, 0, true, 0, f.rs.byteOffset, GU);
      cx.gruFwd(B, U, 0, at(P, zo), f.rs.byteOffset, f.bh, at(Z, zo), at(A, zo), at(S, ho), at(H, ho), at(H, hn));
      break;
    case 'gru-before':
      kern.gemmAt(false, false, B, 2 * U, U, at(H, ho), U, f.r, 0, true, 0, f.rs.byteOffset, GU);
      cx.gruFwd(B, U, 1, at(P, zo), f.rs.byteOffset, 0, at(Z, zo), at(A, zo), 0, at(H, ho), at(H, hn));
      kern.gemmAt(false, false, B, U, U, at(f.rs, 2 * U), GU, f.rh, 0, true, 1, at(Z, zo + 2 * U), GU);
      cx.gruFwd(B, U, 2, 0, f.rs.byteOffset, 0, at(Z, zo), at(A, zo), 0, at(H, ho), at(H, hn));
      break;
  }
}

/** Backward through step k: dz into dP[k] (and dRS[k]), dc updated, dh ← ∂L/∂h_{k−1}. */
export function fusedBackward(f: Fused, s: SeqBuffers, dh: Arr, dc: Arr, dP: Arr, k: number): void {
  const { B, U, G } = s,
    GU = G * U,
    { kern, cx } = f;
  const zo = k * B * GU,
    ho = k * B * U;
  const { A, H, C, S } = s;
  switch (f.kind) {
    case 'lstm':
      cx.lstmBwd(B, U, at(A, zo), at(C, ho), at(S, ho), dh.byteOffset, dc.byteOffset, at(dP, zo));
      kern.gemmAt(false, false, B, U, GU, at(dP, zo), GU, f.rT, 0, true, 0, dh.byteOffset, U);
      break;
    case 'simple-rnn':
      cx.rnnBwd(B * U, at(A, zo), dh.byteOffset, at(dP, zo));
      kern.gemmAt(false, false, B, U, U, at(dP, zo), U, f.rT, 0, true, 0, dh.byteOffset, U);
      break;
    case 'gru-after':
      cx.gruBwd(B, U, 0, at(A, zo), at(S, ho), at(H, ho), dh.byteOffset, at(dP, zo), at(f.dRS, zo), 0);
      kern.gemmAt(false, false, B, U, GU, at(f.dRS, zo), GU, f.rT, 0, true, 1, dh.byteOffset, U);
      break;
    case 'gru-before':
      cx.gruBwd(B, U, 1, at(A, zo), 0, at(H, ho), dh.byteOffset, at(dP, zo), 0, 0);
      kern.gemmAt(false, false, B, U, U, at(dP, zo + 2 * U), GU, f.rhT, 0, true, 0, f.g.byteOffset, U);
      cx.gruBwd(B, U, 2, at(A, zo), 0, at(H, ho), dh.byteOffset, at(dP, zo), at(f.dRS, ho), f.g.byteOffset);
      kern.gemmAt(false, false, B, U, 2 * U, at(dP, zo), GU, f.rT, 0, true, 1, dh.byteOffset, U);
      break;
  }
}

/**
 * The segment's recurrent weight and bias gradients, once per segment of n steps: dR += Hᵀ·dP
 * (GRU reset_after: Hᵀ·dRS; reset_before: Hᵀ·dP_zr and (r⊙h)ᵀ·dP_h), db += Σ_rows dP (+ Σ dRS).
 */
export function fusedSegmentGrads(f: Fused, s: SeqBuffers, dP: Arr, n: number, dR: Arr, db: Arr | null): void {
  const { B, U, G, H } = s,
    GU = G * U,
    m = n * B,
    kern = f.kern;
  if (f.kind === 'gru-after') kern.gemm(true, false, U, GU, m, H, 0, U, f.dRS, 0, GU, 1, dR, 0, GU);
  else if (f.kind === 'gru-before') {
    kern.gemm(true, false, U, 2 * U, m, H, 0, U, dP, 0, GU, 1, dR, 0, GU);
    kern.gemm(true, false, U, U, m, f.dRS, 0, U, dP, 2 * U, GU, 1, dR, 2 * U, GU);
  } else kern.gemm(true, false, U, GU, m, H, 0, U, dP, 0, GU, 1, dR, 0, GU);
  if (!db) return;
  // Column sums as a product with a row of ones (float32 accumulation, as the JavaScript steps' db).
  if (f.ones.length < m) {
    f.ones = f.alloc(m);
    f.ones.fill(1);
  }
  kern.gemm(false, false, 1, GU, m, f.ones, 0, m, dP, 0, GU, 1, db, 0, GU);
  if (f.kind === 'gru-after') kern.gemm(false, false, 1, GU, m, f.ones, 0, m, f.dRS, 0, GU, 1, db, GU, GU);
}
