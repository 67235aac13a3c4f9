// The gradient pool's threads in Node (src/engine/pool.ts): worker_threads running
// src/engine/pool-worker.ts, started once per process and reused by every gradient. The workers
// are unref'd, so an idle pool never keeps the process alive; closeGradPool() ends them.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { GradPool, type PoolPort } from './engine/pool.js';

const SOURCE = import.meta.url.endsWith('.ts');
const MODULE = new URL(SOURCE ? './engine/pool-worker.ts' : './engine/pool-worker.js', import.meta.url).href;
// tsx is registered in the worker only when running from the TypeScript sources (no build); resolved here,
// from this package, as the eval'd worker would resolve a bare 'tsx' from the working directory.
const TSX_API = SOURCE ? import.meta.resolve('tsx/esm/api') : null;
// Messages that arrive while the modules load are queued, then handled in order.
const BOOT = `
const { parentPort, workerData } = require('node:worker_threads');
const queue = [];
let handle = null;
parentPort.on('message', (m) => (handle ? handle(m) : queue.push(m)));
(async () => {
  if (workerData.tsx) { const { register } = await import(workerData.tsx); register(); }
  const w = await import(workerData.module);
  handle = w.poolWorker((m, t) => parentPort.postMessage(m, t));
  for (const m of queue.splice(0)) handle(m);
})();
`;

let shared: GradPool | null = null;

/** Worker threads besides this one: RNNSCOPE_THREADS (total threads) when set, else one per other core. */
export function defaultWorkers(): number {
  const env = Number(process.env['RNNSCOPE_THREADS']);
  const total = Number.isInteger(env) && env >= 1 ? env : availableParallelism();
  return Math.max(0, total - 1);
}

/** A new pool of `workers` worker threads (default: defaultWorkers()). */
export function createNodeGradPool(workers = defaultWorkers()): GradPool {
  if (workers < 1) return new GradPool(0, null, defaultWorkers() < 1 ? 'one core (or RNNSCOPE_THREADS=1)' : null);
  let pool: GradPool | null = null;
  const spawn = (): PoolPort => {
    const w = new Worker(BOOT, { eval: true, workerData: { module: MODULE, tsx: TSX_API } });
    w.unref();
    w.on('error', (e) => pool?.fail(`a worker failed: ${e.message}`));
    w.on('exit', (code) => pool?.fail(`a worker exited (code ${code})`));
    return {
      postMessage: (m) => w.postMessage(m),
      onMessage: (f) => {
        w.on('message', f);
        w.unref(); // a listener refs the worker again
      },
      keepAlive: (on) => (on ? w.ref() : w.unref()),
      terminate: () => {
        w.removeAllListeners('exit');
        return w.terminate();
      },
    };
  };
  pool = new GradPool(workers, spawn);
  return pool;
}

/** The process's pool, started on first use and reused by every later call. */
export function gradPool(): GradPool {
  return (shared ??= createNodeGradPool());
}

/** Ends the process's pool (if started); the next gradPool() starts a new one. */
export async function closeGradPool(): Promise<void> {
  const p = shared;
  shared = null;
  await p?.close();
}
