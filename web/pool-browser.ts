// The gradient pool's threads in the browser (src/engine/pool.ts; pool-node.ts is the Node shell):
// Web Workers running web/pool-worker-entry.ts, started from a worker (the app's analysis worker, or
// the benchmark's), because the pool's caller blocks in Atomics.wait, which a page's main thread may
// not. Only a cross-origin-isolated page has SharedArrayBuffer; elsewhere the pool is the one-thread
// pool, and describe() says why.
//
// A nested worker may start only once its parent returns to its event loop, so startBrowserGradPool
// resolves when every worker has answered its first message; a gradient never waits for a start.

import { GradPool, type PoolPort } from '../src/engine/pool.js';

/** Threads a pool uses at most (the caller's included): each worker holds its own kernels and buffers. */
const MAX_THREADS = 8;
/** Milliseconds the workers may take to start before the pool runs on one thread instead. */
const START_MS = 60_000;

/** Why this scope cannot have worker threads that share memory, or null when it can. */
export function poolUnavailable(): string | null {
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown };
  if (typeof SharedArrayBuffer === 'undefined' || g.crossOriginIsolated === false)
    return 'the page is not cross-origin isolated, so it has no SharedArrayBuffer (serve it with COOP/COEP headers, as rnnscope serve does)';
  if (typeof g.Worker !== 'function') return 'this browser cannot start a worker from a worker';
  return null;
}

/** Worker threads besides the caller's: one per other logical core the browser reports. */
export function browserWorkers(): number {
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  return Math.max(0, Math.min(cores, MAX_THREADS) - 1);
}

export interface BrowserPoolOptions {
  /** Worker threads besides this one (default browserWorkers()). */
  workers?: number;
  /** 'module' for an unbundled worker script (a dev server); default 'classic' (the built bundle). */
  type?: WorkerType;
}

/**
 * A pool whose workers run the script at `url` (web/pool-worker-entry.ts, bundled or not), resolved
 * once every worker has started; a one-thread pool, saying why, where there can be no workers or they
 * do not start.
 */
export async function startBrowserGradPool(url: string | URL, opts: BrowserPoolOptions = {}): Promise<GradPool> {
  const why = poolUnavailable();
  const workers = opts.workers ?? browserWorkers();
  if (why) return new GradPool(0, null, why);
  if (workers < 1) return new GradPool(0, null, 'the browser reports one core');
  let pool: GradPool | null = null;
  const started: Promise<void>[] = [];
  const made: Worker[] = [];
  const spawn = (i: number): PoolPort => {
    const w = new Worker(url, { name: `rnnscope-pool-${i + 1}`, type: opts.type ?? 'classic' });
    made.push(w);
    let onReply: ((m: never) => void) | null = null;
    started.push(
      new Promise<void>((resolve, reject) => {
        w.onmessage = (e: MessageEvent<{ type?: string }>) => {
          if (e.data?.type === 'pool-ready') resolve();
          else onReply?.(e.data as never);
        };
        w.onerror = (e) => {
          e.preventDefault();
          const reason = `a worker failed: ${e.message || 'it could not be started'}`;
          pool?.fail(reason);
          reject(new Error(reason));
        };
      }),
    );
    return {
      postMessage: (m) => w.postMessage(m),
      onMessage: (f) => {
        onReply = f as (m: never) => void;
      },
      terminate: () => w.terminate(),
    };
  };
  try {
    pool = new GradPool(workers, spawn);
  } catch (e) {
    // new Worker() itself refused (a Content-Security-Policy without blob: workers, say).
    for (const w of made) w.terminate();
    return new GradPool(0, null, `a worker could not be started (${(e as Error)?.message ?? e})`);
  }
  if (pool.workers === 0) return pool;
  let timer = 0;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the workers did not start within ${START_MS / 1000} s`)),
      START_MS,
    ) as unknown as number;
  });
  try {
    await Promise.race([Promise.all(started), late]);
  } catch (e) {
    pool.fail((e as Error).message);
    await pool.close();
  } finally {
    clearTimeout(timer);
  }
  return pool;
}
