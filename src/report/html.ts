// The self-contained report page: header, diagnosis panel (server-rendered, so
// it reads without scripts), controls, one section per chart with its "how to
// read this", and everything inline (bundles, data, script): it opens from
// disk with no network.

import { runsOf, type Analysis, type AnalysisSet } from '../analysis/schema.js';
import { runLabel } from './charts/common.js';
import { pageData, type PageData } from './page-data.js';
import { PAGE_SCRIPT } from './page-script.js';
import { PAGE_CSS } from './page-style.js';
import { esc } from './escape.js';
import { contentSecurityPolicy } from './csp.js';
import { firstScreen } from './first-screen.js';
import { fmt } from './summary.js';
import { LIVE_SCRIPT, TIMELINE_CSS, foldRunDiagnosis, timelinePanel } from './timeline-page.js';

export interface Bundle {
  name: string;
  js: string;
}

export { esc, contentSecurityPolicy };

/** A count for display (1,234); anything that is not a finite number shows as n/a. */
function count(x: unknown): string {
  return typeof x === 'number' && Number.isFinite(x) ? x.toLocaleString('en-US') : 'n/a';
}

/** JSON inside <script type="application/json">: '<' escaped so no '</script>' or '<!--' can end it. */
export function inlineJSON(x: unknown): string {
  return JSON.stringify(x)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** JS inside <script>: break up sequences the HTML tokenizer would act on. */
export function inlineJS(js: string): string {
  // Line ends as the HTML parser will see them (it turns CR LF and CR into LF), so the CSP hash matches.
  return js
    .replace(/\r\n?/g, '\n')
    .replace(/<\/(script)/gi, '<\\/$1')
    .replace(/<!--/g, '<\\!--');
}

function overview(runs: Analysis[]): string {
  const rows = runs.map((a) => {
    const o = a.objective;
    const warnings = [...a.model.warnings, ...o.warnings]
      .map((w) => `<li>${esc(w.message)}${w.count > 1 ? ` (×${count(w.count)})` : ''}</li>`)
      .join('');
    return `<div class="run-card">
  ${runs.length > 1 ? `<h3>${esc(runLabel(a))}</h3>` : ''}
  <p>${esc(a.model.name)} · ${esc(a.model.format)} · Keras ${esc(a.model.kerasVersion)} · \
${count(a.model.totalParams)} parameters · ${count(a.recurrent.length)} \
recurrent layer${a.recurrent.length === 1 ? '' : 's'}/directions</p>
  <p>${esc(o.description)} L = ${esc(fmt(o.value))} over ${count(o.samples)} samples (${count(o.batches)} batch${o.batches === 1 ? '' : 'es'} of ${count(o.batchSize)}).</p>
  ${warnings ? `<ul class="warnings">${warnings}</ul>` : ''}
</div>`;
  });
  return runs.length > 1
    ? `<details class="overview"><summary>The ${count(runs.length)} runs</summary>${rows.join('\n')}</details>`
    : `<div class="overview">${rows.join('\n')}</div>`;
}

function controls(data: PageData): string {
  const run = data.runs[data.initial.run];
  const runSel =
    data.runs.length > 1
      ? `<label>Run <select id="sel-run">${data.runs.map((r) => `<option value="${esc(r.index)}"${r.index === data.initial.run ? ' selected' : ''}>${esc(r.label)}</option>`).join('')}</select></label>`
      : '';
  const layerSel = `<label>Layer <select id="sel-layer">${run.layers.map((l) => `<option value="${esc(l.key)}"${l.key === data.initial.sel ? ' selected' : ''}>${esc(l.label)}</option>`).join('')}</select></label>`;
  return `<nav class="controls" id="controls">${runSel}${layerSel}
  <span class="scale">Scale <label><input type="radio" name="scale" value="log" checked> log</label> <label><input type="radio" name="scale" value="linear"> linear</label></span>
  <span class="hint">Hover for values · Shift + wheel to zoom a step axis, drag to pan · double-click to reset</span></nav>`;
}

function chartSection(c: PageData['charts'][number], staticFiles: boolean): string {
  // One image of a chart of all runs; one per run or layer otherwise, named in charts/index.json (export-names.ts).
  const one = c.scope === 'set' && !c.id.startsWith('timeline-');
  const files = !staticFiles
    ? ''
    : one
      ? `<p class="files">Image: <a href="charts/${esc(c.id)}.svg">SVG</a> · <a href="charts/${esc(c.id)}.png">PNG</a></p>`
      : `<p class="files">Images (SVG, PNG) of every ${c.scope === 'run' ? 'run' : 'layer'}: listed in \
<a href="charts/index.json">charts/index.json</a></p>`;
  const follows =
    c.scope === 'layer'
      ? 'Follows the layer selector.'
      : c.scope === 'run'
        ? 'Shows the whole model of the selected run.'
        : 'Shows all runs.';
  return `<section class="chart" id="chart-${esc(c.id)}" data-chart="${esc(c.id)}">
  <div class="vis" id="vis-${esc(c.id)}"></div>
  <aside class="howto"><h3>${esc(c.title)}</h3><p>${esc(c.howToRead)}</p><p class="follows">${follows}${c.scaleToggle ? '' : ' The scale toggle does not apply.'}</p>${files}</aside>
</section>`;
}

export interface HtmlOptions {
  bundles: Bundle[];
  /** Link each chart's static SVG/PNG (true when writeReport writes them next to the page). */
  staticFiles?: boolean;
  /** Served by `rnnscope watch`: the page updates itself (timeline-page.ts LIVE_SCRIPT); `version` is what it shows. */
  live?: { status: string; version: number };
}

export function reportHtml(input: Analysis | AnalysisSet, opts: HtmlOptions): string {
  const runs = runsOf(input);
  const data = pageData(input);
  const note = input.note ?? runs.find((a) => a.note)?.note;
  const version = runs[0].tool.version;
  const scripts = [
    ...opts.bundles.map((b) => inlineJS(b.js)),
    inlineJS(PAGE_SCRIPT),
    ...(opts.live ? [inlineJS(LIVE_SCRIPT)] : []),
  ];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(contentSecurityPolicy(scripts, !!opts.live))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(data.title)} — rnnscope</title>
<style>${PAGE_CSS}${TIMELINE_CSS}</style>
</head>
<body>
<header><h1>${esc(data.title)}</h1>
${note ? `<p class="note">${esc(note)}</p>` : ''}
${overview(runs)}
</header>
<main>
${timelinePanel(input, data, opts.live)}
${foldRunDiagnosis(input, firstScreen(runs, runs.length > 1 ? data.runs.map((r) => r.label) : [null]))}
${controls(data)}
${data.charts.map((c) => chartSection(c, opts.staticFiles ?? false)).join('\n')}
</main>
<footer>Made by rnnscope ${esc(version)} from <a href="analysis.json">analysis.json</a> (schema ${esc(input.schema)}). Redraw with <code>rnnscope report analysis.json --out DIR</code>.</footer>
<script type="application/json" id="rnnscope-data">${inlineJSON(data)}</script>
${opts.bundles.map((b, i) => `<script data-bundle="${esc(b.name)}">${scripts[i]}</script>`).join('\n')}
<script id="rnnscope-page-script">${scripts[opts.bundles.length]}</script>
${opts.live ? `<script id="rnnscope-live-script">${scripts[opts.bundles.length + 1]}</script>` : ''}
</body>
</html>
`;
}
