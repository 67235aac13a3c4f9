// rnnscope's gradient in headless Chromium (the issue-15 target "Chromium within 1.2× of Node"):
// Vite's dev server serves bench/browser-entry.ts on a cross-origin-isolated page (COOP/COEP
// headers, so SharedArrayBuffer and the kernels' shared memory exist), Playwright drives Debian's
// /usr/bin/chromium. Modes grad and taps run on one thread (the page's), grad-mt and taps-mt split
// the batch over the browser's gradient pool, as the Node rows of the same names do. Used by
// run.ts; also runnable alone:
//
//   npx tsx bench/browser.ts [WORKLOAD=W] [MODE=grad|taps|grad-mt|taps-mt] [REPEATS=5]

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserMode, BrowserResult } from './browser-entry.js';

const here = dirname(fileURLToPath(import.meta.url));
export const CHROMIUM = '/usr/bin/chromium';

export interface BrowserRun {
  result: BrowserResult;
  browser: string;
}

/** Measures each job in one Chromium page; returns a reason string when the browser or Vite is missing. */
export async function measureInChromium(
  jobs: { id: string; mode: BrowserMode }[],
  repeats: number,
  budget: number,
): Promise<BrowserRun[] | string> {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} not found (Debian package chromium)`;
  let vite: typeof import('vite'), pw: typeof import('playwright-core');
  try {
    vite = await import('vite');
    pw = await import('playwright-core');
  } catch (e) {
    return `vite or playwright-core not installed (${(e as Error).message.split('\n')[0]})`;
  }
  const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
  const server = await vite.createServer({
    configFile: false,
    root: join(here, '..'),
    logLevel: 'error',
    clearScreen: false,
    server: { port: 5273, strictPort: false, headers: isolation },
    plugins: [
      {
        name: 'rnnscope-bench-page',
        configureServer(s) {
          s.middlewares.use('/__bench.html', (_req, res) => {
            res.setHeader('Content-Type', 'text/html');
            for (const [k, v] of Object.entries(isolation)) res.setHeader(k, v);
            res.end(
              '<!doctype html><meta charset="utf-8"><title>rnnscope bench</title><script type="module" src="/bench/browser-entry.ts"></script>',
            );
          });
        },
      },
    ],
  });
  await server.listen();
  const url = server.resolvedUrls?.local[0];
  const browser = await pw.chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const out: BrowserRun[] = [];
    for (const job of jobs) {
      // A fresh page per job, as run.ts uses a fresh process.
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${url}__bench.html`);
      await page.waitForFunction(() => 'rnnscopeBench' in globalThis, undefined, { timeout: 120e3 });
      if (errors.length) throw new Error(errors[0]);
      const result = await page.evaluate(
        async ([id, mode, r, b]) =>
          (
            globalThis as unknown as {
              rnnscopeBench: (i: string, m: string, r: number, b: number) => Promise<BrowserResult>;
            }
          ).rnnscopeBench(id, mode, r, b),
        [job.id, job.mode, repeats, budget] as const,
      );
      out.push({ result, browser: `Chromium ${browser.version()}` });
      await page.close();
    }
    return out;
  } finally {
    await browser.close();
    await server.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [id = 'W', mode = 'grad', repeats = '5'] = process.argv.slice(2);
  const r = await measureInChromium([{ id, mode: mode as BrowserMode }], Number(repeats), 45);
  console.log(typeof r === 'string' ? `not measured: ${r}` : JSON.stringify(r[0]));
}
