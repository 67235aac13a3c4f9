// The app page's DOM: the file table, the questions, the refusals, the progress line. Only
// rendering; web/app.ts decides what to show. Text goes in with textContent, never as markup.

import type { FileKind, Inspection, Question } from './app-inspect.js';
import type { AppError, Progress } from './app-protocol.js';

export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`app.html lacks #${id}`);
  return e as T;
};

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  cls?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

const KIND_TEXT: Record<FileKind, string> = {
  model: 'model',
  weights: 'weights',
  part: 'part of the model',
  data: 'data (inputs)',
  targets: 'targets',
  'data+targets': 'data and targets',
  candidate: 'to choose',
  unused: 'not used',
  error: 'refused',
};

export const bytes = (n: number): string =>
  n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;

export function renderFiles(ins: Inspection, onRemove: (name: string) => void): void {
  const tbody = $('file-table').querySelector('tbody')!;
  tbody.replaceChildren();
  for (const f of ins.files) {
    const tr = el('tr', undefined, `kind-${f.kind}`);
    tr.dataset['file'] = f.name;
    tr.dataset['kind'] = f.kind;
    const run = f.run !== null && ins.runs.length > 1 ? ` (run ${f.run + 1})` : '';
    const remove = el('button', '✕', 'remove');
    remove.title = `Remove ${f.name}`;
    remove.setAttribute('aria-label', `Remove ${f.name}`);
    remove.addEventListener('click', () => onRemove(f.name));
    tr.append(
      el('td', f.name),
      el('td', bytes(f.size), 'num'),
      el('td', KIND_TEXT[f.kind] + run),
      el('td', f.note, 'note'),
      el('td'),
    );
    tr.lastElementChild!.append(remove);
    tbody.append(tr);
  }
}

export function renderRuns(ins: Inspection): void {
  const box = $('runs');
  box.replaceChildren();
  if (ins.runs.length === 0) return;
  const lead =
    ins.runs.length > 1
      ? `${ins.runs.length} models, analysed one after another and compared (checkpoints of one model give a training timeline):`
      : 'Model:';
  box.append(el('p', lead));
  const ul = el('ul');
  for (const r of ins.runs) {
    const li = el('li');
    const files = r.weights ? `${r.main} + ${r.weights}` : r.main;
    li.append(
      el('strong', ins.runs.length > 1 ? r.label : files),
      ` ${ins.runs.length > 1 ? `(${files}) ` : ''}${r.name} · ${r.format} · Keras ${r.kerasVersion} · ` +
        `${r.params.toLocaleString('en-US')} parameters · inputs ${r.inputs.join(', ')} · outputs ` +
        `${r.outputs.join(', ')}${r.loss ? ` · loss ${r.loss}` : ''}`,
    );
    const d = el('details');
    d.append(el('summary', 'summary'), el('pre', r.summary));
    li.append(d);
    ul.append(li);
  }
  box.append(ul);
  const data = ins.data
    ? `Data: ${ins.data.label}.`
    : ins.questions.some((q) => q.about === 'data') || ins.errors.length > 0
      ? ''
      : 'No data: the analysis will use seeded random inputs.';
  const targets = ins.data
    ? ins.targets
      ? ` Targets: ${ins.targets.label}.`
      : ins.questions.some((q) => q.about === 'targets')
        ? ''
        : ' No targets: a self-objective is used (stated in the report).'
    : '';
  box.append(el('p', data + targets, 'data-line'));
}

export function renderQuestions(qs: Question[], onAnswer: (about: Question['about'], id: string) => void): void {
  const box = $('questions');
  box.replaceChildren();
  box.hidden = qs.length === 0;
  for (const q of qs) {
    const fs = el('fieldset', undefined, 'question');
    fs.dataset['about'] = q.about;
    fs.append(el('legend', q.text));
    for (const o of q.options) {
      const label = el('label');
      const input = el('input');
      input.type = 'radio';
      input.name = `q-${q.about}`;
      input.value = o.id;
      input.addEventListener('change', () => onAnswer(q.about, o.id));
      label.append(input, ` ${o.label}`);
      fs.append(label);
    }
    box.append(fs);
  }
}

export function renderErrors(errors: AppError[]): void {
  const box = $('errors');
  box.replaceChildren();
  box.hidden = errors.length === 0;
  for (const e of errors) {
    const p = el('p', undefined, 'error');
    p.append(el('span', e.name, 'badge'), ' ', el('span', e.message, 'message'));
    box.append(p);
  }
}

const PHASES: Record<string, string> = {
  gradients: 'Gradients',
  jacobian: 'Step Jacobians',
  connectivity: 'Connectivity map',
  report: 'Writing the report',
};

/** Progress as a fraction of the whole run and one line of text. */
export function progressOf(p: Progress, jacobians: number): { fraction: number; text: string } {
  const within = p.phase === 'gradients' && p.total > 0 ? p.done / p.total : p.phase === 'gradients' ? 0 : 1;
  const runs = Math.max(1, p.runs);
  const fraction = p.phase === 'report' ? 1 : (Math.max(0, p.run - 1) + 0.9 * within) / runs;
  const head = p.runs > 1 ? `Checkpoint ${p.run} of ${p.runs} · ` : '';
  const what =
    p.phase === 'gradients'
      ? `${PHASES['gradients']}: ${p.done.toLocaleString('en-US')} of ${p.total.toLocaleString('en-US')} samples`
      : p.phase === 'jacobian'
        ? `${PHASES['jacobian']}: probing recurrent layer ${jacobians}`
        : (PHASES[p.phase] ?? p.phase);
  return { fraction, text: head + what };
}
