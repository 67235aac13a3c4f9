// The kernel sets a page can run on, by name, so that a test (or a person) asks for the same
// set in Node and in the browser:
//   js                 the reference JavaScript kernels (src/engine/kernels.ts)
//   wasm-simd          SIMD128 WebAssembly (src/engine/kernels-wasm.ts), no relaxed SIMD
//   wasm-relaxed-simd  with relaxed-SIMD FMA (Chromium ≥ 114; Node 20 lacks it)
//   wasm               the best this runtime has
// Shared memory (which lets the wasm kernels work in place) needs SharedArrayBuffer: in a
// browser only on a cross-origin-isolated page (COOP/COEP headers).

import { jsKernels, type Kernels } from '../src/engine/kernels.js';
import { createWasmKernels, relaxedSimdSupported, wasmSimdSupported } from '../src/engine/kernels-wasm.js';

export type KernelChoice = 'js' | 'wasm-simd' | 'wasm-relaxed-simd' | 'wasm';

export interface KernelInfo {
  available: KernelChoice[];
  crossOriginIsolated: boolean;
  sharedArrayBuffer: boolean;
}

export function kernelInfo(): KernelInfo {
  const available: KernelChoice[] = ['js'];
  if (wasmSimdSupported()) available.push('wasm-simd', 'wasm');
  if (relaxedSimdSupported()) available.push('wasm-relaxed-simd');
  const g = globalThis as { crossOriginIsolated?: boolean };
  return {
    available,
    crossOriginIsolated: g.crossOriginIsolated ?? false,
    sharedArrayBuffer: typeof SharedArrayBuffer !== 'undefined',
  };
}

const made = new Map<KernelChoice, Kernels>();

/** The kernel set named `choice` (made once per runtime); throws when the runtime lacks it. */
export function makeKernels(choice: KernelChoice): Kernels {
  let k = made.get(choice);
  if (!k) {
    k =
      choice === 'js'
        ? jsKernels
        : choice === 'wasm-simd'
          ? createWasmKernels({ relaxed: false })
          : choice === 'wasm-relaxed-simd'
            ? createWasmKernels({ relaxed: true })
            : createWasmKernels();
    made.set(choice, k);
  }
  return k;
}

/** Name and memory mode of a kernel set, for display. */
export function describeKernels(k: Kernels): string {
  const w = k as Partial<{ sharedMemory: boolean }>;
  return w.sharedMemory === undefined ? k.name : `${k.name} (${w.sharedMemory ? 'shared' : 'unshared'} memory)`;
}
