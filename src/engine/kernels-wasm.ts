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

import { jsKernels, type Kernels } from './kernels-js.js';
import type { Arr } from './tensor.js';
import { Arena } from './wasm/arena.js';
import { instantiate, instantiateCells, PAGE, type CellExports, type GemmExports } from './wasm/loader.js';

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

class PackedBImpl implements PackedB {
  constructor(
    readonly owner: WasmKernels,
    public ptr: number,
    readonly k: number,
    readonly n: number,
  ) {}
}

/** A float64 "packed" B: a compact copy of the stored matrix, for the JavaScript kernels. */
class JsPackedB implements PackedB {
  constructor(
    readonly owner: WasmKernels,
    public data: Arr | null,
    readonly transB: boolean,
    readonly k: number,
    readonly n: number,
  ) {}
}

/** Operands whose stored span is at most this many times their payload are copied as one span. */
const SPAN_SLACK = 4;

/** Builds the WebAssembly kernels; throws when the runtime lacks SIMD128 (or relaxed SIMD, if asked for). */
export function createWasmKernels(opts: WasmKernelsOptions = {}): WasmKernels {
  const { exports, memory, relaxed, shared } = instantiate(opts.relaxed ?? 'auto', opts.shared ?? 'auto');
  return new WasmKernelsImpl(exports, memory, relaxed, shared, { ...DEFAULT_BLOCKING, ...opts.blocking });
}

class WasmKernelsImpl implements WasmKernels {
  readonly name: string;
  readonly stats: WasmKernelStats = { wasmCalls: 0, jsCalls: 0, bytesCopiedIn: 0, bytesCopiedOut: 0 };
  private heap: Float32Array;
  /** Every ArrayBuffer object seen for this memory (a shared one gets new objects after growth). */
  private readonly buffers = new Set<ArrayBufferLike>();
  private readonly arena: Arena;
  /** Ordinary arrays handed out by allocF32 when the memory is unshared. */
  private readonly outside = new WeakSet<Float32Array>();
  private scratch = 0;
  private scratchBytes = 0;

  constructor(
    private readonly wasm: GemmExports,
    readonly memory: WebAssembly.Memory,
    readonly relaxedSimd: boolean,
    readonly sharedMemory: boolean,
    public blocking: Blocking,
  ) {
    this.name = relaxedSimd ? 'wasm-relaxed-simd' : 'wasm-simd';
    this.heap = new Float32Array(memory.buffer);
    this.buffers.add(memory.buffer);
    // The module has no static data (checked by the build), so all of memory is ours.
    this.arena = new Arena(0, (end) => this.ensureBytes(end));
  }

  get inPlace(): boolean {
    return this.sharedMemory;
  }

  get liveBytes(): number {
    return this.arena.liveBytes;
  }

  private ensureBytes(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    // Grow by at least half the current size so that growth (and, for shared
    // memories, a new buffer object) happens O(log size) times.
    const need = Math.ceil((end - have) / PAGE);
    const pages = Math.max(need, Math.ceil(have / PAGE / 2));
    try {
      this.memory.grow(pages);
    } catch {
      try {
        this.memory.grow(need); // the generous step may pass the maximum where the exact one does not
      } catch {
        throw new RangeError(
          `wasm kernels: memory cannot grow to ${Math.ceil(end / 2 ** 20)} MiB (it has ${have / 2 ** 20} MiB); free arrays or packed matrices no longer needed, or use smaller batches.`,
        );
      }
    }
    // An unshared memory detaches its old buffer on growth: only the new one is ours.
    if (!this.sharedMemory) this.buffers.clear();
    this.buffers.add(this.memory.buffer);
    this.heap = new Float32Array(this.memory.buffer);
  }

  owns(a: Arr): boolean {
    if (this.buffers.has(a.buffer)) return true;
    // V8 replaces a shared memory's buffer object some time after a growth
    // (when the isolate handles the grow broadcast), at an unchanged length,
    // so identity with an earlier memory.buffer proves nothing: remember every
    // object seen. An array not recognised is merely copied, never misread.
    const current = this.memory.buffer;
    if (a.buffer !== current) return false;
    this.buffers.add(current);
    return true;
  }

  allocF32(n: number, zero = true): Float32Array {
    if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`allocF32: size ${n} is not a non-negative integer.`);
    if (!this.sharedMemory) {
      // Views of an unshared memory die when it grows: hand out an ordinary array.
      const a = new Float32Array(n);
      this.outside.add(a);
      return a;
    }
    const ptr = this.arena.alloc(n * 4);
    const a = new Float32Array(this.memory.buffer, ptr, n);
    // Views of `a` (subarrays) share this buffer object, whatever V8 does to memory.buffer later.
    this.buffers.add(a.buffer);
    if (zero) a.fill(0);
    return a;
  }

  free(a: Float32Array): void {
    if (this.outside.delete(a)) return;
    // A subarray starting at the block would pass the offset test; its size gives it away.
    if (!this.owns(a) || this.arena.sizeOf(a.byteOffset) !== align(Math.max(a.byteLength, 1))) {
      throw new Error('free: this array was not allocated by these kernels (allocF32), or was already freed.');
    }
    this.arena.free(a.byteOffset);
  }

  /** The scratch block (copies and packing buffers) holds at least `bytes`. */
  private scratchPtr(bytes: number): number {
    if (bytes > this.scratchBytes) {
      if (this.scratchBytes > 0) this.arena.free(this.scratch);
      this.scratchBytes = Math.max(bytes, Math.ceil(this.scratchBytes * 1.5));
      this.scratch = this.arena.alloc(this.scratchBytes);
    }
    return this.scratch;
  }

  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    A: Arr,
    aOff: number,
    lda: number,
    B: Arr,
    bOff: number,
    ldb: number,
    beta: 0 | 1,
    C: Arr,
    cOff: number,
    ldc: number,
  ): void {
    if (!(A instanceof Float32Array && B instanceof Float32Array && C instanceof Float32Array)) {
      this.stats.jsCalls++;
      jsKernels.gemm(transA, transB, m, n, k, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc);
      return;
    }
    this.run(transA, transB, m, n, k, A, aOff, lda, B, bOff, ldb, 0, beta, C, cOff, ldc);
  }

  packB(transB: boolean, k: number, n: number, B: Arr, bOff: number, ldb: number): PackedB {
    const rows = transB ? n : k,
      cols = transB ? k : n;
    const bSpan = span(rows, cols, ldb, bOff, B.length, 'B');
    if (!(B instanceof Float32Array)) {
      const data = new Float64Array(rows * cols);
      for (let i = 0; i < rows; i++) data.set(B.subarray(bOff + i * ldb, bOff + i * ldb + cols), i * cols);
      return new JsPackedB(this, data, transB, k, n);
    }
    const bytes = this.wasm.packedBBytes(k, n);
    const ptr = this.arena.alloc(bytes);
    let src = B.byteOffset + 4 * bOff,
      ld = ldb;
    if (!this.owns(B)) {
      const compact = bSpan > SPAN_SLACK * rows * cols;
      src = this.scratchPtr(align(4 * (compact ? rows * cols : bSpan)));
      ld = compact ? cols : ldb;
      this.copyIn(B, bOff, rows, cols, ldb, compact, bSpan, this.heap, src);
    }
    this.wasm.packB(transB ? 1 : 0, k, n, src, ld, ptr);
    return new PackedBImpl(this, ptr, k, n);
  }

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
  ): void {
    if (!this.livePacked(B)) {
      throw new Error('gemmPacked: B was not packed by these kernels, or was freed; use packB() of the same kernels.');
    }
    if (B.k !== k || B.n !== n)
      throw new RangeError(`gemmPacked: B was packed as ${B.k}×${B.n}; this product needs ${k}×${n} (k×n).`);
    if (B instanceof JsPackedB) {
      this.stats.jsCalls++;
      jsKernels.gemm(transA, B.transB, m, n, k, A, aOff, lda, B.data!, 0, B.transB ? k : n, beta, C, cOff, ldc);
      return;
    }
    if (!(A instanceof Float32Array && C instanceof Float32Array)) {
      throw new TypeError(
        'gemmPacked: B was packed from a Float32Array, so A and C must be Float32Arrays too; pack a Float64Array B for float64 products.',
      );
    }
    this.run(transA, false, m, n, k, A, aOff, lda, null, 0, 0, (B as PackedBImpl).ptr, beta, C, cOff, ldc);
  }

  freePacked(B: PackedB): void {
    if (!this.livePacked(B)) throw new Error('freePacked: B was not packed by these kernels, or was already freed.');
    if (B instanceof JsPackedB) B.data = null;
    else {
      this.arena.free((B as PackedBImpl).ptr);
      (B as PackedBImpl).ptr = -1;
    }
  }

  packedAddress(B: PackedB): number {
    return B instanceof PackedBImpl && this.livePacked(B) ? B.ptr : -1;
  }

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
  ): void {
    if (m <= 0 || n <= 0) return;
    this.stats.wasmCalls++;
    const { mc, kc, nc } = this.blocking;
    const work = this.scratchPtr(align(this.wasm.workBytes(m, n, k, mc, kc, nc)));
    this.wasm.gemm(
      transA ? 1 : 0,
      transB ? 1 : 0,
      m,
      n,
      k,
      a,
      lda,
      b,
      ldb,
      bPacked ? 1 : 0,
      beta,
      c,
      ldc,
      work,
      mc,
      kc,
      nc,
    );
  }

  private cellsInstance: CellExports | null | undefined;
  cellKernels(): CellExports | null {
    if (this.cellsInstance === undefined) this.cellsInstance = instantiateCells(this.memory, this.sharedMemory);
    return this.cellsInstance;
  }

  private livePacked(B: PackedB): boolean {
    if (B instanceof PackedBImpl) return B.owner === this && B.ptr >= 0;
    return B instanceof JsPackedB && B.owner === this && B.data !== null;
  }

  /** gemm on float32 operands; B is either an array or (B null) the packed panels at packedPtr. */
  private run(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    A: Float32Array,
    aOff: number,
    lda: number,
    B: Float32Array | null,
    bOff: number,
    ldb: number,
    packedPtr: number,
    beta: 0 | 1,
    C: Float32Array,
    cOff: number,
    ldc: number,
  ): void {
    if (m <= 0 || n <= 0) return;
    this.stats.wasmCalls++;
    const aRows = transA ? k : m,
      aCols = transA ? m : k;
    const bRows = transB ? n : k,
      bCols = transB ? k : n;
    const aSpan = span(aRows, aCols, lda, aOff, A.length, 'A');
    const bSpan = B ? span(bRows, bCols, ldb, bOff, B.length, 'B') : 0;
    span(m, n, ldc, cOff, C.length, 'C');
    const ownA = this.owns(A),
      ownB = !B || this.owns(B),
      ownC = this.owns(C);
    // Operands with large gaps between rows are copied row by row, compactly.
    const aCompact = !ownA && aSpan > SPAN_SLACK * aRows * aCols;
    const bCompact = !ownB && bSpan > SPAN_SLACK * bRows * bCols;
    const { mc, kc, nc } = this.blocking;
    const work = align(this.wasm.workBytes(m, n, k, mc, kc, nc));
    const aBytes = ownA ? 0 : align(4 * (aCompact ? aRows * aCols : aSpan));
    const bBytes = ownB ? 0 : align(4 * (bCompact ? bRows * bCols : bSpan));
    const cBytes = ownC ? 0 : align(4 * m * n);
    const base = this.scratchPtr(work + aBytes + bBytes + cBytes);
    // scratchPtr may have grown the memory: read the heap view only after it.
    const heap = this.heap;
    let pA = A.byteOffset + 4 * aOff,
      pB = B ? B.byteOffset + 4 * bOff : packedPtr,
      pC = C.byteOffset + 4 * cOff;
    let la = lda,
      lb = ldb,
      lc = ldc;
    let p = base + work;
    if (!ownA) {
      pA = p;
      la = aCompact ? aCols : lda;
      this.copyIn(A, aOff, aRows, aCols, lda, aCompact, aSpan, heap, p);
      p += aBytes;
    }
    if (!ownB && B) {
      pB = p;
      lb = bCompact ? bCols : ldb;
      this.copyIn(B, bOff, bRows, bCols, ldb, bCompact, bSpan, heap, p);
      p += bBytes;
    }
    if (!ownC) {
      // C goes in compact (ld = n) so that copying back never rewrites the
      // caller's gaps between rows.
      pC = p;
      lc = n;
      if (beta !== 0) this.copyIn(C, cOff, m, n, ldc, ldc !== n, 0, heap, p);
    }
    this.wasm.gemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, pA, la, pB, lb, B ? 0 : 1, beta, pC, lc, base, mc, kc, nc);
    if (!ownC) {
      const h = pC >>> 2; // unsigned: addresses reach 4 GiB
      if (ldc === n) C.set(heap.subarray(h, h + m * n), cOff);
      else for (let i = 0; i < m; i++) C.set(heap.subarray(h + i * n, h + i * n + n), cOff + i * ldc);
      this.stats.bytesCopiedOut += 4 * m * n;
    }
  }

  /**
   * Copies a rows×cols operand (leading dimension ld) to byte address `dst`:
   * the whole span at once (one memcpy; gaps included) or, when `compact`,
   * row by row with leading dimension cols. TypedArray.set on a subarray is
   * a memcpy; the subarray view is one small allocation per copy (per row
   * when compact), never per element.
   */
  private copyIn(
    X: Float32Array,
    off: number,
    rows: number,
    cols: number,
    ld: number,
    compact: boolean,
    spanLen: number,
    heap: Float32Array,
    dst: number,
  ): void {
    const h = dst >>> 2;
    if (rows === 0 || cols === 0) return;
    if (!compact) {
      const len = spanLen || (rows - 1) * ld + cols;
      heap.set(X.subarray(off, off + len), h);
      this.stats.bytesCopiedIn += 4 * len;
      return;
    }
    for (let i = 0; i < rows; i++) heap.set(X.subarray(off + i * ld, off + i * ld + cols), h + i * cols);
    this.stats.bytesCopiedIn += 4 * rows * cols;
  }
}

function align(bytes: number): number {
  return (bytes + 63) & ~63;
}

/** Elements from the first to one past the last element of a rows×cols operand; checks bounds. */
function span(rows: number, cols: number, ld: number, off: number, length: number, what: string): number {
  if (rows === 0 || cols === 0) return 0;
  if (ld < cols)
    throw new RangeError(`gemm: leading dimension of ${what} is ${ld}; expected at least ${cols} (its stored width).`);
  const s = (rows - 1) * ld + cols;
  if (off < 0 || off + s > length) {
    throw new RangeError(
      `gemm: ${what} needs elements [${off}, ${off + s}) (${rows}×${cols}, ld ${ld}); the array has ${length}. Check the offset and leading dimension.`,
    );
  }
  return s;
}
