// The timing rule every bench child follows (torch_bench.py mirrors it in Python).
//
// Warm-up: runs until WARM_S seconds have passed (at least one run). One run is not enough
// here: V8 starts WebAssembly in its baseline compiler and re-optimises hot JavaScript while it
// runs, and on W the first five or six gradients take 2.5× to 1.1× the steady time.
// Timed: up to `repeats` runs, fewer (at least one) when they would exceed `budget` seconds at
// the pace of the last warm-up run. Browser-safe (used by browser-entry.ts).

/** Seconds of warm-up runs before timing. */
export const WARM_S = 5;

/** Median; the mean of the middle two for an even count. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b),
    n = s.length;
  return n % 2 ? s[n >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

export interface Timed {
  /** Seconds of the very first run (what a one-shot command pays). */
  first: number;
  warmupRuns: number;
  times: number[];
  median: number;
}

export async function timeRuns(
  run: () => void | Promise<void>,
  repeats: number,
  budget: number,
  stopAfterFirst?: (first: number) => boolean,
): Promise<Timed> {
  const start = performance.now();
  let first = 0,
    last = 0,
    warmupRuns = 0;
  do {
    const t0 = performance.now();
    await run();
    last = (performance.now() - t0) / 1e3;
    if (warmupRuns++ === 0) {
      first = last;
      if (stopAfterFirst?.(first)) return { first, warmupRuns, times: [], median: NaN };
    }
  } while (performance.now() - start < WARM_S * 1e3);
  const times: number[] = [];
  const n = Math.max(1, Math.min(repeats, Math.floor(budget / last)));
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await run();
    times.push((performance.now() - t0) / 1e3);
  }
  return { first, warmupRuns, times, median: median(times) };
}
