// The worker side of the gradient pool (pool.ts): one per worker thread (Node worker_threads or a
// Web Worker; the platform shell only forwards messages). It keeps the models it was sent and its
// own kernels, and answers each job with lossAndGrads on its share of the batch, written into the
// shared data buffer (pool-wire.ts).

import type { ModelSpec } from '../model/types.js';
import { RnnscopeError } from '../model/errors.js';
import { materializeParams, type Params } from './graph.js';
import { jsKernels, type Kernels } from './kernels-js.js';
import { createWasmKernels } from './kernels-wasm.js';
import { placerFor, settle } from './pool-place.js';
import { lossAndGrads } from './run.js';
import type { Tensor } from './tensor.js';
import {
  DONE,
  FAILED,
  GRADIENT_TAPS,
  META_AT,
  META_LEN,
  READY,
  STATE,
  readArray,
  writeArrays,
  writeText,
  type Job,
  type ResponseMeta,
  type WireArray,
} from './pool-wire.js';

export type PoolMessage =
  | { type: 'init'; ctl: SharedArrayBuffer; data: SharedArrayBuffer }
  | { type: 'model'; id: number; model: ModelSpec; drop: number[] }
  | TaskMessage
  | Job;

/**
 * A task: `name` exported by the module at `module` (a URL), called with `args` and a progress
 * callback; its result (or error) goes back as a message, its whole-buffer typed arrays moved, not
 * copied. The analysis runs its batch ranges this way (analyze-range.ts).
 */
export interface TaskMessage {
  type: 'task';
  id: number;
  module: string;
  name: string;
  args: unknown;
}

/** What a worker posts back for a task: progress, or its end. */
export type TaskReply =
  | { task: number; progress: unknown }
  | { task: number; ok: true; result: unknown }
  | { task: number; ok: false; stage: string; message: string };

type Post = (m: TaskReply, transfer?: ArrayBuffer[]) => void;

/** A task module: its exported functions by name (what `import(url)` gives). */
export type TaskModule = Record<string, unknown>;

/**
 * The message handler of one pool worker; `post` sends task replies to the pool. `modules` holds task
 * modules by the name a TaskMessage gives (a bundled worker, which cannot import a URL); any other name
 * is imported as a URL.
 */
export function poolWorker(post: Post, modules: Record<string, TaskModule> = {}): (m: PoolMessage) => void {
  let ctl: Int32Array | null = null;
  let data: SharedArrayBuffer | null = null;
  const models = new Map<number, { model: ModelSpec; params: Map<string, Params> }>();
  const kernelSets = new Map<string, Kernels>();
  const kernelsFor = (k: Job['kernels']): Kernels => {
    if (k === 'js') return jsKernels;
    let set = kernelSets.get(k);
    if (!set) kernelSets.set(k, (set = createWasmKernels({ relaxed: k === 'wasm-relaxed' })));
    return set;
  };
  return (m) => {
    if (m.type === 'init') {
      ctl = new Int32Array(m.ctl);
      data = m.data;
      Atomics.store(ctl, READY, 1);
      Atomics.notify(ctl, READY);
    } else if (m.type === 'task') {
      void runTask(m, post, modules[m.module]);
    } else if (m.type === 'model') {
      for (const id of m.drop) models.delete(id);
      models.set(m.id, { model: m.model, params: new Map() });
    } else if (ctl && data) {
      let meta: ResponseMeta;
      let arrays: WireArray[] = [];
      try {
        const entry = models.get(m.model);
        if (!entry) throw new Error(`gradient pool: model ${m.model} was not sent to this worker.`);
        [meta, arrays] = runJob(m, entry, data, kernelsFor(m.kernels));
      } catch (e) {
        meta = {
          ok: false,
          error: {
            stage: e instanceof RnnscopeError ? e.stage : 'engine',
            message: String((e as Error)?.message ?? e),
          },
        };
      }
      try {
        const end = writeArrays(data, m.respAt, arrays);
        const [at, len] = writeText(data, end, JSON.stringify(meta));
        Atomics.store(ctl, META_AT, at / 8);
        Atomics.store(ctl, META_LEN, len);
        Atomics.store(ctl, STATE, meta.ok ? DONE : FAILED);
      } catch (e) {
        const [at, len] = writeText(
          data,
          0,
          JSON.stringify({ ok: false, error: { stage: 'engine', message: String(e) } }),
        );
        Atomics.store(ctl, META_AT, at / 8);
        Atomics.store(ctl, META_LEN, len);
        Atomics.store(ctl, STATE, FAILED);
      }
      Atomics.notify(ctl, STATE);
    }
  };
}

async function runTask(m: TaskMessage, post: Post, bundled: TaskModule | undefined): Promise<void> {
  try {
    const mod = (bundled ?? (await import(m.module))) as Record<
      string,
      (args: unknown, progress: (p: unknown) => void) => unknown
    >;
    const fn = mod[m.name];
    if (typeof fn !== 'function') throw new Error(`gradient pool: ${m.module} exports no function ${m.name}.`);
    const result = await fn(m.args, (progress) => post({ task: m.id, progress }));
    const reply: TaskReply = { task: m.id, ok: true, result };
    try {
      post(reply, [...ownBuffers(result)]);
    } catch {
      post(reply); // a buffer that cannot move is copied
    }
  } catch (e) {
    const stage = e instanceof RnnscopeError ? e.stage : ((e as { stage?: string })?.stage ?? 'engine');
    post({ task: m.id, ok: false, stage, message: String((e as Error)?.message ?? e) });
  }
}

/** ArrayBuffers that typed arrays inside `v` own whole (so moving them takes nothing else along). */
function ownBuffers(v: unknown, out = new Set<ArrayBuffer>(), depth = 0): Set<ArrayBuffer> {
  if (!v || typeof v !== 'object' || depth > 6) return out;
  if (ArrayBuffer.isView(v)) {
    if (v.buffer instanceof ArrayBuffer && v.byteLength === v.buffer.byteLength) out.add(v.buffer);
    return out;
  }
  for (const x of v instanceof Map ? v.values() : Object.values(v)) ownBuffers(x, out, depth + 1);
  return out;
}

function runJob(
  job: Job,
  entry: { model: ModelSpec; params: Map<string, Params> },
  data: SharedArrayBuffer,
  kern: Kernels,
): [ResponseMeta, WireArray[]] {
  const { model } = entry;
  const f = job.dtype === 'float32' ? 'f32' : 'f64';
  // The parameters come with every job (they change between calls in training); their arrays are reused.
  let params = entry.params.get(job.dtype);
  if (!params) entry.params.set(job.dtype, (params = materializeParams(model, job.dtype)));
  let at = 0;
  for (const ps of params)
    for (const p of ps) {
      const [a, next] = readArray(data, at, f, p.data.length);
      p.data.set(a as Float32Array);
      at = next;
    }
  const take = (shapes: { shape: number[] }[], kind: 'f32' | 'f64'): Tensor[] =>
    shapes.map(({ shape }) => {
      const [a, next] = readArray(
        data,
        at,
        kind,
        shape.reduce((x, y) => x * y, 1),
      );
      at = next;
      return { shape, data: a as Float32Array | Float64Array };
    });
  const inputs = take(job.inputs, f);
  const targets = take(job.targets, 'f64');
  const pl = job.place;
  const r = lossAndGrads(
    model,
    inputs,
    targets,
    { losses: job.losses, flavor: job.flavor, dtype: job.dtype, taps: job.taps, params, kernels: kern },
    pl ? placerFor(pl.layout, pl.placement, pl.lo, pl.hi) : undefined,
  );
  const misfit = pl ? settle(pl.layout, pl.placement, r.taps, pl.lo, pl.hi, job.share) : null;
  if (misfit !== null) return [{ ok: false, error: { stage: 'place', message: misfit } }, []];
  // The share's weight on its gradient-valued per-sample arrays, here on this thread (pool-merge.ts
  // lays them in place as they come); the parameter gradients are weighted in the merge's float64 sum.
  const weigh = (a: WireArray): void => {
    if (job.share !== 1) for (let i = 0; i < a.length; i++) a[i] = a[i]! * job.share;
  };
  const arrays: WireArray[] = [r.perSample, ...r.outputs.map((o) => o.data)];
  for (const gs of r.grads) for (const g of gs) arrays.push(g.data);
  for (const d of r.dInputs)
    if (d) {
      weigh(d.data);
      arrays.push(d.data);
    }
  const taps: NonNullable<ResponseMeta['taps']> = [];
  for (const l of pl ? [] : r.taps.layers) {
    const keys = Object.keys(l.data) as (keyof typeof l.data)[];
    for (const k of keys) {
      if (GRADIENT_TAPS.has(k)) weigh(l.data[k]!);
      arrays.push(l.data[k]!);
    }
    if (l.mask) arrays.push(l.mask);
    taps.push({ layer: l.layer, direction: l.direction, keys, mask: !!l.mask });
  }
  const meta: ResponseMeta = {
    ok: true,
    loss: r.loss,
    arrays: arrays.map((a) => [a instanceof Float32Array ? 'f32' : a instanceof Float64Array ? 'f64' : 'u8', a.length]),
    dInputsNull: r.dInputs.map((d) => d === null),
    taps,
    placed: !!pl,
  };
  return [meta, arrays];
}
