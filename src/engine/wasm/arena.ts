// First-fit allocator of byte ranges inside one WebAssembly memory. Pure
// bookkeeping (it never touches the bytes), so it runs in browsers and is
// tested on its own. The engine's working arrays are few and large (per-layer
// caches of T·B·4U floats), so a sorted free list with coalescing is enough:
// no size classes, O(free blocks) per call.

/** Every block starts on a cache line, so SIMD loads of a block never split lines needlessly. */
export const ALIGN = 64;

export class Arena {
  /** Free blocks, sorted by start, never adjacent (coalesced). */
  private readonly freeStart: number[] = [];
  private readonly freeSize: number[] = [];
  /** Live blocks: start → size in bytes. */
  private readonly live = new Map<number, number>();
  private top: number;

  /**
   * @param base first usable byte
   * @param ensureEnd makes the memory at least `end` bytes long (grows it);
   *   throws when it cannot.
   */
  constructor(
    base: number,
    private readonly ensureEnd: (end: number) => void,
  ) {
    this.top = roundUp(base, ALIGN);
  }

  /** Reserves `bytes` bytes and returns the start (ALIGN-aligned). */
  alloc(bytes: number): number {
    const size = roundUp(Math.max(bytes, 1), ALIGN);
    for (let i = 0; i < this.freeStart.length; i++) {
      if (this.freeSize[i] < size) continue;
      const start = this.freeStart[i];
      if (this.freeSize[i] === size) {
        this.freeStart.splice(i, 1);
        this.freeSize.splice(i, 1);
      } else {
        this.freeStart[i] += size;
        this.freeSize[i] -= size;
      }
      this.live.set(start, size);
      return start;
    }
    // No free block fits: take from the top, absorbing a free block that ends there.
    let start = this.top;
    const last = this.freeStart.length - 1;
    if (last >= 0 && this.freeStart[last] + this.freeSize[last] === this.top) {
      start = this.freeStart[last];
      this.freeStart.pop();
      this.freeSize.pop();
    }
    this.ensureEnd(start + size);
    this.top = start + size;
    this.live.set(start, size);
    return start;
  }

  /** Returns a block obtained from alloc(). */
  free(start: number): void {
    const size = this.live.get(start);
    if (size === undefined)
      throw new Error(`Arena.free: ${start} is not the start of a live block; pass exactly what alloc() returned.`);
    this.live.delete(start);
    let lo = 0,
      hi = this.freeStart.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.freeStart[mid] < start) lo = mid + 1;
      else hi = mid;
    }
    let s = start,
      z = size;
    // Merge with the following free block, then with the preceding one.
    if (lo < this.freeStart.length && s + z === this.freeStart[lo]) {
      z += this.freeSize[lo];
      this.freeStart.splice(lo, 1);
      this.freeSize.splice(lo, 1);
    }
    if (lo > 0 && this.freeStart[lo - 1] + this.freeSize[lo - 1] === s) {
      this.freeSize[lo - 1] += z;
      return;
    }
    this.freeStart.splice(lo, 0, s);
    this.freeSize.splice(lo, 0, z);
  }

  /** Size in bytes of the live block at `start`, or undefined. */
  sizeOf(start: number): number | undefined {
    return this.live.get(start);
  }

  /** Bytes in live blocks. */
  get liveBytes(): number {
    let n = 0;
    for (const z of this.live.values()) n += z;
    return n;
  }

  /** One past the highest byte ever handed out. */
  get end(): number {
    return this.top;
  }
}

function roundUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}
