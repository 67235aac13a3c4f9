// SIMD WebAssembly kernels behind the `Kernels` interface of kernels.ts.
//
//   JS caller ──gemm(A, B, C)──▶ operands in wasm memory? ──yes──▶ pointers
//                                       │ no
//                                       ▼
//                      copy span into scratch (memcpy via TypedArray.set)
//                                       ▼
//                 wasm gemm (pack A/B, 2×16 f32x4 micro-kernel, gemm.as)
//                                       ▼
//                          copy C back if it was copied in
//
// Float32Array only; any Float64Array operand goes to the JavaScript
// reference kernels (float64 is for the finite-difference checks).
//
// Two costs besides the arithmetic, both measured with bench/kernels.ts:
// - Copies: for a per-step recurrent product (32×128 · 128×512) B alone is
//   256 KiB per call. Arrays from `allocF32()` live inside the wasm memory, and gemm
//   uses them in place. They stay valid when the memory grows only because
//   the memory is *shared* (a growing SharedArrayBuffer is never detached); with
//   an unshared memory (browsers without cross-origin isolation) allocF32
//   returns ordinary arrays (`inPlace` false), which are copied per call.
// - Packing B: 10–30% of that per-step product. `packB()` packs a matrix
//   used many times once; `gemmPacked()` uses it.
// Who uses what: the sequence loop's fused path (layers/recurrent-fused.ts) keeps its buffers in
// allocF32 arrays for the whole run, packs the recurrent kernel once per sequence (packB) and calls
// gemmAt and the cell-step kernels of cells-*.as (cellKernels) on addresses, so a step copies
// nothing. The analysis's step-Jacobian products (analysis/jacobian.ts) use packB/gemmPacked;
// everything else passes ordinary arrays through `gemm` and is copied per call.
// Here: the interface and createWasmKernels. The products live in kernels-wasm-products.ts, the
// memory (arena, allocF32, growth, scratch) in wasm/memory-f32.ts, instantiation in wasm/loader.ts.

import type { Kernels } from './kernels-js.js';
import { WasmKernelsImpl } from './kernels-wasm-products.js';
import type { Arr } from './tensor.js';
import { instantiate, type CellExports } from './wasm/loader.js';

export { relaxedSimdSupported, wasmSimdSupported } from './wasm/loader.js';
export type { CellExports } from './wasm/loader.js';

/** Cache blocking of the wasm gemm (see gemm.as): rows of A, depth, columns of B per block. */
export interface Blocking {
  mc: number;
  kc: number;
  nc: number;
}

/**
 * kc = 256 keeps a B micro-panel (kc×16 floats, 16 KiB) in a 48 KiB L1 next
 * to the streamed A micro-panels; an A block (mc·kc) and a B block (kc·nc)
 * fit a 1 MiB L2. On Zen 5, V8 11.3, kc 128–512 and mc 64–256 were all within
 * measurement noise of each other (bench/kernels.ts).
 */
export const DEFAULT_BLOCKING: Readonly<Blocking> = { mc: 128, kc: 256, nc: 1024 };

export interface WasmKernelsOptions {
  /** Use relaxed-SIMD FMA: 'auto' (default) when the runtime validates it. */
  relaxed?: boolean | 'auto';
  /** Shared memory (needed for allocF32): 'auto' (default) when SharedArrayBuffer is available. */
  shared?: boolean | 'auto';
  blocking?: Partial<Blocking>;
}

export interface WasmKernelStats {
  wasmCalls: number;
  jsCalls: number;
  bytesCopiedIn: number;
  bytesCopiedOut: number;
}

export interface WasmKernels extends Kernels {
  readonly relaxedSimd: boolean;
  readonly sharedMemory: boolean;
  /** Whether allocF32 returns arrays inside wasm memory (shared memory); else ordinary ones. */
  readonly inPlace: boolean;
  readonly memory: WebAssembly.Memory;
  blocking: Blocking;
  readonly stats: WasmKernelStats;
  /**
   * A zeroed Float32Array of n elements for operands: inside the wasm memory
   * (gemm uses it without copying) when `inPlace`, else an ordinary array.
   * Valid until free(); survives memory growth. `zero` false: the contents are
   * whatever the block held (for buffers the caller overwrites whole).
   */
  allocF32(n: number, zero?: boolean): Float32Array;
  /** Releases an array from allocF32 (the very array, not a subarray). */
  free(a: Float32Array): void;
  /** Whether `a` lies in this kernel's memory (used in place by gemm). */
  owns(a: Arr): boolean;
  /**
   * Packs op(B) (k×n) once into the kernel's memory, for gemmPacked: for a
   * matrix used in many products, such as a recurrent kernel at every step
   * (packing inside each call costs 10–30% of a 32×512×128 product).
   */
  packB(transB: boolean, k: number, n: number, B: Arr, bOff: number, ldb: number): PackedB;
  /**
   * C = beta·C + op(A)·B with B from packB (same k and n). A float64 B was
   * only copied, and the product runs in the JavaScript kernels.
   */
  gemmPacked(
    transA: boolean,
    m: number,
    n: number,
    k: number,
    A: Arr,
    aOff: number,
    lda: number,
    B: PackedB,
    beta: 0 | 1,
    C: Arr,
    cOff: number,
    ldc: number,
  ): void;
  freePacked(B: PackedB): void;
  /** Byte address of a matrix packed from a Float32Array (for gemmAt), else -1. */
  packedAddress(B: PackedB): number;
  /**
   * gemm on byte addresses inside this memory, without checks or copies: for the fused sequence
   * loop (layers/recurrent-fused.ts), whose buffers all come from allocF32. `b` is a packedAddress
   * when bPacked.
   */
  gemmAt(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    bPacked: boolean,
    beta: 0 | 1,
    c: number,
    ldc: number,
  ): void;
  /** The fused cell-step kernels (cells-*.as) on this memory, or null where they cannot be compiled. */
  cellKernels(): CellExports | null;
  /** Bytes in live blocks of this memory (arrays, packed matrices, scratch). */
  readonly liveBytes: number;
}

/** A matrix packed by WasmKernels.packB; a snapshot: later changes to the source are not seen. */
export interface PackedB {
  readonly k: number;
  readonly n: number;
}

/** Builds the WebAssembly kernels; throws when the runtime lacks SIMD128 (or relaxed SIMD, if asked for). */
export function createWasmKernels(opts: WasmKernelsOptions = {}): WasmKernels {
  const { exports, memory, relaxed, shared } = instantiate(opts.relaxed ?? 'auto', opts.shared ?? 'auto');
  return new WasmKernelsImpl(exports, memory, relaxed, shared, { ...DEFAULT_BLOCKING, ...opts.blocking });
}
