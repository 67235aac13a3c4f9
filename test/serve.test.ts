// `rnnscope serve`: the app page from 127.0.0.1 only, only its own files (no request path reaches
// the file system), cross-origin isolation headers, refusals of other hosts and methods, and a
// clean stop on Ctrl-C. The server is started as the command line starts it (a child process of
// bin/rnnscope.js) and in-process (startPageServer) for the raw-path requests.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebTemp, spawnServe, type WebBuild } from './helpers/browser.js';
import { startPageServer, type PageServer } from '../src/cli/serve.js';

let build: WebBuild;
let server: PageServer;

beforeAll(async () => {
  build = await buildWebTemp();
  // A secret beside the page and one level up: no request may reach either.
  writeFileSync(path.join(build.outdir, 'secret.txt'), 'beside the page');
  writeFileSync(path.join(path.dirname(build.outdir), 'rnnscope-serve-secret.txt'), 'above the page');
  server = await startPageServer({ dir: build.outdir, port: 0 });
});

afterAll(async () => {
  await server?.close();
  rmSync(path.join(path.dirname(build.outdir), 'rnnscope-serve-secret.txt'), { force: true });
  build?.remove();
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  bytes: Buffer;
}

/** A request with the path sent exactly as written (no URL normalisation by the client). */
function raw(port: number, target: string, opts: { method?: string; host?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(
        `${opts.method ?? 'GET'} ${target} HTTP/1.1\r\nHost: ${opts.host ?? `127.0.0.1:${port}`}\r\nConnection: close\r\n\r\n`,
      );
    });
    const chunks: Buffer[] = [];
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => {
      const all = Buffer.concat(chunks);
      const cut = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, cut).toString('latin1');
      const bytes = all.subarray(cut + 4);
      const lines = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1))
        headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
      resolve({ status: Number(lines[0]!.split(' ')[1]), headers, body: bytes.toString('utf8'), bytes });
    });
    s.on('error', reject);
  });
}

describe('rnnscope serve', () => {
  it('binds 127.0.0.1 only and serves the built page with cross-origin isolation', async () => {
    expect(server.host).toBe('127.0.0.1');
    const r = await raw(server.port, '/');
    expect(r.status).toBe(200);
    expect(r.body).toBe(readFileSync(path.join(build.outdir, 'app.html'), 'utf8'));
    expect(r.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(r.headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect(r.headers['content-security-policy']).toContain("connect-src 'none'");
    for (const f of ['app.html', 'app.js', 'app.css']) {
      const x = await raw(server.port, `/${f}`);
      expect(x.status, f).toBe(200);
      expect(x.bytes.equals(readFileSync(path.join(build.outdir, f))), f).toBe(true);
    }
  });

  it('answers no path outside its fixed list: traversal, encodings, other built files, absolute paths', async () => {
    const targets = [
      '/secret.txt',
      '/../rnnscope-serve-secret.txt',
      '/%2e%2e/rnnscope-serve-secret.txt',
      '/%2E%2E%2Frnnscope-serve-secret.txt',
      '/..%2frnnscope-serve-secret.txt',
      '/app.html/../secret.txt',
      '/./secret.txt',
      '//etc/passwd',
      '/etc/passwd',
      `/${path.join(build.outdir, 'app.html')}`,
      '/lab.html',
      '/lab.js',
      '/app.js.map',
      '/constructor',
      '/__proto__',
      '/app.html%00',
      '/..\\secret.txt',
      'http://127.0.0.1/secret.txt',
      '*',
    ];
    for (const t of targets) {
      const r = await raw(server.port, t);
      expect([t, r.status]).toEqual([t, r.status === 400 ? 400 : 404]);
      expect(r.body).not.toContain('beside the page');
      expect(r.body).not.toContain('above the page');
      expect(r.body).not.toContain('root:');
    }
  });

  it('refuses other methods and other host names (DNS rebinding)', async () => {
    expect((await raw(server.port, '/', { method: 'POST' })).status).toBe(405);
    expect((await raw(server.port, '/', { method: 'PUT' })).status).toBe(405);
    expect((await raw(server.port, '/', { host: 'attacker.example' })).status).toBe(403);
    expect((await raw(server.port, '/', { host: `localhost:${server.port}` })).status).toBe(200);
    expect((await raw(server.port, '/', { method: 'HEAD' })).body).toBe('');
  });

  it('as a command: prints its address, serves, and stops cleanly on Ctrl-C', async () => {
    const sc = spawnServe(['serve', '--port', '0', '--dir', build.outdir]);
    const child = sc.child;
    const url = await sc.url;
    const port = Number(new URL(url).port);
    const page = await raw(port, '/app.html');
    expect(page.status).toBe(200);
    expect(page.headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect(sc.err()).toContain('files you open in it are read in the browser and never sent anywhere');
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exit).toBe(0);
    expect(sc.err()).toContain('Ctrl-C: server stopped.');
    // Nothing listens there any more.
    await expect(
      new Promise((resolve, reject) => {
        const r = request({ host: '127.0.0.1', port, path: '/' }, resolve);
        r.on('error', reject);
        r.end();
      }),
    ).rejects.toThrow(/ECONNREFUSED/);
  });

  it('says what to do when the page is not built', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'rnnscope-serve-empty-'));
    await expect(startPageServer({ dir: empty, port: 0 })).rejects.toThrow(
      `The page is not built: ${path.join(empty, 'app.html')}, ${path.join(empty, 'app.js')}, ${path.join(empty, 'app.css')} are missing; expected the output of npm run build:web; run npm run build:web first (or give --dir the folder it wrote).`,
    );
    rmSync(empty, { recursive: true });
  });
});
