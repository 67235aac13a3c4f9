// `rnnscope serve [--port N] [--dir DIR]`: the app page (web/app.html, built by `npm run
// build:web` into dist-web/) from a server on 127.0.0.1, for people who prefer a command to
// opening a file. The page's own files are read once at start into a fixed map; a request's path
// is only looked up in that map, never joined to a folder, so nothing else on disk can be
// reached. The headers make the page cross-origin isolated (COOP + COEP: SharedArrayBuffer, so
// the wasm kernels work in shared memory) and repeat its Content-Security-Policy.

import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { LoadError, RnnscopeError } from '../model/errors.js';
import { info, type Flags, type Io } from './output.js';

/** The port when --port is not given (if taken, any free port is used instead). */
export const DEFAULT_PORT = 6071;

/** The built page's files and their types: all this server ever sends. */
const FILES: Record<string, string> = {
  'app.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

const HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

export interface PageServer {
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

/** The folder `npm run build:web` writes: dist-web/ beside src/ (or beside dist/ in a build). */
export function defaultPageDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, 'dist-web');
}

/** The page's Content-Security-Policy, as its <meta> tag states it. */
function pageCsp(html: string): string | null {
  const m = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html);
  return m ? m[1]!.replace(/&#39;/g, "'") : null;
}

async function readPage(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const missing: string[] = [];
  for (const name of Object.keys(FILES)) {
    try {
      files.set(name, await readFile(path.join(dir, name)));
    } catch {
      missing.push(name);
    }
  }
  if (missing.length > 0) {
    throw new LoadError(
      `The page is not built: ${missing.map((m) => path.join(dir, m)).join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing; expected the output of npm run build:web; run npm run build:web first (or give --dir the folder it wrote).`,
      { file: path.join(dir, missing[0]!) },
    );
  }
  return files;
}

/** Serves the page in `dir` on 127.0.0.1:port (0: any free port). Rejects with the listen error (EADDRINUSE, …). */
export async function startPageServer(opts: { dir: string; port: number }): Promise<PageServer> {
  const files = await readPage(opts.dir);
  const csp = pageCsp(files.get('app.html')!.toString('utf8'));
  let allowed: Set<string> = new Set();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const head = req.method === 'HEAD';
    const text = (status: number, body: string, extra: Record<string, string> = {}) => {
      res.writeHead(status, {
        ...HEADERS,
        ...extra,
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
      });
      res.end(head ? undefined : body);
    };
    if (req.method !== 'GET' && !head) return text(405, 'Only GET and HEAD.\n', { Allow: 'GET, HEAD' });
    // A page elsewhere that points a name of its own at 127.0.0.1 (DNS rebinding) is refused.
    if (!allowed.has((req.headers.host ?? '').toLowerCase()))
      return text(403, 'This server answers only to its own address.\n');
    const url = req.url ?? '/';
    const q = url.search(/[?#]/);
    const pathname = q < 0 ? url : url.slice(0, q);
    const name = pathname === '/' ? 'app.html' : pathname.slice(1);
    const body = Object.hasOwn(FILES, name) ? files.get(name) : undefined;
    if (!body)
      return text(
        404,
        `Not found. This server has only the rnnscope page: /, ${Object.keys(FILES)
          .map((f) => `/${f}`)
          .join(', ')}.\n`,
      );
    res.writeHead(200, {
      ...HEADERS,
      ...(csp && name === 'app.html' ? { 'Content-Security-Policy': csp } : {}),
      'Content-Type': FILES[name]!,
      'Content-Length': body.length,
    });
    res.end(head ? undefined : body);
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  allowed = new Set([`127.0.0.1:${addr.port}`, `localhost:${addr.port}`]);
  return {
    url: `http://127.0.0.1:${addr.port}/`,
    host: addr.address,
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface ServeFlags extends Flags {
  port?: number;
  dir?: string;
}

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError(`'${v}' is not a port number (0–65535).`);
  return n;
}

export async function serveCommand(f: ServeFlags, io: Io): Promise<void> {
  const dir = path.resolve(f.dir ?? defaultPageDir());
  let server: PageServer;
  try {
    server = await startPageServer({ dir, port: f.port ?? DEFAULT_PORT });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'EADDRINUSE' && f.port === undefined) server = await startPageServer({ dir, port: 0 });
    else if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw new RnnscopeError(
        'usage',
        `Port ${f.port} on 127.0.0.1 is ${code === 'EADDRINUSE' ? 'already in use' : 'not allowed for this user'}; expected a free port; give another with --port (0 picks any free one).`,
      );
    } else throw e;
  }
  // The address goes to stdout (even with --quiet): it is what the command is for.
  io.stdout.write(`${server.url}\n`);
  info(
    io,
    f,
    'The rnnscope page is served on this machine only (127.0.0.1); files you open in it are read in the browser and never sent anywhere. Ctrl-C stops the server.',
  );
  await new Promise<void>((resolve) => {
    const stop = (sig: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      info(io, f, `${sig === 'SIGINT' ? 'Ctrl-C' : sig}: server stopped.`);
      void server.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export function registerServe(program: Command, io: Io, global: (cmd: Command) => Flags): void {
  program
    .command('serve')
    .description('serve the rnnscope page (drop a model and data, get the report) on 127.0.0.1')
    .option('--port <n>', `port (default ${DEFAULT_PORT}, or any free one if taken; 0: any)`, port)
    .option('--dir <folder>', 'the built page (default: dist-web/, written by npm run build:web)')
    .addHelpText(
      'after',
      `
The page is the one npm run build:web writes (opening dist-web/app.html directly works too). Only
its own files are served, to this machine only, with the headers that make it cross-origin isolated.`,
    )
    .action(async (o, cmd: Command) => serveCommand({ ...o, ...global(cmd) }, io));
}
