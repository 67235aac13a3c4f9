// Feature detection, memory creation and instantiation of the gemm modules
// (gemm.wasm.ts, generated from gemm.as). Browser-safe: no node:* imports,
// the bytes are embedded, so nothing is fetched.

import * as gruBins from './cells-gru.wasm.js';
import * as lstmBins from './cells-lstm.wasm.js';
import * as bins from './gemm.wasm.js';

/** Bytes in a WebAssembly page. */
export const PAGE = 65536;

/** The exports of gemm.as; pointers in bytes, leading dimensions in elements. */
export interface GemmExports {
  gemm(
    transA: number,
    transB: number,
    m: number,
    n: number,
    k: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    bPacked: number,
    beta: number,
    c: number,
    ldc: number,
    work: number,
    mc: number,
    kc: number,
    nc: number,
  ): void;
  packB(transB: number, k: number, n: number, b: number, ldb: number, dst: number): void;
  packedBBytes(k: number, n: number): number;
  workBytes(m: number, n: number, k: number, mc: number, kc: number, nc: number): number;
}

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Whether this runtime runs the SIMD128 module (every current browser, Node ≥ 16). */
export function wasmSimdSupported(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(decode(bins.GEMM_SIMD));
}

/** Whether relaxed SIMD validates (Chromium ≥ 114, Node ≥ 22; Node 20 only with --experimental-wasm-relaxed-simd). */
export function relaxedSimdSupported(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(decode(bins.GEMM_RELAXED));
}

function createMemory(shared: boolean): WebAssembly.Memory {
  // The modules declare a maximum, and an imported memory must declare one within it.
  if (!shared) return new WebAssembly.Memory({ initial: 16, maximum: bins.MAX_PAGES });
  // A shared memory reserves its maximum (address space only) up front: try
  // 4 GiB, then less for 32-bit hosts.
  let err: unknown;
  for (const maximum of [bins.MAX_PAGES, 16384, 4096]) {
    try {
      return new WebAssembly.Memory({ initial: 16, maximum, shared: true });
    } catch (e) {
      err = e;
    }
  }
  throw err;
}

/** SharedArrayBuffer exists (in browsers: only on cross-origin isolated pages) and a shared memory can be made. */
function sharedAvailable(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  try {
    createMemory(true);
    return true;
  } catch {
    return false;
  }
}

/**
 * Compiles and instantiates the module variant asked for. The modules are
 * < 4 KiB (checked by the build), so synchronous compilation is allowed even
 * on a browser's main thread.
 */
export function instantiate(
  relaxedOpt: boolean | 'auto',
  sharedOpt: boolean | 'auto',
): { exports: GemmExports; memory: WebAssembly.Memory; relaxed: boolean; shared: boolean } {
  const relaxed = relaxedOpt === 'auto' ? relaxedSimdSupported() : relaxedOpt;
  const shared = sharedOpt === 'auto' ? sharedAvailable() : sharedOpt;
  const b64 = relaxed
    ? shared
      ? bins.GEMM_RELAXED_SHARED
      : bins.GEMM_RELAXED
    : shared
      ? bins.GEMM_SIMD_SHARED
      : bins.GEMM_SIMD;
  const bytes = decode(b64);
  if (!WebAssembly.validate(bytes)) {
    throw new Error(
      `WebAssembly ${relaxed ? 'relaxed SIMD' : 'SIMD128'} is not supported by this runtime; use the JavaScript kernels (jsKernels)${relaxed ? " or relaxed: 'auto'" : ''}.`,
    );
  }
  const memory = createMemory(shared);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  return { exports: instance.exports as unknown as GemmExports, memory, relaxed, shared };
}

/** The exports of cells-lstm.as and cells-gru.as (the fused cell steps); pointers in bytes. */
export interface CellExports {
  act(which: number, x: number, y: number, n: number): void;
  lstmFwd(B: number, U: number, z: number, a: number, cp: number, cn: number, s: number, hn: number): void;
  lstmBwd(B: number, U: number, a: number, cp: number, s: number, dh: number, dc: number, dz: number): void;
  rnnFwd(n: number, z: number, a: number, hn: number): void;
  rnnBwd(n: number, a: number, dh: number, dz: number): void;
  gruFwd(
    B: number,
    U: number,
    phase: number,
    p: number,
    rs: number,
    bh: number,
    z: number,
    a: number,
    s: number,
    hp: number,
    hn: number,
  ): void;
  gruBwd(
    B: number,
    U: number,
    phase: number,
    a: number,
    s: number,
    hp: number,
    dh: number,
    dz: number,
    drs: number,
    gb: number,
  ): void;
}

/**
 * The fused cell-step modules on an existing memory (the gemm module's), each < 4 KiB like gemm's
 * (checked by the build), so compiled synchronously anywhere. Null where they cannot be (the
 * sequence loop then keeps the JavaScript cell steps).
 */
export function instantiateCells(memory: WebAssembly.Memory, shared: boolean): CellExports | null {
  try {
    const make = (b64: string) =>
      new WebAssembly.Instance(new WebAssembly.Module(decode(b64)), { env: { memory } }).exports;
    const lstm = make(shared ? lstmBins.CELLS_LSTM_SIMD_SHARED : lstmBins.CELLS_LSTM_SIMD);
    const gru = make(shared ? gruBins.CELLS_GRU_SIMD_SHARED : gruBins.CELLS_GRU_SIMD);
    return { ...lstm, ...gru } as unknown as CellExports;
  } catch {
    return null;
  }
}
