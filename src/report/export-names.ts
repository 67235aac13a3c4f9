// Which chart images a report exports, and their file names (docs/outputs.md, "Chart files").
//
//   charts/<chart>.svg                          charts of the whole set (compare, timeline-scalars, …)
//   charts/<layer>[-<direction>]-<chart>.svg    one run:   every recurrent layer and direction
//   charts/<chart>.svg                          one run:   per-run charts (param-norms, histograms, batches)
//   charts/<run>/<layer>[-<direction>]-<chart>.svg, charts/<run>/<chart>.svg   several runs: a folder each
//   charts/<layer>[-<direction>]-timeline-….svg the training timeline's per-layer charts
//
// Names are lower-case ASCII letters, digits, '.', '_' and '-', unique without regard to case (so they
// survive case-insensitive file systems). Charts with nothing to show are listed with the reason.
// Pure: no node:*.

import { runsOf, type Analysis, type AnalysisSet, type ChartId, type RecurrentAnalysis } from '../analysis/schema.js';
import type { ChartDef } from './charts/index.js';
import { layerLabel, runLabel } from './charts/common.js';
import { timelineOf } from './charts/timeline-common.js';

export interface ExportJob {
  chart: ChartId;
  /** Path under the report folder without extension, e.g. "charts/lstm_1-dh". */
  path: string;
  run: number;
  /** Recurrent id ("lstm_1", "bidi/forward") for per-layer charts. */
  layer?: string;
  /** What the image shows, for the index: run and layer in words. */
  about: string;
}

export interface SkippedExport {
  chart: ChartId;
  run: number | null;
  layer: string | null;
  about: string;
  reason: string;
}

/** The report's list of its chart images and of the charts left out. */
export const CHART_INDEX = 'charts/index.json';

/** Every chart image name matches this (out-folder.ts: files a report may write; without regard to case, as
 * some file systems compare names). */
export function chartFilePattern(ids: readonly string[]): RegExp {
  return new RegExp(`^(?:[a-z0-9._-]+-)?(?:${ids.join('|')})\\.(?:svg|png)$`, 'i');
}

const RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)$/;

/** A file name part from free text (a model or layer name): lower-case ASCII, at most 60 characters. */
export function safeName(text: string, fallback: string): string {
  let t = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9._]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  t = t.slice(0, 60).replace(/[-.]+$/, '');
  if (t === '') t = fallback;
  return RESERVED.test(t.split('.')[0]!) ? `${t}_` : t;
}

/** `prefix-chart` (or `chart` without a prefix), with "-2", "-3", … after the prefix until it is not in `used`
 * (compared lower-case, so names survive case-insensitive file systems); records it. */
function unique(prefix: string, chart: string, used: Set<string>): string {
  const make = (k: number) => [prefix, k > 1 ? String(k) : '', chart].filter((p) => p !== '').join('-');
  let k = 1;
  while (used.has(make(k).toLowerCase())) k++;
  used.add(make(k).toLowerCase());
  return make(k);
}

/** A run's folder name: its label without a model file's extension ("epoch004.keras" → "epoch004"). */
function runFolder(a: Analysis, i: number): string {
  // Never ending in an image's or the index's extension, so no folder takes a chart file's name.
  return safeName(runLabel(a).replace(/\.(keras|h5|hdf5|json)$/i, ''), `run-${i + 1}`).replace(
    /\.(svg|png|json)$/,
    '$&_',
  );
}

function layerPart(layer: string, direction: string | null): string {
  return safeName(direction ? `${layer}-${direction}` : layer, 'layer');
}

/** The run with only recurrent entry `r`, to ask a chart whether it has anything to show for that layer. */
function only(a: Analysis, r: RecurrentAnalysis): Analysis {
  return { ...a, recurrent: [r] };
}

/** Why a chart has nothing to show: the page's wording where it states one, else what the data lack. */
const REASONS: Partial<Record<ChartId, string>> = {
  dh: 'no recurrent layer',
  heatmap: 'no recurrent layer',
  dx: 'no recurrent layer',
  jacobian: 'the step Jacobian was not computed for this layer',
  contributions: 'no per-step contributions were recorded for this layer',
  gates: 'this layer has no gate statistics',
  density: 'no weight–gradient densities were recorded for this layer',
  'param-norms': 'no weight gradients were recorded',
  histograms: 'no weight gradients were recorded',
  batches: 'no batch gradient norms were recorded',
  attention: 'no attention layer reads this layer',
};

function reasonFor(c: ChartDef): string {
  return REASONS[c.id] ?? 'nothing to show';
}

/** Every chart image of `input`, named, and every chart left out with the reason. */
export function planExports(
  input: Analysis | AnalysisSet,
  charts: ChartDef[],
): { jobs: ExportJob[]; skipped: SkippedExport[] } {
  const runs = runsOf(input);
  const many = runs.length > 1;
  const jobs: ExportJob[] = [];
  const skipped: SkippedExport[] = [];
  const used = new Map<string, Set<string>>(); // folder → names used in it (lower-case)
  const usedIn = (folder: string) => used.get(folder) ?? used.set(folder, new Set()).get(folder)!;
  const runNames = new Set<string>();
  const folders = runs.map((a, i) => (many ? unique(runFolder(a, i), '', runNames) : ''));
  const name = (folder: string, prefix: string, chart: ChartId) => `${folder}/${unique(prefix, chart, usedIn(folder))}`;
  const layerNames = runs.map((a) => {
    const seen = new Set<string>();
    return new Map(a.recurrent.map((r) => [r.id, unique(layerPart(r.layer, r.direction), '', seen)]));
  });
  const timeline = timelineOf(input);

  for (const c of charts) {
    if (!c.applies(runs, input)) {
      // A set chart, the timeline's and the attention chart belong to another kind of input (several runs,
      // checkpoints, a model with attention): not listed.
      if (c.scope !== 'set' && !c.id.startsWith('timeline-') && c.id !== 'attention')
        runs.forEach((a, run) =>
          skipped.push({ chart: c.id, run, layer: null, about: runLabel(a), reason: reasonFor(c) }),
        );
      continue;
    }
    if (c.scope === 'set') {
      jobs.push({ chart: c.id, path: name('charts', '', c.id), run: 0, about: 'all runs' });
      continue;
    }
    if (timeline && c.id.startsWith('timeline-')) {
      // Per layer of the timeline, drawn through the first run that has that layer.
      const seen = new Set<string>();
      for (const l of timeline.layers) {
        const run = runs.findIndex((a) => a.recurrent.some((r) => r.id === l.id));
        const about = `${l.direction ? `${l.layer} · ${l.direction}` : l.layer}, over training`;
        if (run < 0) {
          skipped.push({
            chart: c.id,
            run: null,
            layer: l.id,
            about,
            reason: 'no checkpoint holds this layer in full',
          });
          continue;
        }
        const prefix = unique(layerPart(l.layer, l.direction), '', seen);
        jobs.push({ chart: c.id, path: name('charts', prefix, c.id), run, layer: l.id, about });
      }
      continue;
    }
    runs.forEach((a, run) => {
      const folder = many ? `charts/${folders[run]}` : 'charts';
      if (c.scope === 'run') {
        const reason = c.applies([a], input) ? (c.empty?.(a, null, input) ?? null) : reasonFor(c);
        if (reason === null) jobs.push({ chart: c.id, path: name(folder, '', c.id), run, about: runLabel(a) });
        else skipped.push({ chart: c.id, run, layer: null, about: runLabel(a), reason });
        return;
      }
      if (a.recurrent.length === 0) {
        skipped.push({ chart: c.id, run, layer: null, about: runLabel(a), reason: 'no recurrent layer' });
        return;
      }
      for (const r of a.recurrent) {
        const about = layerLabel(a, r);
        const reason = c.applies([only(a, r)], input) ? (c.empty?.(a, r, input) ?? null) : reasonFor(c);
        if (reason !== null) {
          skipped.push({ chart: c.id, run, layer: r.id, about, reason });
          continue;
        }
        jobs.push({ chart: c.id, path: name(folder, layerNames[run]!.get(r.id)!, c.id), run, layer: r.id, about });
      }
    });
  }
  return { jobs, skipped };
}
