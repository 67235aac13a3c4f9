// The numeric kernels every layer uses, behind one narrow BLAS-like interface, and the
// reference implementation in plain JavaScript. A leaf: faster implementations
// (kernels-wasm.ts) import it to fall back on; kernels.ts picks the one a run uses.
//
// Everything is row-major. gemm computes
//     C[m×n] = beta·C + op(A)·op(B),  op(X) = X or Xᵀ
// where A is m×k (or k×m when transA) with leading dimension lda, etc.
// beta is 0 (overwrite) or 1 (accumulate).

import type { Arr } from './tensor.js';

export interface Kernels {
  readonly name: string;
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
