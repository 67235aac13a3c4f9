// The engine page: the workloads of web/workloads.ts in the browser, by hand (a button) or
// programmatically through window.rnnscopeEngine (test/browser-engine.test.ts compares every
// number with Node's and times W on both sides). For the wasm kernels' shared memory the page
// must be cross-origin isolated (served with COOP/COEP headers).

import { describeKernels, kernelInfo, makeKernels, type KernelChoice } from './kernel-choice.js';
import { prepare, stackGradient, timeGradient, workloadById, type PreparedStack } from './workloads.js';

const prepared = new Map<string, PreparedStack>();
function prepared1(id: string): PreparedStack {
  let p = prepared.get(id);
  if (!p) prepared.set(id, (p = prepare(workloadById(id))));
  return p;
}

export interface EngineApi {
  kernelInfo: typeof kernelInfo;
  /** Description of the kernel set (name, memory mode). */
  describe(k: KernelChoice): string;
  /** Loss and every gradient array of workload `id`. */
  gradient(id: string, k: KernelChoice): { loss: number; grads: Record<string, number[]> };
  /** Seconds of `reps` gradients of workload `id` after `warmup` untimed ones. */
  time(
    id: string,
    k: KernelChoice,
    reps: number,
    warmup?: number,
  ): { seconds: number[]; gradNorm: number; loss: number };
}

const api: EngineApi = {
  kernelInfo,
  describe: (k) => describeKernels(makeKernels(k)),
  gradient: (id, k) => stackGradient(prepared1(id), makeKernels(k)),
  time(id, k, reps, warmup = 1) {
    const p = prepared1(id),
      kern = makeKernels(k);
    if (warmup > 0) timeGradient(p, kern, warmup);
    return timeGradient(p, kern, reps);
  },
};

(globalThis as unknown as { rnnscopeEngine: EngineApi }).rnnscopeEngine = api;

// ---- the page ----------------------------------------------------------------------------------
const $ = (id: string): HTMLElement => document.getElementById(id)!;
const info = kernelInfo();
const sel = $('kernels') as HTMLSelectElement;
sel.replaceChildren(...info.available.map((k) => new Option(k, k)));
sel.value = info.available.includes('wasm') ? 'wasm' : 'js';
$('env').textContent =
  `${navigator.userAgent.match(/(Chrome|Firefox|Safari)\/[\d.]+/)?.[0] ?? navigator.userAgent}; cross-origin isolated: ${info.crossOriginIsolated ? 'yes' : 'no (the wasm kernels copy operands)'}; kernels here: ${info.available.join(', ')}.`;
$('run').addEventListener('click', () => {
  const k = sel.value as KernelChoice;
  const reps = Math.max(1, Math.min(20, Number(($('reps') as HTMLInputElement).value) || 3));
  document.body.dataset['state'] = 'loading';
  $('status').textContent = `Running W with ${k} (one warm-up, then ${reps})…`;
  setTimeout(() => {
    const r = api.time('W', k, reps);
    const tr = document.createElement('tr');
    for (const c of [
      api.describe(k),
      r.seconds.map((s) => s.toFixed(3)).join(', '),
      Math.min(...r.seconds).toFixed(3),
      r.gradNorm.toPrecision(6),
    ]) {
      const td = document.createElement('td');
      td.textContent = c;
      tr.append(td);
    }
    $('results').querySelector('tbody')!.append(tr);
    $('status').textContent = 'Done.';
    document.body.dataset['state'] = 'loaded';
  }, 20);
});
document.body.dataset['ready'] = 'true';
