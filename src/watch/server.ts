// The live page of `rnnscope watch`: a loopback HTTP server that serves only what it holds in
// memory — the page, the same page without script bundles (for in-place updates), the analysis
// JSON and a stream of update events — and nothing from the file system. Any other path is 404,
// any other method 405. Requests whose Host header is not this server (a DNS-rebinding page
// posing as another site) are refused with 403 when bound to loopback.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LivePage {
  /** Version shown by the page; the event stream announces each new one. */
  version: number;
  html: string;
  fragment: string;
  json: string;
}

export interface LiveServer {
  url: string;
  host: string;
  port: number;
  update(page: LivePage): void;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const COMMON = {
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** Starts the server on host:port (port 0: any free port). Rejects with the listen error (EADDRINUSE, EACCES, …). */
export async function startLiveServer(opts: { host: string; port: number; waitingHtml: string }): Promise<LiveServer> {
  let page: LivePage | null = null;
  const streams = new Set<ServerResponse>();
  let allowedHosts: Set<string> | null = null;

  const send = (res: ServerResponse, status: number, type: string, body: string, head: boolean): void => {
    res.writeHead(status, { ...COMMON, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(head ? undefined : body);
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res
        .writeHead(405, { ...COMMON, Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' })
        .end('Only GET and HEAD.\n');
      return;
    }
    if (allowedHosts && !allowedHosts.has((req.headers.host ?? '').toLowerCase())) {
      send(res, 403, 'text/plain; charset=utf-8', 'This server answers only to its own address.\n', head);
      return;
    }
    // The path is compared as a string and never joined to a directory.
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    switch (pathname) {
      case '/':
      case '/index.html':
        send(res, 200, 'text/html; charset=utf-8', page ? page.html : opts.waitingHtml, head);
        return;
      case '/fragment':
        if (page) send(res, 200, 'text/html; charset=utf-8', page.fragment, head);
        else send(res, 404, 'text/plain; charset=utf-8', 'No checkpoint analysed yet.\n', head);
        return;
      case '/analysis.json':
        if (page) send(res, 200, 'application/json; charset=utf-8', page.json, head);
        else send(res, 404, 'text/plain; charset=utf-8', 'No checkpoint analysed yet.\n', head);
        return;
      case '/events':
        res.writeHead(200, { ...COMMON, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
        if (head) {
          res.end();
          return;
        }
        res.write(`retry: 2000\nevent: hello\ndata: ${JSON.stringify({ version: page?.version ?? 0 })}\n\n`);
        streams.add(res);
        req.on('close', () => streams.delete(res));
        return;
      default:
        send(
          res,
          404,
          'text/plain; charset=utf-8',
          'Not found. This server has only its page (/), /fragment, /analysis.json and /events.\n',
          head,
        );
    }
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  // Comments keep idle event streams open through proxies and let closed ones be noticed.
  const ping = setInterval(() => {
    for (const s of streams) s.write(': ping\n\n');
  }, 15_000);
  ping.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  if (isLoopback(opts.host)) {
    const names = ['127.0.0.1', 'localhost', '[::1]', opts.host.includes(':') ? `[${opts.host}]` : opts.host];
    allowedHosts = new Set(names.map((n) => `${n}:${addr.port}`));
  }
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shown === '0.0.0.0' || shown === '[::]' ? 'localhost' : shown}:${addr.port}/`,
    host: addr.address,
    port: addr.port,
    update(p) {
      page = p;
      for (const s of streams) s.write(`event: update\ndata: ${JSON.stringify({ version: p.version })}\n\n`);
    },
    close() {
      clearInterval(ping);
      for (const s of streams) s.end();
      streams.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
