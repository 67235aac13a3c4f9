// The worker thread io-fuzz.test.ts runs its cases in: each case (a mutated data file, or a model
// file with its siblings) is loaded in a worker (sources loaded with tsx) so that a hang can be cut
// off (the worker is terminated, and restarted for the next case) and an allocation bomb cannot
// take the test process down (the worker's heap is capped at 1 GiB).
//
// A case ends as 'ok', the name of the typed error (LoadError, ModelError, ...), 'untyped' (any
// other exception), 'invalid' (a loader returned a malformed array or model), 'hang' (no answer
// within 3x the time limit) or 'worker-died'. `wrapped` marks a typed error made by a loader's
// catch-all ("... failed (<generic error>); ... please report it."). Data that loads is also fitted
// to three small models (fitModels), where only an untyped exception counts.

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

const ROOT = join(import.meta.dirname, '..', '..');

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { register } = await import('tsx/esm/api');
  register();
  const errors = await import(workerData.mods.errors);
  const data = await import(workerData.mods.data);
  const check = await import(workerData.mods.check);
  let io = null, ioError = null;
  try { io = await import(workerData.mods.index); } catch (e) { ioError = String((e && e.message) || e).split('\\n')[0]; }
  const classify = (e) => {
    if (e instanceof errors.RnnscopeError) {
      const wrapped = /please report it\\.$/.test(e.message);
      return { outcome: e.name, wrapped, message: e.message.slice(0, 400) };
    }
    return { outcome: 'untyped', message: String((e && e.stack) || e).slice(0, 1200) };
  };
  parentPort.on('message', async (m) => {
    const t0 = performance.now();
    let res;
    try {
      if (m.kind === 'data') {
        const arrays = data.openData(m.bytes, m.name, { warnings: [] });
        for (const a of arrays) {
          const n = a.shape.reduce((p, d) => p * d, 1);
          if (!(a.data instanceof Float64Array) || a.data.length !== n || !a.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
            throw Object.assign(new Error('invalid array ' + a.name + ' shape ' + a.shape + ' length ' + a.data.length), { invalid: true });
          }
        }
        res = { outcome: 'ok' };
        for (const [model, role] of workerData.fits) {
          try { check.fitDataToModel(model, arrays, role, { warnings: [] }); }
          catch (e) { const c = classify(e); if (c.outcome === 'untyped') { res = { ...c, message: 'fitDataToModel: ' + c.message }; break; } }
        }
      } else {
        const files = new Map(m.files);
        files.set(m.name, m.bytes);
        const model = await io.openModel(io.fileSetFromMap(m.name, files), m.opts);
        res = { outcome: model && Array.isArray(model.layers) ? 'ok' : 'invalid', message: 'openModel returned ' + typeof model };
      }
    } catch (e) {
      res = e && e.invalid ? { outcome: 'invalid', message: e.message } : classify(e);
    }
    parentPort.postMessage({ id: m.id, ms: performance.now() - t0, ...res });
  });
  parentPort.postMessage({ ready: true, ioError });
})().catch((e) => parentPort.postMessage({ fatal: String((e && e.stack) || e) }));
`;

export interface Result { outcome: string; wrapped?: boolean; message?: string; ms: number }
export interface Case { kind: 'data' | 'model'; name: string; bytes: Uint8Array; files?: [string, Uint8Array][]; opts?: { weights?: string } }

/** Fit checks run on every array that loads: a sequence input, a token input, a softmax output. */
function fitModels(): unknown[] {
  const spec = (inShape: (number | null)[], outShape: (number | null)[], emb: boolean) => ({
    name: 'm', params: [[], []], weights: new Map(), warnings: [],
    layers: [{ name: 'in', className: 'InputLayer', type: 'InputLayer', shape: inShape, dtype: 'float32' },
      { name: 'emb', className: 'Embedding', type: 'Embedding', inputDim: 5, outputDim: 2, maskZero: false }],
    nodes: emb ? [{ layer: 1, inputs: [0], outputs: [2] }] : [],
    tensors: [{ id: 0, shape: inShape, dtype: 'float32' }, { id: 1, shape: outShape, dtype: 'float32' }, { id: 2, shape: [null, 7, 2], dtype: 'float32' }],
    inputs: [0], inputNames: ['in'], outputs: [1], outputNames: ['out'],
    meta: { format: 'test', kerasVersion: '3', backend: null, loss: null, optimizer: null, metrics: null, source: 't' },
  });
  return [[spec([null, 10, 3], [null, 5], false), 'inputs'], [spec([null, 7], [null, 5], true), 'inputs'], [spec([null, 10, 3], [null, 5], false), 'targets']];
}

/** Runs cases one at a time; a case not answered within 3x `timeLimitMs` ends as a 'hang' (and the worker is restarted). */
export class Runner {
  private worker: Worker | null = null;
  private next = 1;
  private pending: { id: number; resolve: (r: Result) => void; timer: NodeJS.Timeout } | null = null;
  ioError: string | null = null;
  restarts = 0;

  constructor(private readonly timeLimitMs: number) {}

  async start(): Promise<void> {
    const mods = Object.fromEntries(Object.entries({ errors: 'src/model/errors.ts', data: 'src/io/data.ts', check: 'src/io/data-check.ts', index: 'src/io/index.ts' })
      .map(([k, p]) => [k, pathToFileURL(join(ROOT, p)).href]));
    const w = new Worker(WORKER, { eval: true, workerData: { mods, fits: fitModels() }, resourceLimits: { maxOldGenerationSizeMb: 1024 } });
    this.worker = w;
    await new Promise<void>((resolve, reject) => {
      w.once('message', (m: { ready?: boolean; ioError?: string | null; fatal?: string }) => {
        if (m.fatal) reject(new Error(m.fatal));
        this.ioError = m.ioError ?? null;
        resolve();
      });
      w.once('error', reject);
    });
    w.on('message', (m: Result & { id: number }) => {
      if (this.pending?.id !== m.id) return;
      clearTimeout(this.pending.timer);
      const p = this.pending;
      this.pending = null;
      p.resolve(m);
    });
    const died = (what: string) => () => {
      if (this.worker !== w) return;
      this.worker = null;
      if (this.pending) {
        clearTimeout(this.pending.timer);
        const p = this.pending;
        this.pending = null;
        p.resolve({ outcome: 'worker-died', message: what, ms: 0 });
      }
    };
    w.on('error', (e) => died(`error: ${e.message}`)());
    w.on('exit', (code) => died(`exit ${code}`)());
  }

  async run(c: Case): Promise<Result> {
    if (!this.worker) { this.restarts++; await this.start(); }
    const id = this.next++;
    // Fresh copies: transferring detaches them, and a mutation may return its input unchanged.
    const bytes = c.bytes.slice();
    const files = (c.files ?? []).map(([n, b]) => [n, b.slice()] as [string, Uint8Array]);
    const transfer = [bytes.buffer, ...files.map(([, b]) => b.buffer)] as ArrayBuffer[];
    return new Promise<Result>((resolve) => {
      const timer = setTimeout(() => {
        this.pending = null;
        const w = this.worker;
        this.worker = null;
        void w?.terminate();
        resolve({ outcome: 'hang', message: `no answer within ${this.timeLimitMs * 3} ms`, ms: this.timeLimitMs * 3 });
      }, this.timeLimitMs * 3);
      this.pending = { id, resolve, timer };
      this.worker!.postMessage({ id, kind: c.kind, name: c.name, bytes, files, opts: c.opts }, transfer);
    });
  }

  async stop(): Promise<void> {
    await this.worker?.terminate();
  }
}
