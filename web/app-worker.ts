// The app's worker: everything that reads files or computes runs here, off the page's thread, on
// the wasm kernels (src/engine/kernels.ts picks them where the runtime has WebAssembly SIMD).
// Where the page is cross-origin isolated, the analysis's batches also run on the gradient pool's
// workers, which this worker starts (web/pool-browser.ts, web/app-threads.ts).
// Messages: web/app-protocol.ts. The page cancels by terminating this worker (its pool goes with it).

import { kernels, setKernels } from '../src/engine/kernels.js';
import { makeKernels } from './kernel-choice.js';
import { Session, type Answers, type InFile } from './app-inspect.js';
import { chartList, dumpNpz, reportPage, runAnalysis } from './app-run.js';
import { BUNDLES } from './app-bundles.js';
import POOL_JS from 'rnnscope-text:pool-worker';
import type { GradPool } from '../src/engine/pool.js';
import { startBrowserGradPool } from './pool-browser.js';
import { gradientOf } from './app-gradient.js';
import { errorOf, type FromWorker, type Progress, type ToWorker } from './app-protocol.js';

const post = (m: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

let session: Session | null = null;
let pool: Promise<GradPool> | null = null;

/** The gradient pool's workers (web/pool-browser.ts), started once with the first files and reused by every run. */
function gradPool(): Promise<GradPool> {
  return (pool ??= startBrowserGradPool(URL.createObjectURL(new Blob([POOL_JS], { type: 'text/javascript' }))));
}

async function inspect(loss: string | undefined, answers: Answers, t0: number): Promise<void> {
  post({ type: 'inspection', inspection: await session!.inspect(loss, answers), ms: performance.now() - t0 });
}

/** Progress at most every 50 ms (and at every change of phase), so messages do not flood the page. */
function throttled(): (p: Progress) => void {
  let last = 0,
    phase = '';
  return (p) => {
    const now = performance.now();
    if (p.phase === phase && now - last < 50) return;
    last = now;
    phase = p.phase;
    post({ type: 'progress', progress: p });
  };
}

async function handle(m: ToWorker): Promise<void> {
  const t0 = performance.now();
  if (m.type === 'files') {
    void gradPool();
    const files: InFile[] = await Promise.all(
      m.files.map(async (f) => ({
        name: f.name,
        fromFolder: f.fromFolder,
        lastModified: f.file.lastModified,
        bytes: new Uint8Array(await f.file.arrayBuffer()),
      })),
    );
    session = await Session.open(files);
    return inspect(m.loss, m.answers, t0);
  }
  if (!session) throw new Error('No files were given to the worker.');
  if (m.type === 'classify') return inspect(m.loss, m.answers, t0);
  if (m.type === 'gradient') {
    const g = gradientOf(session, m.answers, m.request, await gradPool());
    return post({ type: 'gradient', gradient: g });
  }
  if (m.options.kernels) setKernels(makeKernels(m.options.kernels));
  const a0 = performance.now();
  const out = await runAnalysis(session, m.options, m.answers, throttled(), await gradPool());
  const analysisMs = performance.now() - a0;
  post({ type: 'progress', progress: { phase: 'report', run: 0, runs: 0, done: 0, total: 1 } });
  const json = `${JSON.stringify(out.result)}\n`;
  const html = reportPage(out.result, BUNDLES);
  const npz = m.options.dump && out.raw.length > 0 ? dumpNpz(out.raw) : null;
  const k = kernels() as { name: string; sharedMemory?: boolean };
  post(
    {
      type: 'result',
      result: {
        json,
        html,
        npz,
        charts: chartList(out.result),
        random: out.random,
        ms: performance.now() - t0,
        analysisMs,
        kernels: k.sharedMemory === undefined ? k.name : `${k.name} (${k.sharedMemory ? 'shared' : 'unshared'} memory)`,
        threads: out.threads,
      },
    },
    npz ? [npz.buffer] : [],
  );
}

// One message at a time, in order: a classify sent while the files are still loading waits for them.
let queue: Promise<void> = Promise.resolve();
self.onmessage = (e: MessageEvent<ToWorker>) => {
  queue = queue.then(() => handle(e.data)).catch((err) => post({ type: 'failed', error: errorOf(err) }));
};
