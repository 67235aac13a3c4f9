// Driving the app page (web/app.html) in Chromium as a person does, for the browser-app tests:
// pick files in its inputs, drop them (a synthetic drop event carrying a DataTransfer, or a real
// drag through the DevTools protocol, which also carries folders), answer, analyse, cancel; and
// compare its analysis JSON with `rnnscope analyze` run in Node on the same files.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import type { AppApi } from '../../web/app.js';
import type { AppError } from '../../web/app-protocol.js';
import type { Inspection } from '../../web/app-inspect.js';

export const ROOT = path.join(import.meta.dirname, '..', '..');
export const CORPUS = path.join(ROOT, 'test', 'fixtures', 'corpus');
export const USERDATA = path.join(ROOT, 'test', 'fixtures', 'userdata');

type Api = { rnnscopeApp: AppApi };

export interface Snapshot {
  state: string;
  inspection: Inspection | null;
  errors: AppError[];
  json: string | null;
}

const snapshot = (p: Page): Promise<Snapshot> =>
  p.evaluate(() => {
    const a = (globalThis as unknown as Api).rnnscopeApp;
    return { state: a.state, inspection: a.inspection, errors: a.errors, json: a.result?.json ?? null };
  });

const settled = (p: Page): Promise<number> => p.evaluate(() => (globalThis as unknown as Api).rnnscopeApp.settled);

/** Runs `act` and waits until the page has settled `n` more times (inspection, result, failure, cancel). */
export async function after(p: Page, act: () => Promise<unknown>, n = 1, timeout = 180_000): Promise<Snapshot> {
  const before = await settled(p);
  await act();
  await p.waitForFunction((k) => (globalThis as unknown as Api).rnnscopeApp.settled >= k, before + n, {
    timeout,
    polling: 50,
  });
  return snapshot(p);
}

/** Picks files (or a folder, with input '#folder') in the page's own inputs. */
export const pick = (p: Page, files: string | string[], input = '#files') =>
  after(p, () => p.setInputFiles(input, files));

/** A drop event on the page carrying a DataTransfer built in the page from the files' bytes (names are base names). */
export function dropSynthetic(p: Page, files: string[], target = 'main'): Promise<Snapshot> {
  const payload = files.map((f) => ({ name: path.basename(f), b64: readFileSync(f).toString('base64') }));
  return after(p, async () => {
    const dt = await p.evaluateHandle((fs) => {
      const t = new DataTransfer();
      for (const f of fs) t.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name));
      return t;
    }, payload);
    await p.dispatchEvent(target, 'dragover', { dataTransfer: dt });
    await p.dispatchEvent(target, 'drop', { dataTransfer: dt });
  });
}

/** A drag and drop as the operating system sends it (files and folders from disk) at a point of the page. */
export function dropReal(p: Page, paths: string[], at = { x: 400, y: 300 }): Promise<Snapshot> {
  return after(p, async () => {
    const cdp = await p.context().newCDPSession(p);
    const data = { items: [], files: paths, dragOperationsMask: 1 };
    for (const type of ['dragEnter', 'dragOver', 'drop'] as const)
      await cdp.send('Input.dispatchDragEvent', { type, ...at, data });
    await cdp.detach();
  });
}

export const clearAll = (p: Page) =>
  after(p, () => p.evaluate(() => (globalThis as unknown as Api).rnnscopeApp.clear()));
export const analyse = (p: Page) => after(p, () => p.click('#analyze'));
// A click, not Playwright's check(): answering re-renders the questions, so the radio may be gone before
// check() reads its state back, and check() then waits for it until its timeout (seen once under CI load).
// The snapshot after the page settles says whether the answer was taken.
export const answer = (p: Page, about: 'data' | 'targets', id: string) =>
  after(p, () => p.click(`fieldset[data-about=${about}] input[value="${id}"]`));

/** What the page shows as errors: each message as displayed. */
export const shownErrors = (p: Page) => p.$$eval('#errors .message', (xs) => xs.map((x) => x.textContent ?? ''));
/** The error classes the page shows beside them. */
export const shownClasses = (p: Page) => p.$$eval('#errors .badge', (xs) => xs.map((x) => x.textContent ?? ''));

export interface Cli {
  code: number;
  stdout: string;
  stderr: string;
  json: unknown;
  dump: string | null;
  dir: string;
}

/** `rnnscope analyze <args> --json` in a child process, from the sources. */
export function cliAnalyze(args: string[], opts: { dump?: boolean } = {}): Promise<Cli> {
  const dir = mkdtempSync(path.join(tmpdir(), 'rnnscope-app-cli-'));
  const out = path.join(dir, 'analysis.json');
  const dump = opts.dump ? path.join(dir, 'grads.npz') : null;
  const argv = [
    path.join(ROOT, 'bin', 'rnnscope.js'),
    'analyze',
    ...args,
    '--json',
    out,
    ...(dump ? ['--dump', dump] : []),
    '--quiet',
  ];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      argv,
      { cwd: dir, env: { ...process.env, NO_COLOR: '1', RNNSCOPE_FROM_SOURCE: '1' }, maxBuffer: 1 << 26 },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : -1
          : 0;
        let json: unknown = null;
        try {
          json = JSON.parse(readFileSync(out, 'utf8'));
        } catch {
          /* refused */
        }
        resolve({ code, stdout, stderr, json, dump, dir });
      },
    );
  });
}

export const removeCli = (c: Cli) => rmSync(c.dir, { recursive: true, force: true });

/** The one-sentence message the command line printed after "error: ", with the folders of `paths` taken out (the page
 * knows base names). */
export function cliMessage(c: Cli, paths: string[]): string {
  expect(c.code, c.stderr).toBe(1);
  let m = /^error: (.*)$/m.exec(c.stderr)?.[1] ?? '';
  for (const p of paths) m = m.split(path.dirname(p) + path.sep).join('');
  return m;
}

/**
 * Compares the page's analysis JSON with the command line's: the same structure, keys, strings and
 * nulls; numbers within `tol` relative (float32 sums taken in another order, the command line using
 * both cores). Returns the largest relative difference seen.
 */
export function compareAnalyses(page: unknown, cli: unknown, tol = 1e-4): number {
  let worst = 0;
  const walk = (a: unknown, b: unknown, at: string): void => {
    if (at.endsWith('.model.source') && typeof a === 'string' && typeof b === 'string') {
      // The command line's source is the last path segment of "DIR/arch.json + DIR/weights.h5", so
      // only the weights file; the page's files have no folder, so it keeps both names.
      expect(a.split(' + ').pop(), at).toBe(b);
      return;
    }
    if (typeof b === 'number' && typeof a === 'number') {
      const d = Math.abs(a - b) / Math.max(Math.abs(b), 1e-6);
      if (d > worst) worst = d;
      expect(d, `${at}: page ${a}, CLI ${b}`).toBeLessThanOrEqual(tol);
      return;
    }
    if (Array.isArray(b)) {
      expect(Array.isArray(a) && a.length, `${at} length`).toBe(b.length);
      b.forEach((x, i) => walk((a as unknown[])[i], x, `${at}[${i}]`));
      return;
    }
    if (b !== null && typeof b === 'object') {
      expect(a !== null && typeof a === 'object', `${at} is an object`).toBe(true);
      expect(Object.keys(a as object).sort(), `${at} keys`).toEqual(Object.keys(b).sort());
      for (const [k, v] of Object.entries(b)) walk((a as Record<string, unknown>)[k], v, `${at}.${k}`);
      return;
    }
    expect(a, at).toEqual(b);
  };
  walk(page, cli, '$');
  return worst;
}
