// The timeline's part of the report page: the findings over time (server-rendered, so they read
// without scripts), the per-checkpoint diagnosis folded under them, and the live-update script a
// page served by `rnnscope watch` runs. html.ts places these; the charts are in charts/timeline-*.ts.

import type { AnalysisSet } from '../analysis/schema.js';
import type { Timeline, TimelineFinding } from '../analysis/timeline.js';
import { describeCheckpoint } from '../analysis/checkpoint-names.js';
import { layerKey } from './charts/common.js';
import type { Input } from './charts/common.js';
import type { PageData } from './page-data.js';
import { contentSecurityPolicy } from './csp.js';
import { esc } from './escape.js';
import { fmt } from './summary.js';

const TITLES: Record<string, string> = {
  diverged: 'Training diverged',
  'norm-jump': 'Gradient norm jumped',
  'horizon-fell': 'Horizon fell',
  'horizon-trend': 'Horizon over training',
  'exploding-onset': 'Exploding gradient',
  'vanishing-onset': 'Vanishing gradient',
  'forget-gate-closed-onset': 'Forget gate closed',
  'gate-saturated-onset': 'Saturated gate',
  'dead-units-onset': 'Dead units',
  'non-finite-onset': 'NaN or infinite gradient',
};

export function timelineOfInput(input: Input): Timeline | null {
  const t = (input as AnalysisSet).timeline;
  return t && t.points.length > 0 ? t : null;
}

/** Title of a timeline report: the model, how many checkpoints, which epochs. */
export function timelineTitle(t: Timeline): string {
  const first = t.points[0]!,
    last = t.points[t.points.length - 1]!;
  const span =
    t.points.length > 1
      ? `, ${describeCheckpoint(first)} to ${describeCheckpoint(last)}`
      : `, ${describeCheckpoint(first)}`;
  return `Training timeline of ${t.model}: ${t.points.length} checkpoint${t.points.length === 1 ? '' : 's'}${span}`;
}

function item(f: TimelineFinding, data: PageData): string {
  const where = f.layer === null ? 'whole model' : f.direction ? `${f.layer} · ${f.direction}` : f.layer;
  const chart = data.charts.find((c) => c.id === f.chart);
  const run = data.initial.run;
  const id = f.layer === null ? null : f.direction ? `${f.layer}/${f.direction}` : f.layer;
  const sel = id !== null && data.runs[run]?.layers.some((l) => l.key === layerKey(run, id)) ? layerKey(run, id) : '';
  const ev = Object.entries(f.evidence)
    .map(([k, v]) => `<span><b>${esc(k)}</b> ${esc(typeof v === 'number' ? fmt(v) : v)}</span>`)
    .join('');
  const link = chart
    ? ` <a class="finding-link" href="#chart-${esc(chart.id)}" data-run="${esc(run)}" data-sel="${esc(sel)}">${esc(chart.title)} ↓</a>`
    : '';
  const more =
    ev || f.remedy
      ? `<details><summary>evidence${f.remedy ? ' and what to try' : ''}</summary>${ev ? `<p class="evidence">${ev}</p>` : ''}${f.remedy ? `<p class="remedy"><b>What to try:</b> ${esc(f.remedy)}</p>` : ''}</details>`
      : '';
  return (
    `<li class="tl-finding ${esc(f.severity)}" data-code="${esc(String(f.code))}"><span class="badge ` +
    `${esc(f.severity)}">${esc(f.severity)}</span> ` +
    `<strong>${esc(TITLES[String(f.code)] ?? String(f.code))}</strong> <span ` +
    `class="where">${esc(where)}</span>: ${esc(f.message)}${link}${more}</li>`
  );
}

/** One line per layer: its horizon at the first and the latest checkpoint with finite weights. */
function reach(t: Timeline): string {
  const ok = t.points.filter((p) => p.nonFiniteWeights === 0);
  if (ok.length === 0) return '';
  const a = ok[0]!,
    b = ok[ok.length - 1]!;
  const rows = t.layers.map((l, i) => {
    const h = (p: typeof a) => p.layers[i]?.horizon.steps ?? null;
    const name = l.direction ? `${l.layer} · ${l.direction}` : l.layer;
    const span = ok.length > 1 ? `${h(a) ?? 'n/a'} → ${h(b) ?? 'n/a'}` : `${h(b) ?? 'n/a'}`;
    return `<span class="reach"><b>${esc(name)}</b> ${esc(span)} of ${esc(l.steps)} steps</span>`;
  });
  const when = ok.length > 1 ? `${describeCheckpoint(a)} → ${describeCheckpoint(b)}` : describeCheckpoint(b);
  return `<p class="reach-line">How far back the gradient reaches (horizon: steps within 1/100 of the peak), ${esc(when)}: ${rows.join(' ')}</p>`;
}

/** "Over training" panel: what changed between checkpoints, most severe first; '' without a timeline. */
export function timelinePanel(input: Input, data: PageData, live?: { status: string; version: number }): string {
  const t = timelineOfInput(input);
  if (!t) return '';
  const order =
    t.order === 'name'
      ? 'ordered by the epoch and batch numbers in their file names'
      : t.order === 'mtime'
        ? 'ordered by modification time (their names carry no epoch number)'
        : 'in the order given';
  const last = t.points[t.points.length - 1]!;
  const lead = `${t.points.length} checkpoint${t.points.length === 1 ? '' : 's'} analysed on the same data, ${order}; latest: ${esc(describeCheckpoint(last))} (${esc(last.label)}).`;
  const body =
    t.findings.length === 0
      ? '<p class="ok">Nothing changed over training that rnnscope flags: no divergence, no jump of the gradient norm, no fall of the horizon, no new gradient problem.</p>'
      : `<ul class="tl-findings">${t.findings.map((f) => item(f, data)).join('\n')}</ul>`;
  return `<section id="timeline" class="diagnosis timeline"><h2>Over training</h2>
<p class="lead">${lead}${live ? ` <span class="live-status" id="live-status" data-version="${esc(live.version)}">${esc(live.status)}</span>` : ''}</p>
${reach(t)}
${body}</section>`;
}

/** With a timeline, the per-checkpoint diagnosis is folded (the timeline leads the page). */
export function foldRunDiagnosis(input: Input, html: string): string {
  const t = timelineOfInput(input);
  if (!t) return html;
  const runs = (input as AnalysisSet).runs;
  const last = t.points[t.points.length - 1]!;
  // After a diverged checkpoint (not analysable) the latest analysis is the last one with finite weights.
  const which =
    runs.length > 1
      ? `${runs.length} of the checkpoints`
      : runs[0]!.run.label === last.label
        ? `the latest checkpoint (${esc(runs[0]!.run.label)})`
        : `the latest checkpoint with finite weights (${esc(runs[0]!.run.label)})`;
  return `<details class="run-diagnosis"><summary>Diagnosis of ${which} in detail</summary>${html}</details>`;
}

export const TIMELINE_CSS = `
.reach-line { margin: 0 0 8px; font-size: 14px; }
.reach-line .reach { display: inline-block; margin-right: 14px; }
.tl-findings { list-style: none; margin: 0; padding: 0; }
.tl-findings li { font-size: 14px; padding: 5px 0 5px 10px; border-left: 3px solid var(--info); margin-bottom: 4px; }
.tl-findings li.warning { border-left-color: var(--warning); }
.tl-findings li.error { border-left-color: var(--error); }
.tl-findings .where { color: var(--muted); }
.tl-findings details { display: inline; font-size: 13px; color: var(--muted); margin-left: 6px; }
.tl-findings details[open] { display: block; }
.tl-findings details p { margin: 2px 0; }
.live-status { color: var(--accent); font-size: 13px; margin-left: 8px; }
details.run-diagnosis { margin: 0 0 14px; }
details.run-diagnosis > summary { cursor: pointer; color: var(--muted); font-size: 14px; }
`;

/**
 * The page served by `rnnscope watch`: on each "update" event (server-sent, from /events) it fetches
 * /fragment (the same page without the script bundles), swaps header and main, and re-runs the page
 * script, keeping the selected layer, scale and the scroll position. Plain ES2017, inlined as is.
 */
export const LIVE_SCRIPT = String.raw`
(function () {
  'use strict';
  if (location.protocol !== 'http:' && location.protocol !== 'https:') return;
  var pageScript = document.getElementById('rnnscope-page-script').textContent;
  var busy = false, again = false;
  function status(text) {
    var el = document.getElementById('live-status');
    if (el) el.textContent = text;
  }
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch('fragment', { cache: 'no-store' }).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, 'text/html');
      var old = window.rnnscope || {};
      var heights = {};
      Array.prototype.forEach.call(document.querySelectorAll('.vis'), function (el) { heights[el.id] = el.offsetHeight; });
      Object.keys(old.views || {}).forEach(function (k) { try { old.views[k].finalize(); } catch (e) { /* gone */ } });
      var dataEl = doc.getElementById('rnnscope-data');
      var data = JSON.parse(dataEl.textContent);
      if (old.state) {
        var run = data.runs[old.state.run] ? old.state.run : data.initial.run;
        data.initial.run = run;
        if (data.runs[run].layers.some(function (l) { return l.key === old.state.sel; })) data.initial.sel = old.state.sel;
        data.initial.scale = old.state.scale;
      }
      var y = window.scrollY;
      document.querySelector('header').innerHTML = doc.querySelector('header').innerHTML;
      document.querySelector('main').innerHTML = doc.querySelector('main').innerHTML;
      document.title = doc.title;
      Array.prototype.forEach.call(document.querySelectorAll('.vis'), function (el) { if (heights[el.id]) el.style.minHeight = heights[el.id] + 'px'; });
      Array.prototype.forEach.call(document.querySelectorAll('input[name=scale]'), function (el) { el.checked = el.value === data.initial.scale; });
      document.getElementById('rnnscope-data').textContent = JSON.stringify(data).replace(/</g, '\\u003c');
      window.scrollTo(0, y);
      // A fresh copy of the page script runs again (allowed by the same CSP hash as the original).
      var s = document.createElement('script');
      s.textContent = pageScript;
      document.body.appendChild(s);
      s.remove();
      return window.rnnscope.ready;
    }).catch(function (e) {
      status('Could not update: ' + e.message);
    }).then(function () {
      busy = false;
      if (again) { again = false; refresh(); }
    });
  }
  function shown() {
    var el = document.getElementById('live-status');
    return el ? Number(el.getAttribute('data-version')) : -1;
  }
  var es = new EventSource('events');
  function onVersion(ev) {
    var v = JSON.parse(ev.data).version;
    if (v !== shown()) refresh();
  }
  es.addEventListener('hello', onVersion);
  es.addEventListener('update', onVersion);
  es.addEventListener('open', function () { status('live: updates as checkpoints are analysed'); });
  window.rnnscopeLive = { refresh: refresh };
  es.addEventListener('error', function () { status('not connected to rnnscope watch (it may have ended); showing the last update'); });
})();
`;

const WAITING_SCRIPT =
  "(function () { var es = new EventSource('events'); function go(e) { if (JSON.parse(e.data).version > 0) location.reload(); } es.addEventListener('hello', go); es.addEventListener('update', go); })();";

/** What the live page shows before the first checkpoint is analysed; it reloads itself when one is. */
export function waitingPage(dir: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(contentSecurityPolicy([WAITING_SCRIPT], true))}">
<title>Waiting for checkpoints — rnnscope</title>
<style>body { font: 15px/1.5 "DejaVu Sans", Verdana, sans-serif; margin: 40px; color: #1d1d1f; }</style></head>
<body><h1>Waiting for the first checkpoint</h1>
<p>rnnscope is watching <code>${esc(dir)}</code>. This page shows the training timeline as soon as the first checkpoint there is completely written and analysed.</p>
<script>${WAITING_SCRIPT}</script></body></html>
`;
}
