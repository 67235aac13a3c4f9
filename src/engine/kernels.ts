// Which kernels a run uses. A run (lossAndGrads, analyze, train) takes its kernels from its options
// or, when none are given, from `kernels()` once at its start, and passes that same set to every
// layer (Ctx.kernels) and every analysis product; nothing below the entry points calls `kernels()`.
// The interface and the JavaScript reference live in kernels-js.ts, the SIMD WebAssembly set in
// kernels-wasm.ts; both are leaves of this module.

import { createWasmKernels } from './kernels-wasm.js';
import { jsKernels, type Kernels } from './kernels-js.js';

export { jsKernels, type Kernels };

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
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[
    'RNNSCOPE_KERNELS'
  ];
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
