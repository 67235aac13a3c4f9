// The numeric kernels every layer uses, behind one narrow BLAS-like interface
// so that a faster implementation (SIMD WebAssembly, threads) can replace the
// reference one without touching layer code. Layers call `kernels().gemm`.
//
// Everything is row-major. gemm computes
//     C[m×n] = beta·C + op(A)·op(B),  op(X) = X or Xᵀ
// where A is m×k (or k×m when transA) with leading dimension lda, etc.
// beta is 0 (overwrite) or 1 (accumulate).

import { createWasmKernels } from './kernels-wasm.js';
import type { Arr } from './tensor.js';

export interface Kernels {
  readonly name: string;
  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    A: Arr, aOff: number, lda: number,
    B: Arr, bOff: number, ldb: number,
    beta: 0 | 1, C: Arr, cOff: number, ldc: number,
  ): void;
}

/**
 * Reference kernels in plain JavaScript. Loop orders are chosen so the inner
 * loop walks contiguous memory (i-p-j for A·B and Aᵀ·B, dot products for A·Bᵀ).
 * A·Bᵀ sums in a float64 register and rounds once; the others accumulate in C
 * (one rounding per add in float32, as a float32 BLAS does).
 */
export const jsKernels: Kernels = {
  name: 'js',
  gemm(transA, transB, m, n, k, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc) {
    if (beta === 0) for (let i = 0; i < m; i++) C.fill(0, cOff + i * ldc, cOff + i * ldc + n);
    if (!transB) {
      for (let i = 0; i < m; i++) {
        const ci = cOff + i * ldc;
        for (let p = 0; p < k; p++) {
          const a = transA ? A[aOff + p * lda + i] : A[aOff + i * lda + p];
          if (a === 0) continue;
          const bp = bOff + p * ldb;
          for (let j = 0; j < n; j++) C[ci + j] += a * B[bp + j];
        }
      }
    } else {
      for (let i = 0; i < m; i++) {
        const ci = cOff + i * ldc;
        for (let j = 0; j < n; j++) {
          const bj = bOff + j * ldb;
          let s = 0;
          if (transA) for (let p = 0; p < k; p++) s += A[aOff + p * lda + i] * B[bj + p];
          else {
            const ai = aOff + i * lda;
            for (let p = 0; p < k; p++) s += A[ai + p] * B[bj + p];
          }
          C[ci + j] += s;
        }
      }
    }
  },
};

let active: Kernels | null = null;

/**
 * The kernels in use: the SIMD WebAssembly ones (kernels-wasm.ts) where the runtime has WebAssembly
 * SIMD, else the JavaScript reference. RNNSCOPE_KERNELS=js|wasm (environment, when there is one)
 * forces a choice, e.g. to run the oracle tests against each variant.
 */
export function kernels(): Kernels {
  return (active ??= defaultKernels());
}

function defaultKernels(): Kernels {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['RNNSCOPE_KERNELS'];
  if (env === 'js') return jsKernels;
  try {
    return createWasmKernels();
  } catch (e) {
    if (env === 'wasm') throw e;
    return jsKernels;
  }
}

/** Replace the kernels (e.g. with the WebAssembly ones); returns the previous set. */
export function setKernels(k: Kernels): Kernels {
  const prev = kernels();
  active = k;
  return prev;
}
