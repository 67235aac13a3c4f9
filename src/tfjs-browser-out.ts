// The TF.js callback's output in the browser: the timeline findings and charts drawn into an
// element with vega-embed (the same Vega-Lite specs as the report). Loaded only when `out` is an element.

import type { AnalysisSet } from './analysis/schema.js';
import { CHARTS } from './report/charts/index.js';
import { runsOf } from './analysis/schema.js';

type Embed = (el: HTMLElement, spec: unknown, opts?: unknown) => Promise<{ view: { finalize(): void } }>;
const views = new WeakMap<HTMLElement, { finalize(): void }[]>();

export async function drawTimeline(el: HTMLElement, set: AnalysisSet): Promise<void> {
  const embed =
    (globalThis as { vegaEmbed?: Embed }).vegaEmbed ?? ((await import('vega-embed')).default as unknown as Embed);
  for (const v of views.get(el) ?? []) v.finalize();
  const doc = el.ownerDocument;
  el.textContent = '';
  const t = set.timeline;
  const head = doc.createElement('div');
  head.className = 'rnnscope-findings';
  const h = doc.createElement('h3');
  h.textContent = `${set.title}: ${t?.points.length ?? 0} checkpoints`;
  head.appendChild(h);
  const ul = doc.createElement('ul');
  for (const f of t?.findings ?? []) {
    const li = doc.createElement('li');
    li.textContent = `${f.severity}: ${f.message}`;
    li.dataset.code = String(f.code);
    ul.appendChild(li);
  }
  head.appendChild(ul);
  el.appendChild(head);
  const made: { finalize(): void }[] = [];
  for (const c of CHARTS) {
    if (!c.id.startsWith('timeline-') || !c.applies(runsOf(set), set)) continue;
    const box = doc.createElement('div');
    box.className = 'rnnscope-chart';
    box.dataset.chart = c.id;
    el.appendChild(box);
    // Errors only (vega's Error level, 1): layers with no rows yet (no diverged checkpoint, no
    // update ratio before the second checkpoint) would warn about empty extents, as in the report page.
    made.push(
      (await embed(box, c.build(set, { interactive: true }), { renderer: 'svg', actions: false, logLevel: 1 })).view,
    );
  }
  views.set(el, made);
}
