// The benchmark's split gradient in Chromium (browser-entry.ts, modes grad-mt and taps-mt): a worker
// of the page that starts the browser's gradient pool (web/pool-browser.ts, one worker per other
// core, from the unbundled web/pool-worker-entry.ts as Vite serves it) and times the split gradient.

import { startBrowserGradPool } from '../web/pool-browser.js';
import { measure } from './browser-entry.js';

interface Ask {
  id: string;
  mode: 'grad' | 'taps';
  repeats: number;
  budget: number;
}

const scope = self as unknown as { postMessage(m: unknown): void; onmessage: ((e: MessageEvent<Ask>) => void) | null };
scope.onmessage = async (e) => {
  const pool = await startBrowserGradPool(new URL('../web/pool-worker-entry.ts', import.meta.url), { type: 'module' });
  try {
    if (pool.threads < 2) throw new Error(pool.describe());
    const { id, mode, repeats, budget } = e.data;
    scope.postMessage({ ok: true, result: await measure(id, mode, repeats, budget, pool) });
  } catch (err) {
    scope.postMessage({ ok: false, message: String((err as Error)?.message ?? err) });
  } finally {
    await pool.close();
  }
};
