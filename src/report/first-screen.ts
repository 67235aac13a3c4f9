// The first screen: per run (model), the figure of how far back the gradient reaches (reach-svg.ts),
// and beside it whether the model learned (loss against its baseline), why the reach is what it is
// (the keep gate's memory), and the findings grouped per layer with each remedy stated once.
// Server-rendered HTML: it reads before, and without, any script.

import type { Analysis, Finding, RecurrentAnalysis } from '../analysis/schema.js';
import { reachFigure } from './charts/reach-svg.js';
import { esc } from './escape.js';
import { human } from './human.js';

export const CODE_TITLES: Record<string, string> = {
  vanishing: 'Vanishing gradient',
  exploding: 'Exploding gradient',
  'non-finite': 'NaN or infinite gradient',
  'forget-gate-closed': 'Forget gate closed',
  'gate-saturated': 'Saturated gate',
  'dead-units': 'Dead units',
  'layer-norm-spread': 'Gradient sizes differ across layers',
  'suggested-clipnorm': 'Gradient clipping',
  'short-memory': 'Short memory',
  'not-learned': 'Not learned',
};

const ORDER = { error: 0, warning: 1, info: 2 } as const;

/** Evidence in words: the analysis' own sentence, or (older files) the named numbers rounded. */
function evidenceOf(f: Finding): string {
  if (f.evidenceText) return `<p class="evidence">${esc(f.evidenceText)}</p>`;
  const parts = Object.entries(f.evidence).map(
    ([k, v]) => `<span>${esc(k)} ${esc(typeof v === 'number' ? human(v) : v)}</span>`,
  );
  return parts.length ? `<p class="evidence old">${parts.join(' · ')}</p>` : '';
}

interface Group {
  title: string;
  layer: string | null;
  direction: Finding['direction'];
  findings: Finding[];
}

function groupsOf(a: Analysis, skip: (f: Finding) => boolean): Group[] {
  const out: Group[] = [];
  for (const f of [...a.findings].sort((p, q) => ORDER[p.severity] - ORDER[q.severity])) {
    if (skip(f)) continue;
    let g = out.find((x) => x.layer === f.layer && x.direction === f.direction);
    if (!g) {
      const title = f.layer === null ? 'Whole model' : f.direction ? `${f.layer} · ${f.direction}` : f.layer;
      g = { title, layer: f.layer, direction: f.direction, findings: [] };
      out.push(g);
    }
    g.findings.push(f);
  }
  // Layers first in model order, the whole model last.
  const rank = (g: Group) => {
    const i = a.recurrent.findIndex(
      (r) => r.layer === g.layer && (g.direction === null || r.direction === g.direction),
    );
    return g.layer === null ? 1e9 : i < 0 ? 1e8 : i;
  };
  return out.sort((p, q) => rank(p) - rank(q));
}

function findingLi(f: Finding, run: number, a: Analysis): string {
  const rec =
    f.layer === null
      ? undefined
      : a.recurrent.find((r) => r.layer === f.layer && (f.direction === null || r.direction === f.direction));
  const link = f.chart
    ? ` <a class="finding-link" href="#chart-${esc(f.chart)}" data-run="${esc(run)}" \
data-sel="${rec ? esc(`${run}|${rec.id}`) : ''}">chart ↓</a>`
    : '';
  return `<li class="finding ${esc(f.severity)}" data-code="${esc(f.code)}"><span class="dot ${esc(f.severity)}" \
title="${esc(f.severity)}"></span><strong>${esc(CODE_TITLES[f.code] ?? f.code)}.</strong> ${esc(f.message)}${link}\
${evidenceOf(f)}</li>`;
}

/** A layer's findings, then each distinct remedy once (identical remedies share remedyId). */
function groupHtml(g: Group, run: number, a: Analysis): string {
  const remedies: string[] = [];
  const seen = new Set<string>();
  for (const f of g.findings) {
    const id = f.remedyId ?? f.remedy;
    if (!f.remedy || seen.has(id)) continue;
    seen.add(id);
    remedies.push(f.remedy);
  }
  const what = remedies.map((r) => `<p class="remedy"><b>What to try:</b> ${esc(r)}</p>`).join('');
  return `<div class="layer-findings"><h4>${esc(g.title)}</h4><ul class="findings">\
${g.findings.map((f) => findingLi(f, run, a)).join('')}</ul>${what}</div>`;
}

function lossBox(a: Analysis): string {
  const o = a.objective;
  const b = o.baseline;
  if (!b) {
    const why = b === null ? 'no baseline for a self-objective' : 'this file has no baseline (older rnnscope)';
    return `<div class="loss"><p><b>Loss</b> L = ${esc(human(o.value))} <span class="muted">(${why})</span></p></div>`;
  }
  const verdict =
    b.learned === 'no'
      ? 'Not learned'
      : b.learned === 'barely'
        ? 'Barely learned'
        : b.learned === 'yes'
          ? 'Learned'
          : 'Unknown';
  const L = typeof o.value === 'number' && Number.isFinite(o.value) ? o.value : null;
  const B = typeof b.value === 'number' && Number.isFinite(b.value) ? b.value : null;
  const top = Math.max(L ?? 0, B ?? 0);
  const bar = (v: number | null, cls: string, label: string) =>
    v === null || top <= 0
      ? ''
      : `<div class="bar-row"><span class="bar-label">${label}</span><span class="bar ${cls}" \
style="width:${((v / top) * 100).toFixed(1)}%"></span><span class="bar-value">${esc(human(v))}</span></div>`;
  const what = b.kind === 'mean' ? 'predict the mean' : 'predict the class prior';
  const train = a.findings.find((f) => f.code === 'not-learned')?.remedy;
  return `<div class="loss learned-${esc(b.learned ?? 'unknown')}"><p><span class="verdict">${verdict}</span> \
${esc(b.sentence)}</p>${bar(L, 'model', 'model')}${bar(B, 'baseline', esc(what))}\
${train ? `<p class="remedy"><b>What to try:</b> ${esc(train)}</p>` : ''}</div>`;
}

function whyOf(r: RecurrentAnalysis, label: string, color: string): string {
  const m = r.memory;
  if (m === undefined || m === null) return '';
  return `<li><span class="swatch" style="background:${color}"></span><b>${esc(label)}</b> ${esc(m.sentence)}</li>`;
}

function headline(a: Analysis): string {
  if (a.recurrent.length === 0) return 'No recurrent layer: nothing flows back through time.';
  const parts = a.recurrent.map((r) => {
    const where = r.direction ? `${r.layer} (${r.direction})` : r.layer;
    return r.horizon.steps === null
      ? `${where}: no gradient`
      : `${where} reaches back ${r.horizon.steps} of ${r.steps} steps`;
  });
  return `${parts.join('; ')}.`;
}

function runCard(a: Analysis, run: number, label: string | null): string {
  const fig = reachFigure(a, label ?? a.model.name);
  const figure = fig
    ? `<figure class="reach-fig">${fig.svg}<figcaption>Gradient reaching each input position, relative to \
its peak; dots and dotted lines mark the horizon, the farthest step still above 1 % of the peak.</figcaption></figure>`
    : `<p class="left-out">No figure: the model has no recurrent layer.</p>`;
  const why = fig ? a.recurrent.map((r, i) => whyOf(r, fig.lines[i].label, fig.lines[i].color)).join('') : '';
  const groups = groupsOf(a, (f) => f.code === 'not-learned' && !!a.objective.baseline);
  const findings =
    groups.length === 0
      ? '<p class="ok">No problems found: gradients reach back through the sequence and stay finite.</p>'
      : groups.map((g) => groupHtml(g, run, a)).join('');
  return `<article class="answer-card" data-run="${esc(run)}">
${label ? `<h3>${esc(label)}</h3>` : ''}<p class="headline">${esc(headline(a))}</p>
<div class="answer-grid">${figure}<div class="answer-side">${lossBox(a)}\
${why ? `<div class="why"><h4>Why</h4><ul>${why}</ul></div>` : ''}${findings}</div></div>
</article>`;
}

/** The whole first screen: one card per run. `labels` are the runs' labels (null for a single analysis). */
export function firstScreen(runs: Analysis[], labels: (string | null)[]): string {
  const cls = runs.length > 1 ? 'diagnosis multi' : 'diagnosis';
  return `<section id="diagnosis" class="${cls}"><h2>How far back the gradient reaches, and why</h2>
${runs.map((a, i) => runCard(a, i, labels[i])).join('\n')}
</section>`;
}
