// Both cores for one gradient: a persistent pool of worker threads, each with its own kernels,
// that computes lossAndGrads with the batch split by samples.
//
//   pool.lossAndGrads(batch of B) ─► shares [0, B₁) here, [B₁, B₂) worker 1, … (contiguous, in order)
//     ─► each share: lossAndGrads as one thread would, on its own samples
//     ─► merge: per-sample arrays (taps, outputs, dInputs, perSample) at their sample offsets;
//        parameter gradients Σ_j (B_j/B)·g_j summed in share order (deterministic)
//
// Why the share factor B_j/B: the loss is a mean over the batch's samples, so a share's gradient is
// its own mean's; the gradient-valued results (parameter gradients, dInputs and the taps dh, dc, dx,
// gateGrad, docs/taps.md) are linear in the loss and are rescaled, the forward taps are not. With an
// even split the factor is a power of two and the per-sample results equal one thread's exactly.
// A loss whose denominator depends on a mask (Masking, Embedding mask_zero) is not a per-sample mean,
// so such models run on one thread.
//
// The threads come from the platform (pool-node.ts in Node; a Web Worker shell in a cross-origin
// isolated page); this module needs only SharedArrayBuffer and Atomics. The caller's thread blocks
// in Atomics.wait while the workers finish, which browsers allow only off the main thread.

import type { ModelSpec } from '../model/types.js';
import { DataError, EngineError, LoadError, ModelError, OutputError, UsageError } from '../model/errors.js';
import type { RnnscopeError } from '../model/errors.js';
import { materializeParams } from './graph.js';
import { kernels as activeKernels } from './kernels.js';
import { mergeShares, type Share } from './pool-merge.js';
import { allocPlaced, layoutOf, placedLayers, placerFor, settle, type TapLayout } from './pool-place.js';
import type { PoolMessage, TaskReply } from './pool-worker.js';
import {
  CTL_BYTES,
  DONE,
  IDLE,
  META_AT,
  META_LEN,
  POSTED,
  READY,
  STATE,
  growableShared,
  BYTES,
  viewOf,
  readText,
  writeArrays,
  type Job,
  type ResponseMeta,
  type WireArray,
} from './pool-wire.js';
import { lossAndGrads, type GradResult, type LossOptions } from './run.js';
import { alloc, type Tensor } from './tensor.js';

/** A worker thread as the platform gives it: messages in and out, and an end. */
export interface PoolPort {
  postMessage(m: PoolMessage): void;
  onMessage(f: (m: TaskReply) => void): void;
  /** Whether the thread keeps the program alive (while it runs a task), where the platform can say. */
  keepAlive?(on: boolean): void;
  terminate(): unknown;
}

interface Channel {
  port: PoolPort;
  ctl: Int32Array;
  data: SharedArrayBuffer;
  /** Model ids this worker holds, oldest first. */
  models: number[];
  /** Byte offset of the current job's response (after its request). */
  respAt: number;
  /** The end of the last task given to this worker (tasks run one at a time per worker). */
  tasks: Promise<unknown>;
  /** Tasks given and not yet ended. */
  pending: number;
}

/** Models a worker keeps (a watch loop over checkpoints sends a new one per checkpoint). */
const MODELS_KEPT = 2;
/** Tap layouts the pool keeps (pool-place.ts), one per model, request, dtype and input shapes. */
const LAYOUTS_KEPT = 8;
/** Seconds a new worker may take to load its modules before the pool gives up on it. */
const START_S = 120;

const ERRORS: Record<string, new (m: string) => RnnscopeError> = {
  load: LoadError,
  model: ModelError,
  data: DataError,
  engine: EngineError,
  usage: UsageError,
  output: OutputError,
};

let nextModelId = 1;
const modelIds = new WeakMap<ModelSpec, number>();

export interface PoolStats {
  /** lossAndGrads calls, and those split across threads. */
  calls: number;
  split: number;
  /** Workers started over the pool's life (they are started once). */
  workersStarted: number;
}

/** Computes lossAndGrads (run.ts), possibly on several threads: what the analysis takes. */
export interface GradRunner {
  lossAndGrads(model: ModelSpec, inputs: Tensor[], targets: Tensor[], opts: LossOptions): GradResult;
}

export class GradPool implements GradRunner {
  private chans: Channel[] = [];
  private broken: string | null;
  readonly stats: PoolStats = { calls: 0, split: 0, workersStarted: 0 };
  private readonly replies = new Map<number, (m: TaskReply) => void>();
  private nextTask = 1;
  private readonly layouts = new Map<string, TapLayout>();
  /** Whether this thread may block in Atomics.wait (not a browser's main thread). */
  private readonly canWait: boolean;

  /**
   * @param workers worker threads besides the caller's
   * @param spawn starts worker i (its first message is 'init'), or null where the platform has no threads
   * @param unavailable why there are no workers (said by `describe()`), when there are none
   */
  constructor(workers: number, spawn: ((i: number) => PoolPort) | null, unavailable: string | null = null) {
    this.broken = unavailable;
    this.canWait = atomicsWaitAllowed();
    if (!this.broken && !this.canWait) this.broken = 'this thread may not block (Atomics.wait), as on a page';
    if (!this.broken && (!spawn || workers < 1)) this.broken = 'no worker threads';
    if (this.broken || !spawn) return;
    for (let i = 0; i < workers; i++) {
      const data = growableShared(1 << 20);
      if (!data) {
        this.broken = 'this runtime has no growable SharedArrayBuffer';
        break;
      }
      const ctl = new Int32Array(new SharedArrayBuffer(CTL_BYTES));
      const port = spawn(i);
      this.stats.workersStarted++;
      port.postMessage({ type: 'init', ctl: ctl.buffer as SharedArrayBuffer, data });
      const c: Channel = { port, ctl, data, models: [], respAt: 0, tasks: Promise.resolve(), pending: 0 };
      port.onMessage((m) => this.replies.get(m.task)?.(m));
      this.chans.push(c);
    }
    if (this.broken) void this.close();
  }

  /** Threads a gradient uses (the caller's included). */
  get threads(): number {
    return this.broken ? 1 : this.chans.length + 1;
  }

  /** One line for --verbose: how gradients run, and why on one thread when they do. */
  describe(): string {
    return this.broken
      ? `gradients on one thread: ${this.broken}`
      : `gradients on ${this.threads} threads (this one and ${this.chans.length} persistent worker${this.chans.length > 1 ? 's' : ''}, each with its own kernels)`;
  }

  /** Marks the pool unusable (e.g. a worker died); later calls run on the caller's thread. */
  fail(reason: string): void {
    this.broken ??= reason;
    for (const [id, f] of [...this.replies])
      f({ task: id, ok: false, stage: 'engine', message: `The gradient pool stopped: ${reason}.` });
  }

  /** Ends the workers; later calls run on the caller's thread. */
  async close(): Promise<void> {
    this.broken ??= 'the pool was closed';
    const chans = this.chans;
    this.chans = [];
    await Promise.all(chans.map((c) => c.port.terminate()));
  }

  /** Worker threads that run tasks (0 when the pool is unusable). */
  get workers(): number {
    return this.broken ? 0 : this.chans.length;
  }

  /**
   * Runs `name` of the module at URL `module` on a worker (the one with the fewest waiting tasks;
   * one task at a time per worker): see TaskMessage. Errors arrive as the RnnscopeError of their stage.
   */
  runTask<R>(module: string, name: string, args: unknown, onProgress?: (p: unknown) => void): Promise<R> {
    if (this.broken || !this.chans.length)
      return Promise.reject(new EngineError(`The gradient pool has no workers: ${this.broken ?? 'none'}.`));
    const c = this.chans.reduce((a, b) => (b.pending < a.pending ? b : a));
    if (c.pending++ === 0) c.port.keepAlive?.(true);
    const id = this.nextTask++;
    const run = (): Promise<R> =>
      new Promise<R>((resolve, reject) => {
        this.replies.set(id, (m) => {
          if ('progress' in m) return onProgress?.(m.progress);
          this.replies.delete(id);
          if (m.ok) resolve(m.result as R);
          else reject(new (ERRORS[m.stage] ?? EngineError)(m.message));
        });
        c.port.postMessage({ type: 'task', id, module, name, args });
      });
    // An idle worker gets the task at once: a caller that goes on computing synchronously (the analysis's
    // own range) would otherwise hold back the microtask that posts it until it is done.
    const p = c.pending === 1 ? run() : c.tasks.then(run, run);
    const end = (): void => {
      if (--c.pending === 0) c.port.keepAlive?.(false);
    };
    c.tasks = p.then(end, end);
    return p;
  }

  /** Why this call runs on one thread, or null when it is split. */
  private whyNot(model: ModelSpec, B: number, opts: LossOptions): string | null {
    if (this.broken) return this.broken;
    if (this.chans.some((c) => c.pending > 0)) return 'the workers are running tasks';
    if (B < this.threads) return `batch of ${B} samples`;
    if (model.layers.some((l) => l.type === 'Masking' || (l.type === 'Embedding' && l.maskZero)))
      return 'the loss of a masked model is not a mean over samples';
    if (kernelTag(opts) === null) return 'kernels other than the built-in ones';
    return null;
  }

  /** lossAndGrads (run.ts) with the batch split across the pool's threads; the same result within float32 rounding. */
  lossAndGrads(model: ModelSpec, inputs: Tensor[], targets: Tensor[], opts: LossOptions): GradResult {
    this.stats.calls++;
    const B = inputs[0]?.shape[0] ?? 0;
    if (this.whyNot(model, B, opts) !== null) return lossAndGrads(model, inputs, targets, opts);
    this.stats.split++;
    const dtype = opts.dtype ?? 'float32';
    const n = this.threads;
    const cut = Array.from({ length: n + 1 }, (_, i) => Math.floor((i * B) / n));
    const params = opts.params ?? materializeParams(model, dtype);
    // With a known tap layout, every thread records its taps straight into the result (pool-place.ts).
    const key = opts.taps ? layoutKey(idOf(model), dtype, opts, inputs) : null;
    const layout = key ? this.layouts.get(key) : undefined;
    const placement = layout ? allocPlaced(layout, B, dtype === 'float64') : null;
    const posted: Channel[] = [];
    let mine: GradResult | undefined;
    let misfit: string | null = null;
    let err: unknown;
    try {
      for (let j = 1; j < n; j++) {
        const c = this.chans[j - 1]!;
        const [lo, hi] = [cut[j]!, cut[j + 1]!];
        const place = layout && placement ? { layout, placement, lo, hi } : undefined;
        this.post((hi - lo) / B, c, model, sliceAll(inputs, lo, hi), sliceAll(targets, lo, hi), params, opts, place);
        posted.push(c);
      }
      const [xs, ts] = [sliceAll(inputs, 0, cut[1]!), sliceAll(targets, 0, cut[1]!)];
      const place = layout && placement ? placerFor(layout, placement, 0, cut[1]!) : undefined;
      mine = lossAndGrads(model, xs, ts, { ...opts, params }, place);
      if (layout && placement) misfit = settle(layout, placement, mine.taps, 0, cut[1]!, cut[1]! / B);
    } catch (e) {
      err = e;
    }
    // Every posted worker is waited for, also after an error here: they use the shared buffers.
    const answers = posted.map((c) => this.collect(c));
    if (err !== undefined) throw err;
    misfit ??= answers.find((a) => a.meta.error?.stage === 'place')?.meta.error?.message ?? null;
    if (misfit !== null) {
      // Taps unlike the learnt layout's (not expected: the engine records the same taps for the same call).
      this.layouts.delete(key!);
      return lossAndGrads(model, inputs, targets, { ...opts, params });
    }
    const shares: Share[] = [{ samples: cut[1]!, r: mine! }];
    answers.forEach((a, j) => {
      if (!a.meta.ok) {
        const e = a.meta.error!;
        throw new (ERRORS[e.stage] ?? EngineError)(e.message);
      }
      shares.push({ samples: cut[j + 2]! - cut[j + 1]!, wire: a });
    });
    const r = mergeShares(shares, B, layout && placement ? placedLayers(layout, placement, B) : null);
    if (key && !layout) {
      const learnt = layoutOf(r.taps, B);
      if (learnt) {
        if (this.layouts.size >= LAYOUTS_KEPT) this.layouts.delete(this.layouts.keys().next().value!);
        this.layouts.set(key, learnt);
      }
    }
    return r;
  }

  private post(
    share: number,
    c: Channel,
    model: ModelSpec,
    xs: Tensor[],
    ts: Tensor[],
    params: Tensor[][],
    opts: LossOptions,
    place: Job['place'],
  ): void {
    if (Atomics.load(c.ctl, READY) !== 1 && Atomics.wait(c.ctl, READY, 0, START_S * 1e3) === 'timed-out') {
      this.fail(`a worker did not start within ${START_S} s`);
      throw new EngineError(
        `The gradient pool's worker did not start within ${START_S} s; run again (gradients then use one thread).`,
      );
    }
    const id = idOf(model);
    if (!c.models.includes(id)) {
      const drop = c.models.splice(0, Math.max(0, c.models.length + 1 - MODELS_KEPT));
      c.port.postMessage({ type: 'model', id, model, drop });
      c.models.push(id);
    }
    const dtype = opts.dtype ?? 'float32';
    const arrays: WireArray[] = [];
    for (const ps of params) for (const p of ps) arrays.push(p.data);
    for (const x of xs) arrays.push(inDType(x.data, dtype));
    for (const t of ts) {
      const d = new Float64Array(t.data.length);
      d.set(t.data);
      arrays.push(d);
    }
    const respAt = writeArrays(c.data, 0, arrays);
    c.respAt = respAt;
    const job: Job = {
      type: 'job',
      model: id,
      dtype,
      kernels: kernelTag(opts)!,
      taps: opts.taps ?? null,
      losses: opts.losses,
      flavor: opts.flavor,
      inputs: xs.map((x) => ({ shape: x.shape })),
      targets: ts.map((t) => ({ shape: t.shape })),
      share,
      respAt,
      ...(place ? { place } : {}),
    };
    Atomics.store(c.ctl, STATE, POSTED);
    c.port.postMessage(job);
  }

  /**
   * Waits for a worker's answer; its arrays are views of the shared buffer, valid until the next job
   * (mergeShares copies them into the result).
   */
  private collect(c: Channel): { meta: ResponseMeta; arrays: WireArray[] } {
    while (Atomics.load(c.ctl, STATE) === POSTED) Atomics.wait(c.ctl, STATE, POSTED, 1000);
    const done = Atomics.load(c.ctl, STATE) === DONE;
    const meta = JSON.parse(
      readText(c.data, Atomics.load(c.ctl, META_AT) * 8, Atomics.load(c.ctl, META_LEN)),
    ) as ResponseMeta;
    Atomics.store(c.ctl, STATE, IDLE);
    const arrays: WireArray[] = [];
    if (!done || !meta.arrays) return { meta: done ? meta : { ...meta, ok: false }, arrays };
    let at = c.respAt;
    for (const [kind, len] of meta.arrays) {
      arrays.push(viewOf(c.data, at, kind, len));
      at += (len * BYTES[kind] + 7) & ~7;
    }
    return { meta, arrays };
  }
}

function idOf(model: ModelSpec): number {
  let id = modelIds.get(model);
  if (id === undefined) modelIds.set(model, (id = nextModelId++));
  return id;
}

/** What fixes a call's taps: the model, dtype, kernels, request and the inputs' shapes after the batch. */
function layoutKey(id: number, dtype: string, opts: LossOptions, inputs: Tensor[]): string {
  const shapes = inputs.map((x) => x.shape.slice(1).join('x')).join(',');
  return `${id}|${dtype}|${kernelTag(opts)}|${JSON.stringify(opts.taps)}|${shapes}`;
}

function kernelTag(opts: LossOptions): Job['kernels'] | null {
  const name = (opts.kernels ?? activeKernels()).name;
  return name === 'js' ? 'js' : name === 'wasm-simd' ? 'wasm' : name === 'wasm-relaxed-simd' ? 'wasm-relaxed' : null;
}

function sliceAll(ts: Tensor[], lo: number, hi: number): Tensor[] {
  return ts.map((t) => {
    const per = t.shape.slice(1).reduce((a, b) => a * b, 1);
    const data =
      t.data instanceof Float32Array || t.data instanceof Float64Array
        ? t.data.subarray(lo * per, hi * per)
        : copyOf(t.data, lo * per, hi * per);
    return { shape: [hi - lo, ...t.shape.slice(1)], data };
  });
}

function inDType(a: ArrayLike<number>, dtype: 'float32' | 'float64'): WireArray {
  if (dtype === 'float32' ? a instanceof Float32Array : a instanceof Float64Array) return a as WireArray;
  const out = alloc(dtype, a.length);
  out.set(a);
  return out;
}

function copyOf(a: ArrayLike<number>, lo: number, hi: number): Float64Array {
  const out = alloc('float64', hi - lo) as Float64Array;
  for (let i = lo; i < hi; i++) out[i - lo] = a[i]!;
  return out;
}

function atomicsWaitAllowed(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}
