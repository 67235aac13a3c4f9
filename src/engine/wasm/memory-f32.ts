// The memory side of the wasm kernels (kernels-wasm.ts): the arena of blocks inside one
// WebAssembly memory, arrays handed out in it (allocF32), growth, and the scratch block the products
// copy operands into. The products (kernels-wasm-products.ts) extend this class.

import type { Arr } from '../tensor.js';
import { Arena } from './arena.js';
import { PAGE } from './loader.js';

export class WasmMemoryF32 {
  protected heap: Float32Array;
  /** Every ArrayBuffer object seen for this memory (a shared one gets new objects after growth). */
  private readonly buffers = new Set<ArrayBufferLike>();
  protected readonly arena: Arena;
  /** Ordinary arrays handed out by allocF32 when the memory is unshared. */
  private readonly outside = new WeakSet<Float32Array>();
  private scratch = 0;
  private scratchBytes = 0;

  constructor(
    readonly memory: WebAssembly.Memory,
    readonly sharedMemory: boolean,
  ) {
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
  protected scratchPtr(bytes: number): number {
    if (bytes > this.scratchBytes) {
      if (this.scratchBytes > 0) this.arena.free(this.scratch);
      this.scratchBytes = Math.max(bytes, Math.ceil(this.scratchBytes * 1.5));
      this.scratch = this.arena.alloc(this.scratchBytes);
    }
    return this.scratch;
  }
}

export function align(bytes: number): number {
  return (bytes + 63) & ~63;
}
