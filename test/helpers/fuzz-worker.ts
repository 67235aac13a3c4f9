// Where io-fuzz.test.ts runs its cases: each case (a mutated data file, or a model file with its
// siblings) is loaded in a worker thread, or in a child process (sources loaded with tsx), so that
// a hang can be cut off (the worker is terminated, and restarted for the next case) and an
// allocation bomb cannot take the test process down (a thread's heap is capped at 1 GiB). A child
// process also reports its peak resident memory after every case, so memory bounds can be asserted.
//
// A case ends as 'ok', the name of the typed error (LoadError, ModelError, a subclass, ...; `typed`), 'untyped' (any
// other exception), 'invalid' (a loader returned a malformed array or model), 'hang' (no answer
// within 3x the time limit, 10x for a case that is also analysed) or 'worker-died'. `wrapped` marks a typed error made
// by a loader's
// catch-all ("... failed (<generic error>); ... please report it."); `stage` and `file` are the
// error's; `phase` says whether loading or the analysis failed. Data that loads is also fitted to
// three small models (fitModels), where only an untyped exception counts. A model that loads is
// analysed when the case asks (`analyze`) and the model is small (ANALYZE_LIMITS): random inputs
// of 2 samples, the library's analyze().

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

const ROOT = join(import.meta.dirname, '..', '..');

/** Loaded models larger than this are not analysed (the fuzz checks robustness, not speed). */
export const ANALYZE_LIMITS = { inputValuesPerSample: 100_000, params: 2_000_000, layers: 500 };

const WORKER = `
const wt = require('node:worker_threads');
const inThread = !!wt.parentPort;
const port = inThread ? wt.parentPort : { on: (ev, f) => process.on('message', f), postMessage: (m) => process.send(m) };
const peakMiB = () => process.resourceUsage().maxRSS / 1024;
async function main(workerData) {
  const { register } = await import('tsx/esm/api');
  register();
  const errors = await import(workerData.mods.errors);
  const data = await import(workerData.mods.data);
  const check = await import(workerData.mods.check);
  let io = null, ioError = null, analysis = null;
  try { io = await import(workerData.mods.index); } catch (e) { ioError = String((e && e.message) || e).split('\\n')[0]; }
  const classify = (e) => {
    if (e instanceof errors.RnnscopeError) {
      const wrapped = /please report it\\.$/.test(e.message);
      return { outcome: e.name, typed: true, wrapped, stage: e.stage, file: e.file ?? null, message: e.message.slice(0, 600) };
    }
    return { outcome: 'untyped', message: String((e && e.stack) || e).slice(0, 1200) };
  };
  const small = (model) => {
    const L = workerData.limits;
    if (model.layers.length > L.layers) return false;
    let params = 0;
    for (const ps of model.params) for (const p of ps) params += p.shape.reduce((a, b) => a * b, 1);
    if (params > L.params) return false;
    return model.inputs.every((id) => model.tensors[id].shape.slice(1).reduce((a, d) => a * (d ?? 6), 1) <= L.inputValuesPerSample);
  };
  port.on('message', async (m) => {
    const t0 = performance.now();
    let res, phase = 'load';
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
        if (res.outcome === 'ok' && m.analyze) {
          if (!small(model)) res.analyzed = 'skipped';
          else {
            phase = 'analyze';
            analysis ??= await import(workerData.mods.analysis);
            await analysis.analyze([model], { inputs: null, targets: null, dataSource: null }, { maxSamples: 2, randomSteps: 6, jacobianSamples: 1, jacobianIterations: 4 });
            res.analyzed = 'ok';
          }
        }
      }
    } catch (e) {
      res = e && e.invalid ? { outcome: 'invalid', message: e.message } : { ...classify(e), phase };
      if (phase === 'analyze') res.analyzed = res.outcome;
    }
    port.postMessage({ id: m.id, ms: performance.now() - t0, maxRssMiB: inThread ? undefined : peakMiB(), ...res });
  });
  port.postMessage({ ready: true, ioError });
}
if (inThread) main(wt.workerData).catch((e) => port.postMessage({ fatal: String((e && e.stack) || e) }));
else process.once('message', (m) => main(m.init).catch((e) => port.postMessage({ fatal: String((e && e.stack) || e) })));
`;

export interface Result {
  outcome: string;
  /** An RnnscopeError (of any subclass). */
  typed?: boolean;
  wrapped?: boolean;
  stage?: string;
  file?: string | null;
  phase?: 'load' | 'analyze';
  /** For a model that loaded and was asked to be analysed: 'ok', 'skipped' (too large) or the error's name. */
  analyzed?: string;
  message?: string;
  ms: number;
  /** Child process mode: the process's peak resident memory so far, MiB. */
  maxRssMiB?: number;
}
export interface Case {
  kind: 'data' | 'model';
  name: string;
  bytes: Uint8Array;
  files?: [string, Uint8Array][];
  opts?: { weights?: string };
  analyze?: boolean;
}

/** Fit checks run on every array that loads: a sequence input, a token input, a softmax output. */
function fitModels(): unknown[] {
  const spec = (inShape: (number | null)[], outShape: (number | null)[], emb: boolean) => ({
    name: 'm',
    params: [[], []],
    weights: new Map(),
    warnings: [],
    layers: [
      { name: 'in', className: 'InputLayer', type: 'InputLayer', shape: inShape, dtype: 'float32' },
      { name: 'emb', className: 'Embedding', type: 'Embedding', inputDim: 5, outputDim: 2, maskZero: false },
    ],
    nodes: emb ? [{ layer: 1, inputs: [0], outputs: [2] }] : [],
    tensors: [
      { id: 0, shape: inShape, dtype: 'float32' },
      { id: 1, shape: outShape, dtype: 'float32' },
      { id: 2, shape: [null, 7, 2], dtype: 'float32' },
    ],
    inputs: [0],
    inputNames: ['in'],
    outputs: [1],
    outputNames: ['out'],
    meta: {
      format: 'test',
      kerasVersion: '3',
      writer: 'keras3',
      backend: null,
      loss: null,
      optimizer: null,
      metrics: null,
      source: 't',
    },
  });
  return [
    [spec([null, 10, 3], [null, 5], false), 'inputs'],
    [spec([null, 7], [null, 5], true), 'inputs'],
    [spec([null, 10, 3], [null, 5], false), 'targets'],
  ];
}

type Port = { post(m: unknown, transfer?: ArrayBuffer[]): void; stop(): Promise<void> };

/** Runs cases one at a time; a case not answered within 3x `timeLimitMs` ends as a 'hang' (and the worker is
 * restarted). */
export class Runner {
  private port: Port | null = null;
  private next = 1;
  private pending: { id: number; resolve: (r: Result) => void; timer: NodeJS.Timeout } | null = null;
  ioError: string | null = null;
  restarts = 0;

  /** `process`: run in a child process (peak memory reported per case) instead of a worker thread. */
  constructor(
    private readonly timeLimitMs: number,
    private readonly opts: { process?: boolean } = {},
  ) {}

  async start(): Promise<void> {
    const mods = Object.fromEntries(
      Object.entries({
        errors: 'src/model/errors.ts',
        data: 'src/io/data.ts',
        check: 'src/io/data-check.ts',
        index: 'src/io/index.ts',
        analysis: 'src/analysis/index.ts',
      }).map(([k, p]) => [k, pathToFileURL(join(ROOT, p)).href]),
    );
    const workerData = { mods, fits: fitModels(), limits: ANALYZE_LIMITS };
    let emitter: Worker | ChildProcess;
    let port: Port;
    if (this.opts.process) {
      const child = spawn(process.execPath, ['-e', WORKER], {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        serialization: 'advanced',
      });
      child.send({ init: workerData });
      emitter = child;
      port = {
        post: (m) => child.send(m as object),
        stop: async () => {
          child.kill('SIGKILL');
        },
      };
    } else {
      const w = new Worker(WORKER, { eval: true, workerData, resourceLimits: { maxOldGenerationSizeMb: 1024 } });
      emitter = w;
      port = {
        post: (m, transfer) => w.postMessage(m, transfer ?? []),
        stop: async () => {
          await w.terminate();
        },
      };
    }
    this.port = port;
    await new Promise<void>((resolve, reject) => {
      emitter.once('message', (m: { ready?: boolean; ioError?: string | null; fatal?: string }) => {
        if (m.fatal) reject(new Error(m.fatal));
        this.ioError = m.ioError ?? null;
        resolve();
      });
      emitter.once('error', reject);
    });
    emitter.on('message', (m: Result & { id: number }) => {
      if (this.pending?.id !== m.id) return;
      clearTimeout(this.pending.timer);
      const p = this.pending;
      this.pending = null;
      p.resolve(m);
    });
    const died = (what: string) => () => {
      if (this.port !== port) return;
      this.port = null;
      if (this.pending) {
        clearTimeout(this.pending.timer);
        const p = this.pending;
        this.pending = null;
        p.resolve({ outcome: 'worker-died', message: what, ms: 0 });
      }
    };
    emitter.on('error', (e: Error) => died(`error: ${e.message}`)());
    emitter.on('exit', (code: number | null, signal?: string | null) => died(`exit ${code ?? signal}`)());
  }

  async run(c: Case): Promise<Result> {
    if (!this.port) {
      this.restarts++;
      await this.start();
    }
    const id = this.next++;
    // Fresh copies: transferring detaches them, and a mutation may return its input unchanged.
    const bytes = c.bytes.slice();
    const files = (c.files ?? []).map(([n, b]) => [n, b.slice()] as [string, Uint8Array]);
    const transfer = [bytes.buffer, ...files.map(([, b]) => b.buffer)] as ArrayBuffer[];
    return new Promise<Result>((resolve) => {
      const timer = setTimeout(
        () => {
          this.pending = null;
          const p = this.port;
          this.port = null;
          void p?.stop();
          const ms = this.timeLimitMs * (c.analyze ? 10 : 3);
          resolve({ outcome: 'hang', message: `no answer within ${ms} ms`, ms });
        },
        this.timeLimitMs * (c.analyze ? 10 : 3),
      );
      this.pending = { id, resolve, timer };
      this.port!.post({ id, kind: c.kind, name: c.name, bytes, files, opts: c.opts, analyze: c.analyze }, transfer);
    });
  }

  async stop(): Promise<void> {
    const p = this.port;
    this.port = null;
    await p?.stop();
  }
}
