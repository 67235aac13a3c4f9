// The app page: drop a model (and data), get the report `rnnscope analyze` writes, computed in a
// worker on this machine. A thin shell: the worker (web/app-worker.ts) does all reading and
// computing with the library; this file keeps the page's state and wires the DOM.
//
//   drop / pick ──Dropped[]──► size check ──File handles──► worker: inspection ──► table, questions
//   Analyse ──options, answers──► worker: progress … result ──► report iframe, Save buttons
//   Cancel: terminate the worker (its memory goes with it), start a fresh one with the same files.
//
// window.rnnscopeApp is the page's programmatic surface (test/browser-app.test.ts).

import WORKER_JS from 'rnnscope-text:app-worker';
import type { Answers, Inspection, Question } from './app-inspect.js';
import {
  errorOf,
  type AppError,
  type AppOptions,
  type AppResult,
  type FromWorker,
  type Progress,
  type ToWorker,
} from './app-protocol.js';
import { filesOfDrop, filesOfInput, sizeRefusals, type Dropped } from './app-drop.js';
import { $, progressOf, renderErrors, renderFiles, renderQuestions, renderRuns } from './app-view.js';
import { chartFile, saveBytes, saveText } from './app-save.js';
import type { GradientAnswer, GradientRequest } from './app-gradient.js';

type State = 'empty' | 'inspecting' | 'blocked' | 'ready' | 'running' | 'done' | 'failed' | 'cancelled';

let dropped: Dropped[] = [];
let answers: Answers = {};
let inspection: Inspection | null = null;
let result: AppResult | null = null;
let pageErrors: AppError[] = [];
let worker: Worker | null = null;
let jacobians = 0;
/** The loss field re-sorts the files (targets depend on it) a moment after typing stops. */
let lossTimer = 0;
/** Settled events (inspection, result, failure, cancel), counted for tests to wait on. */
let settled = 0;
/** Gradient requests (api.gradient) awaiting their answer, in order (the worker answers in order). */
const gradientWaiting: { resolve(g: GradientAnswer): void; reject(e: Error): void }[] = [];
const workerUrl = URL.createObjectURL(new Blob([WORKER_JS], { type: 'text/javascript' }));

function setState(s: State, status = ''): void {
  document.body.dataset['state'] = s;
  $('status').textContent = status;
  const running = s === 'running';
  $<HTMLButtonElement>('analyze').disabled = running || !(inspection?.ready ?? false) || s === 'inspecting';
  $<HTMLButtonElement>('cancel').disabled = !running;
  $('progress-view').hidden = !running;
}

function settle(): void {
  document.body.dataset['settled'] = String(++settled);
}

function send(m: ToWorker): void {
  worker ??= startWorker();
  worker.postMessage(m);
}

function startWorker(): Worker {
  const w = new Worker(workerUrl, { name: 'rnnscope-analysis' });
  w.onmessage = (e: MessageEvent<FromWorker>) => onMessage(e.data);
  w.onerror = (e) => {
    e.preventDefault();
    onMessage({
      type: 'failed',
      error: {
        name: 'Error',
        stage: null,
        message: `The analysis worker stopped (${e.message}); expected it to finish; reload the page and try again, and please report it if it repeats.`,
      },
    });
  };
  return w;
}

function options(): AppOptions {
  const num = (id: string) => {
    const v = $<HTMLInputElement>(id).value.trim();
    return v === '' ? undefined : Number(v);
  };
  const loss = $<HTMLInputElement>('opt-loss').value.trim();
  // ?kernels=js|wasm-simd|wasm-relaxed-simd|wasm picks the kernel set (as on the lab page), e.g. to match Node's;
  const query = new URLSearchParams(location.search);
  const kernels = query.get('kernels') as AppOptions['kernels'] | null;
  // ?threads=N caps the threads of the analysis (as RNNSCOPE_THREADS in the command line).
  const threads = Number(query.get('threads'));
  return {
    ...(kernels ? { kernels } : {}),
    ...(Number.isInteger(threads) && threads >= 1 ? { threads } : {}),
    loss: loss === '' ? undefined : loss,
    batchSize: num('opt-batch'),
    maxSamples: num('opt-max'),
    connectivity: $<HTMLInputElement>('opt-connectivity').checked,
    dump: $<HTMLInputElement>('opt-dump').checked,
  };
}

function showErrors(): void {
  renderErrors([...pageErrors, ...(inspection?.errors ?? [])]);
}

function onMessage(m: FromWorker): void {
  if (m.type === 'progress') {
    showProgress(m.progress);
    return;
  }
  if (m.type === 'inspection') {
    inspection = m.inspection;
    $('files-view').hidden = false;
    $('options-view').hidden = inspection.runs.length === 0;
    renderFiles(inspection, removeFile);
    renderRuns(inspection);
    renderQuestions(inspection.questions, answer);
    showErrors();
    const waiting =
      inspection.questions.length > 0
        ? 'Answer the question above to continue.'
        : inspection.errors.length
          ? 'Fix or remove the refused files to continue.'
          : 'Ready.';
    if (document.body.dataset['state'] !== 'running') setState(inspection.ready ? 'ready' : 'blocked', waiting);
  } else if (m.type === 'result') {
    result = m.result;
    showResult(m.result);
    setState('done', `Done in ${(m.result.ms / 1000).toFixed(1)} s on the ${m.result.kernels} kernels.`);
    const t = m.result.threads;
    $('run-details').textContent = `${t.charAt(0).toUpperCase()}${t.slice(1)}.`;
  } else if (m.type === 'gradient') {
    gradientWaiting.shift()?.resolve(m.gradient);
    return;
  } else {
    const g = gradientWaiting.shift();
    if (g) {
      g.reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
      return;
    }
    pageErrors = [m.error];
    showErrors();
    setState('failed', 'The analysis stopped; see the message above.');
  }
  settle();
}

function showProgress(p: Progress): void {
  if (p.phase === 'jacobian') jacobians++;
  const { fraction, text } = progressOf(p, jacobians);
  $<HTMLProgressElement>('progress').value = fraction;
  $('progress-text').textContent = text;
}

function showResult(r: AppResult): void {
  $('result-view').hidden = false;
  $('random-banner').hidden = !r.random;
  $<HTMLButtonElement>('save-npz').disabled = r.npz === null;
  $('result-note').textContent = r.npz === null ? ' (no .npz: per-step arrays were not kept)' : '';
  const pick = $<HTMLSelectElement>('chart-pick');
  pick.replaceChildren(...r.charts.map((c) => new Option(c.title, c.id)));
  // srcdoc: the report shares this page's origin (also from file://, where a blob: frame would not),
  // so the Save buttons reach its drawn charts; its links are handled by reportLinks.
  const frame = $<HTMLIFrameElement>('report');
  frame.onload = () => {
    reportLinks(frame);
    // Tests and people wait on this: every chart of the report is drawn.
    reportWindow()?.rnnscope?.ready.then(
      () => {
        document.body.dataset['report'] = 'drawn';
      },
      () => {
        document.body.dataset['report'] = 'failed';
      },
    );
  };
  frame.srcdoc = r.html;
}

/**
 * In a srcdoc frame a link resolves against this page's URL: "#chart-dh" would load this page into
 * the frame, and the footer's "analysis.json" would ask the server for a file. So in-page links
 * scroll, the analysis link saves the analysis JSON, and no other link navigates (the charts' own
 * download links, marked `download`, keep working).
 */
function reportLinks(frame: HTMLIFrameElement): void {
  const doc = frame.contentDocument;
  if (!doc) return;
  doc.addEventListener('click', (e) => {
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || a.hasAttribute('download')) return;
    const href = a.getAttribute('href') ?? '';
    e.preventDefault();
    if (href.startsWith('#'))
      doc.getElementById(decodeURIComponent(href.slice(1)))?.scrollIntoView({ behavior: 'smooth' });
    else if (href === 'analysis.json' && result) saveText(result.json, `${stem()}-analysis.json`, 'application/json');
  });
}

function clearResult(): void {
  result = null;
  $('run-details').textContent = '';
  $('result-view').hidden = true;
  $<HTMLIFrameElement>('report').removeAttribute('srcdoc');
  delete document.body.dataset['report'];
}

/** Sends the current files to the worker to be looked at. */
function inspectFiles(): void {
  clearResult();
  if (dropped.length === 0) {
    inspection = null;
    $('files-view').hidden = true;
    $('options-view').hidden = true;
    showErrors();
    setState('empty');
    settle();
    return;
  }
  setState('inspecting', `Reading ${dropped.length} file${dropped.length === 1 ? '' : 's'}…`);
  send({
    type: 'files',
    files: dropped.map((d) => ({ file: d.file, name: d.name, fromFolder: d.fromFolder })),
    loss: options().loss,
    answers,
  });
}

/** Adds files (replacing any of the same name); files too large for the tab are refused unread. */
function addFiles(files: Dropped[]): void {
  if (document.body.dataset['state'] === 'running') {
    pageErrors = [
      {
        name: 'UsageError',
        stage: 'usage',
        message:
          'Files were dropped while an analysis runs; expected them after it; cancel it first, or wait for it to finish.',
      },
    ];
    showErrors();
    settle();
    return;
  }
  pageErrors = sizeRefusals(files);
  if (pageErrors.length > 0) {
    showErrors();
    settle();
    return;
  }
  const names = new Set(files.map((f) => f.name));
  dropped = [...dropped.filter((d) => !names.has(d.name)), ...files];
  answers = {};
  inspectFiles();
}

function removeFile(name: string): void {
  if (document.body.dataset['state'] === 'running') return;
  dropped = dropped.filter((d) => d.name !== name);
  pageErrors = [];
  inspectFiles();
}

function clear(): void {
  if (document.body.dataset['state'] === 'running') return;
  dropped = [];
  answers = {};
  pageErrors = [];
  inspectFiles();
}

function answer(about: Question['about'], id: string): void {
  answers = { ...answers, [about]: id };
  if (about === 'data') delete answers.targets;
  send({ type: 'classify', loss: options().loss, answers });
}

function analyze(): void {
  if (!inspection?.ready) return;
  clearTimeout(lossTimer);
  clearResult();
  pageErrors = [];
  showErrors();
  jacobians = 0;
  showProgress({ phase: 'gradients', run: 1, runs: inspection.runs.length, done: 0, total: 0 });
  send({ type: 'analyze', options: options(), answers });
  setState('running', 'Analysing…');
}

/** Stops the analysis: the worker and everything it holds go; a fresh one gets the same files. */
function cancel(): void {
  if (!worker) return;
  worker.terminate();
  worker = null;
  for (const g of gradientWaiting.splice(0)) g.reject(new Error('Cancelled.'));
  const n = dropped.length;
  setState('cancelled', 'Cancelled.');
  settle();
  if (n > 0) {
    send({
      type: 'files',
      files: dropped.map((d) => ({ file: d.file, name: d.name, fromFolder: d.fromFolder })),
      loss: options().loss,
      answers,
    });
    $('status').textContent = 'Cancelled; the files are ready for another run.';
  }
}

function stem(): string {
  const first = inspection?.runs[0]?.label ?? 'rnnscope';
  return first.replace(/(\.weights)?\.(keras|h5|hdf5|json)$/i, '').replace(/[^\w.-]+/g, '_');
}

/** The report page's own handle (src/report/page-script.ts): its drawn vega views. */
function reportWindow(): {
  rnnscope?: { ready: Promise<unknown>; views: Record<string, Parameters<typeof chartFile>[0]> };
} | null {
  return ($<HTMLIFrameElement>('report').contentWindow as never) ?? null;
}

async function saveChart(kind: 'svg' | 'png'): Promise<void> {
  const id = $<HTMLSelectElement>('chart-pick').value;
  const r = reportWindow()?.rnnscope;
  if (!r) return;
  await r.ready;
  const view = r.views[id];
  if (!view) return;
  await chartFile(view, kind, `${stem()}-${id}`);
}

function setup(): void {
  // A drop anywhere on the page, as in Netron; the browser would otherwise open the file itself.
  const over = (e: DragEvent) => {
    e.preventDefault();
    document.body.classList.add('dragging');
  };
  document.addEventListener('dragenter', over);
  document.addEventListener('dragover', over);
  document.addEventListener('dragleave', (e) => {
    if (e.relatedTarget === null) document.body.classList.remove('dragging');
  });
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    document.body.classList.remove('dragging');
    if (!e.dataTransfer) return;
    filesOfDrop(e.dataTransfer).then(addFiles, (err) => {
      pageErrors = [errorOf(err)];
      showErrors();
      settle();
    });
  });
  for (const id of ['files', 'folder']) {
    const input = $<HTMLInputElement>(id);
    input.addEventListener('change', () => {
      if (input.files?.length) addFiles(filesOfInput(input.files));
      input.value = '';
    });
  }
  $('clear').addEventListener('click', clear);
  $('options').addEventListener('submit', (e) => e.preventDefault());
  $('opt-loss').addEventListener('input', () => {
    clearTimeout(lossTimer);
    lossTimer = window.setTimeout(() => {
      if (inspection && document.body.dataset['state'] !== 'running')
        send({ type: 'classify', loss: options().loss, answers });
    }, 300);
  });
  $('analyze').addEventListener('click', analyze);
  $('cancel').addEventListener('click', cancel);
  $('save-html').addEventListener('click', () => {
    if (result) saveText(result.html, `${stem()}-report.html`, 'text/html');
  });
  $('save-json').addEventListener('click', () => {
    if (result) saveText(result.json, `${stem()}-analysis.json`, 'application/json');
  });
  $('save-npz').addEventListener('click', () => {
    if (result?.npz) saveBytes(result.npz, `${stem()}-grads.npz`);
  });
  $('save-svg').addEventListener('click', () => void saveChart('svg'));
  $('save-png').addEventListener('click', () => void saveChart('png'));
}

export interface AppApi {
  addFiles(files: File[]): void;
  answer: typeof answer;
  /** Removes every file (the Clear all button). */
  clear: typeof clear;
  analyze: typeof analyze;
  cancel: typeof cancel;
  readonly state: string;
  readonly settled: number;
  readonly inspection: Inspection | null;
  /** The last result's analysis JSON text, report HTML and dump. */
  readonly result: AppResult | null;
  readonly errors: AppError[];
  /** One gradient of the first model on its data, with every tap, on one thread or on the gradient pool. */
  gradient(request: GradientRequest): Promise<GradientAnswer>;
}

const api: AppApi = {
  addFiles: (files) => addFiles(files.map((file) => ({ file, name: file.name, fromFolder: false }))),
  answer,
  clear,
  analyze,
  cancel,
  get state() {
    return document.body.dataset['state'] ?? '';
  },
  get settled() {
    return settled;
  },
  get inspection() {
    return inspection;
  },
  get result() {
    return result;
  },
  get errors() {
    return [...pageErrors, ...(inspection?.errors ?? [])];
  },
  gradient: (request) =>
    new Promise((resolve, reject) => {
      gradientWaiting.push({ resolve, reject });
      send({ type: 'gradient', request, answers });
    }),
};

setup();
setState('empty');
(globalThis as unknown as { rnnscopeApp: AppApi }).rnnscopeApp = api;
document.body.dataset['ready'] = 'true';
