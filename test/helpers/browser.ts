// Shared by the Chromium tests: launch Debian's /usr/bin/chromium through playwright-core, build
// the browser bundle (scripts/build-web.ts) into a temporary folder, serve it from a localhost
// http server with the cross-origin-isolation headers (so SharedArrayBuffer, and with it the wasm
// kernels' shared memory, exist as in Node), and collect what a page complains about.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildWeb, type BuildWebResult } from '../../scripts/build-web.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing; install Debian's chromium package to run the browser tests.`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** COOP + COEP: the page is cross-origin isolated (crossOriginIsolated, SharedArrayBuffer). */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
};

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the files under `dir` (GET only, nothing outside it) on 127.0.0.1 with a free port. */
export async function serveStatic(dir: string, opts: { isolated?: boolean } = {}): Promise<StaticServer> {
  const rootDir = path.resolve(dir);
  const server: Server = createServer(async (req, res) => {
    const headers: Record<string, string> = opts.isolated === false ? {} : { ...ISOLATION_HEADERS };
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '') || 'lab.html';
    const file = path.resolve(rootDir, rel);
    if (req.method !== 'GET' || (file !== rootDir && !file.startsWith(rootDir + path.sep))) {
      res.writeHead(405, headers).end();
      return;
    }
    try {
      const body = await readFile(file);
      res
        .writeHead(200, {
          ...headers,
          'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
          'Cache-Control': 'no-store',
        })
        .end(body);
    } catch {
      res.writeHead(404, headers).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

export interface WebBuild extends BuildWebResult {
  remove(): void;
}

/** Builds the pages into a fresh temporary folder (each test file its own, so parallel files do not race). */
export async function buildWebTemp(): Promise<WebBuild> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'rnnscope-web-'));
  const r = await buildWeb({ outdir });
  return { ...r, remove: () => rmSync(outdir, { recursive: true, force: true }) };
}

/** Console errors/warnings, uncaught page errors and requests leaving `origin`, as they happen. */
export function watchPage(page: Page, origin: string): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith('data:') && !r.url().startsWith('blob:'))
      problems.push(`network: ${r.url()}`);
  });
  return problems;
}

/** A server of rnnscope (`args`: its command line, ['serve', …]) as a child process of bin/rnnscope.js: `url` resolves
 * with the address it prints, or rejects with its output when it exits first; `out()` and `err()` are what it printed
 * so far. */
export interface ServeChild {
  child: ChildProcessWithoutNullStreams;
  url: Promise<string>;
  out(): string;
  err(): string;
}

export function spawnServe(args: string[]): ServeChild {
  const root = path.resolve(import.meta.dirname, '..', '..');
  const child = spawn(process.execPath, [path.join(root, 'bin', 'rnnscope.js'), ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1', RNNSCOPE_FROM_SOURCE: '1' },
  });
  let out = '',
    err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  const url = new Promise<string>((resolve, reject) => {
    const t = setInterval(() => {
      const m = /^(http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(out);
      if (m) {
        clearInterval(t);
        resolve(m[1]!);
      }
    }, 50);
    child.on('exit', (code) => {
      clearInterval(t);
      reject(new Error(`serve exited ${code}: ${out}${err}`));
    });
  });
  return { child, url, out: () => out, err: () => err };
}
