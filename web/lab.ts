// The lab page: pick model files, load them with rnnscope's loaders, show the summary, run a
// forward pass and a gradient. A thin shell over the library; everything it computes comes from
// web/compute.ts, which the browser tests also run in Node.
//
//   <input type=file> ──File[]──► chooseModelFiles ──FileSet──► openModel (src/io)
//        ──ModelSpec──► modelFacts / forward / gradientDigest ──► tables, window.rnnscopeLab.last
//
// window.rnnscopeLab is the page's programmatic surface (used by test/browser-loaders.test.ts).

import { openModel } from '../src/io/index.js';
import type { ModelSpec } from '../src/model/types.js';
import { embeddingFor, randomInputs } from '../src/analysis/objective.js';
import { chooseModelFiles, fileSetOf, roleOf, type Choice, type PickedFile, type Role } from './model-files.js';
import {
  forward,
  gradientDigest,
  modelFacts,
  toPlain,
  type GradDigest,
  type ModelFacts,
  type PlainTensor,
} from './compute.js';
import { describeKernels, kernelInfo, makeKernels, type KernelChoice } from './kernel-choice.js';

export interface LabError {
  /** Error class: LoadError, ModelError, DataError, EngineError, or a generic one. */
  name: string;
  stage: string | null;
  message: string;
}

export interface LabRun {
  kernels: string;
  inputs: PlainTensor[];
  outputs: PlainTensor[];
  forwardMs: number;
  loss: number;
  grads: GradDigest[];
  gradientMs: number;
}

export interface LabResult {
  files: { name: string; size: number; role: Role }[];
  choice: Choice | null;
  facts: ModelFacts | null;
  error: LabError | null;
  run: LabRun | null;
}

/** Samples and (unknown) time steps of the sample input the page runs the model on. */
const SAMPLE = { n: 2, steps: 20, seed: 1 };

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`lab.html lacks #${id}`);
  return el as T;
};

function el(tag: string, text?: string, cls?: string): HTMLElement {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function row(tbody: HTMLElement, cells: (string | HTMLElement)[], numeric: number[] = []): void {
  const tr = el('tr');
  cells.forEach((c, i) => {
    const td = el('td', typeof c === 'string' ? c : undefined, numeric.includes(i) ? 'num' : undefined);
    if (typeof c !== 'string') td.append(c);
    tr.append(td);
  });
  tbody.append(tr);
}

const fmt = (v: number): string =>
  v === 0 ? '0' : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toPrecision(5) : v.toExponential(3);
const ROLE_TEXT: Record<Role, string> = {
  tfjs: 'TF.js model.json',
  'keras-zip': 'Keras 3 .keras (zip)',
  'keras-folder': 'unzipped .keras config',
  architecture: 'to_json() architecture',
  hdf5: 'HDF5 (.h5)',
  other: 'sibling / other',
};

function setState(state: 'idle' | 'loading' | 'loaded' | 'error', text: string): void {
  document.body.dataset['state'] = state;
  $('status').textContent = text;
}

function errorOf(e: unknown): LabError {
  if (e instanceof Error) {
    const stage = 'stage' in e && typeof e.stage === 'string' ? e.stage : null;
    return { name: e.name, stage, message: e.message };
  }
  return { name: 'Error', stage: null, message: String(e) };
}

async function readPicked(files: readonly File[]): Promise<PickedFile[]> {
  // A folder pick names files by their path inside the folder; the loaders find siblings by that name or by base name.
  return Promise.all(
    files.map(async (f) => ({ name: f.webkitRelativePath || f.name, bytes: new Uint8Array(await f.arrayBuffer()) })),
  );
}

let held: PickedFile[] = [];
let model: ModelSpec | null = null;
let last: LabResult | null = null;
let loads = 0;

function currentKernels(): KernelChoice {
  return ($('kernels') as HTMLSelectElement).value as KernelChoice;
}

/** Runs the sample input forward and backward on the loaded model. */
function runSample(m: ModelSpec, choice: KernelChoice): LabRun {
  const kernels = makeKernels(choice);
  const inputs = randomInputs(m, SAMPLE.n, SAMPLE.steps, SAMPLE.seed).map(toPlain);
  let t0 = performance.now();
  const outputs = forward(m, inputs, kernels);
  const forwardMs = performance.now() - t0;
  t0 = performance.now();
  const g = gradientDigest(m, inputs, kernels);
  return {
    kernels: describeKernels(kernels),
    inputs,
    outputs,
    forwardMs,
    loss: g.loss,
    grads: g.grads,
    gradientMs: performance.now() - t0,
  };
}

/** Loads `files` (choosing the model and weights files unless `pick` says), shows and returns the result. */
async function loadFiles(
  files: readonly File[] | readonly PickedFile[],
  pick: { main?: string; weights?: string | null } = {},
): Promise<LabResult> {
  setState('loading', `Reading ${files.length} file(s)…`);
  held = files.length && files[0] instanceof File ? await readPicked(files as File[]) : [...(files as PickedFile[])];
  model = null;
  const auto = chooseModelFiles(held);
  const main = pick.main ?? auto?.main ?? held[0]?.name;
  const weights = pick.weights !== undefined ? pick.weights : auto?.main === main ? auto.weights : null;
  const roles = auto?.roles ?? Object.fromEntries(held.map((f) => [f.name, roleOf(f)]));
  const choice = main === undefined ? null : { main, weights, roles };
  const result: LabResult = {
    files: held.map((f) => ({ name: f.name, size: f.bytes.length, role: roles[f.name] ?? 'other' })),
    choice,
    facts: null,
    error: null,
    run: null,
  };
  showFiles(result);
  try {
    if (!choice) throw new Error('No files were chosen; pick a model file.');
    setState('loading', `Loading ${choice.main}${choice.weights ? ` with weights ${choice.weights}` : ''}…`);
    const m = await openModel(fileSetOf(held, choice.main), choice.weights ? { weights: choice.weights } : {});
    model = m;
    result.facts = modelFacts(m);
    showSummary(result.facts);
    setState('loading', 'Running the sample input forward and backward…');
    await new Promise((r) => setTimeout(r, 0)); // let the status paint before the engine blocks the thread
    result.run = runSample(m, currentKernels());
    showRun(result.run, m);
    setState(
      'loaded',
      `Loaded ${result.facts.name} (${result.facts.format}, Keras ${result.facts.kerasVersion}): ` +
        `${result.facts.layers.length} layers, ${result.facts.params.total.toLocaleString('en-US')} ` +
        `parameters.`,
    );
  } catch (e) {
    result.error = errorOf(e);
    showError(result.error);
    setState('error', `${result.error.name}: ${result.error.message}`);
  }
  last = result;
  loads++;
  document.body.dataset['loads'] = String(loads); // tests wait on this counter
  return result;
}

function showFiles(r: LabResult): void {
  for (const id of ['error-view', 'summary-view', 'run-view']) $(id).hidden = true;
  $('files-view').hidden = false;
  const tbody = $('file-table').querySelector('tbody')!;
  tbody.replaceChildren();
  for (const f of r.files) row(tbody, [f.name, f.size.toLocaleString('en-US'), ROLE_TEXT[f.role]], [1]);
  const mainSel = $('main') as HTMLSelectElement,
    wSel = $('weights') as HTMLSelectElement;
  mainSel.replaceChildren(...r.files.map((f) => new Option(f.name, f.name, false, f.name === r.choice?.main)));
  wSel.replaceChildren(
    new Option('(none)', ''),
    ...r.files.map((f) => new Option(f.name, f.name, false, f.name === r.choice?.weights)),
  );
  if (!r.choice?.weights) wSel.value = '';
}

function showError(e: LabError): void {
  $('error-view').hidden = false;
  $('error-class').textContent = e.name;
  $('error-message').textContent = e.message;
}

function showSummary(f: ModelFacts): void {
  $('summary-view').hidden = false;
  $('summary').textContent = f.summary;
}

function showRun(run: LabRun, m: ModelSpec): void {
  $('run-view').hidden = false;
  const shapes = run.inputs.map((x, i) => `${m.inputNames[i]} (${x.shape.join(', ')})`).join(', ');
  const tokens = m.inputs.some((id) => embeddingFor(m, id) !== null) ? ' (token ids for Embedding inputs)' : '';
  $('forward-note').textContent =
    `Seeded random input ${shapes}${tokens}; ${run.forwardMs.toFixed(1)} ms with the ${run.kernels} kernels.`;
  const out = $('output-table').querySelector('tbody')!;
  out.replaceChildren();
  run.outputs.forEach((y, i) => {
    const per = y.data.length / y.shape[0]!;
    const first = y.data.slice(0, Math.min(per, 6)).map(fmt).join(', ') + (per > 6 ? `, … (${per} values)` : '');
    row(out, [m.outputNames[i] ?? `output ${i}`, `(${y.shape.join(', ')})`, first]);
  });
  $('gradient-note').textContent =
    `L = ½‖y‖² averaged over the ${run.inputs[0]?.shape[0] ?? 0} samples (needs no targets) = ${fmt(run.loss)}; ${run.gradientMs.toFixed(1)} ms for the forward and backward pass.`;
  const gt = $('grad-table').querySelector('tbody')!;
  gt.replaceChildren();
  const max = Math.max(...run.grads.map((g) => g.norm), 1e-300);
  for (const g of run.grads) {
    const bar = el('span', undefined, 'bar');
    bar.style.width = `${Math.max(1, Math.round((200 * g.norm) / max))}px`;
    row(gt, [g.key, `(${g.shape.join(', ')})`, fmt(g.norm), bar], [2]);
  }
}

function setup(): void {
  const info = kernelInfo();
  const sel = $('kernels') as HTMLSelectElement;
  const label: Record<KernelChoice, string> = {
    js: 'JavaScript (reference)',
    'wasm-simd': 'WebAssembly SIMD',
    'wasm-relaxed-simd': 'WebAssembly relaxed SIMD',
    wasm: 'WebAssembly (best available)',
  };
  sel.replaceChildren(...info.available.map((k) => new Option(label[k], k)));
  const want = new URLSearchParams(location.search).get('kernels');
  sel.value = want && info.available.includes(want as KernelChoice) ? want : 'js';
  const onPick = (input: HTMLInputElement) => () => {
    if (input.files?.length) void loadFiles(Array.from(input.files));
  };
  $<HTMLInputElement>('files').addEventListener('change', onPick($('files')));
  $<HTMLInputElement>('folder').addEventListener('change', onPick($('folder')));
  const repick = () => {
    if (!held.length) return;
    void loadFiles(held, {
      main: ($('main') as HTMLSelectElement).value,
      weights: ($('weights') as HTMLSelectElement).value || null,
    });
  };
  $('main').addEventListener('change', repick);
  $('weights').addEventListener('change', repick);
  sel.addEventListener('change', () => {
    if (!model || !last) return;
    last.run = runSample(model, currentKernels());
    showRun(last.run, model);
  });
}

export interface LabApi {
  loadFiles: typeof loadFiles;
  /** The last load's result (also after an error). */
  readonly last: LabResult | null;
  /** Outputs of the loaded model on `inputs` with the named kernels. */
  predict(inputs: PlainTensor[], kernels?: KernelChoice): PlainTensor[];
  /** Gradient digest of ½‖y‖² on `inputs` with the named kernels. */
  gradient(inputs: PlainTensor[], kernels?: KernelChoice): { loss: number; grads: GradDigest[] };
  kernelInfo: typeof kernelInfo;
}

function loaded(): ModelSpec {
  if (!model) throw new Error('No model is loaded.');
  return model;
}

const api: LabApi = {
  loadFiles,
  get last() {
    return last;
  },
  predict: (inputs, k = 'js') => forward(loaded(), inputs, makeKernels(k)),
  gradient: (inputs, k = 'js') => gradientDigest(loaded(), inputs, makeKernels(k)),
  kernelInfo,
};

setup();
(globalThis as unknown as { rnnscopeLab: LabApi }).rnnscopeLab = api;
document.body.dataset['ready'] = 'true';
