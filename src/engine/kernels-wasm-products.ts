// The products of the wasm kernels (kernels-wasm.ts): gemm on arrays (copied into wasm memory when
// they live outside it), packed B (packB/gemmPacked), gemm on addresses (gemmAt) and the fused
// cell-step modules on the same memory. Memory and arena: wasm/memory-f32.ts.

import { jsKernels } from './kernels-js.js';
import type { Blocking, PackedB, WasmKernels, WasmKernelStats } from './kernels-wasm.js';
import type { Arr } from './tensor.js';
import { align, WasmMemoryF32 } from './wasm/memory-f32.js';
import { instantiateCells, type CellExports, type GemmExports } from './wasm/loader.js';

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

export class WasmKernelsImpl extends WasmMemoryF32 implements WasmKernels {
  readonly name: string;
  readonly stats: WasmKernelStats = { wasmCalls: 0, jsCalls: 0, bytesCopiedIn: 0, bytesCopiedOut: 0 };

  constructor(
    private readonly wasm: GemmExports,
    memory: WebAssembly.Memory,
    readonly relaxedSimd: boolean,
    sharedMemory: boolean,
    public blocking: Blocking,
  ) {
    super(memory, sharedMemory);
    this.name = relaxedSimd ? 'wasm-relaxed-simd' : 'wasm-simd';
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
