// What the page script needs: the selectors' options and, per chart, its
// datasets once plus a spec (without data) per scale variant.

import { runsOf, type Analysis, type AnalysisSet, type ChartId } from '../analysis/schema.js';
import { CHARTS, type ChartDef } from './charts/index.js';
import { toColumns, type Columns } from './columns.js';
import { CONFIG, layerKey, layerLabel, runLabel, type VegaLiteSpec } from './charts/common.js';
import { drillData, type DrillData } from './drilldown-data.js';
import { packIfLarge, type Packed } from './packed.js';

export interface PageChart {
  id: ChartId;
  title: string;
  howToRead: string;
  scope: ChartDef['scope'];
  scaleToggle: boolean;
  /** Drawn to canvas rather than SVG. */
  raster: boolean;
  /** Layers ("<run>|<id>") or runs ("run:<i>") this chart has nothing to show for, with the one-line reason. */
  empty: Record<string, string>;
  /** The chart's datasets as columns (columns.ts); the page script turns them into rows. */
  datasets: Record<string, Columns>;
  specs: { log: VegaLiteSpec; linear: VegaLiteSpec | null };
}

export interface PageData {
  title: string;
  runs: { index: number; label: string; layers: { key: string; label: string }[] }[];
  initial: { run: number; sel: string; scale: 'log' | 'linear' };
  charts: PageChart[];
  /** The per-sample drill-down (drilldown-data.ts), packed (packed.ts), and the Vega-Lite config its views use. */
  drill: DrillData | Packed;
  drillConfig: typeof CONFIG;
}

export function reportTitle(input: Analysis | AnalysisSet): string {
  return 'runs' in input ? input.title : `Gradient flow in ${input.model.name}`;
}

/** Short layer label without the run prefix (the run has its own selector). */
function shortLabel(a: Analysis, r: Analysis['recurrent'][number]): string {
  const full = layerLabel(a, r);
  const prefix = `${runLabel(a)}: `;
  return full.startsWith(prefix) ? full.slice(prefix.length) : full;
}

function stripData(spec: VegaLiteSpec): { spec: VegaLiteSpec; datasets: Record<string, unknown> } {
  const { datasets, ...rest } = spec as VegaLiteSpec & { datasets?: Record<string, unknown> };
  return { spec: rest as VegaLiteSpec, datasets: datasets ?? {} };
}

/** Where a chart has nothing to show: its `applies` asked of one layer (or one run) alone, then its own `empty` test
 * (charts/index.ts), whose reason is stated. */
function emptyFor(c: ChartDef, runs: Analysis[], input: Analysis | AnalysisSet): Record<string, string> {
  const out: Record<string, string> = {};
  const reason = (what: string) => `Left out: ${c.title.toLowerCase()} has nothing to show for ${what}.`;
  const own = (why: string) => `Left out: ${why.charAt(0).toLowerCase()}${why.slice(1)}`;
  runs.forEach((a, run) => {
    if (c.scope === 'layer')
      for (const r of a.recurrent) {
        const why = c.applies([{ ...a, recurrent: [r] }]) ? (c.empty?.(a, r, input) ?? null) : reason('this layer');
        if (why !== null) out[layerKey(run, r.id)] = why.startsWith('Left out') ? why : own(why);
      }
    if (c.scope === 'run') {
      const why = c.applies([a]) ? (c.empty?.(a, null, input) ?? null) : reason('this run');
      if (why !== null) out[`run:${run}`] = why.startsWith('Left out') ? why : own(why);
    }
  });
  return out;
}

export function pageData(input: Analysis | AnalysisSet, charts: ChartDef[] = CHARTS): PageData {
  const runs = runsOf(input);
  const first = runs.findIndex((a) => a.recurrent.length > 0);
  const run0 = Math.max(0, first);
  const out: PageChart[] = [];
  for (const c of charts) {
    if (!c.applies(runs, input)) continue;
    const log = stripData(c.build(input, { scale: 'log', run: run0 }));
    const linear = c.scaleToggle ? stripData(c.build(input, { scale: 'linear', run: run0 })).spec : null;
    out.push({
      id: c.id,
      title: c.title,
      howToRead: c.howToRead,
      scope: c.scope,
      scaleToggle: c.scaleToggle,
      raster: c.raster ?? false,
      empty: emptyFor(c, runs, input),
      datasets: Object.fromEntries(
        Object.entries(log.datasets).map(([k, v]) => [k, packColumns(toColumns(v as unknown[]))]),
      ),
      specs: { log: log.spec, linear },
    });
  }
  const r0 = runs[run0].recurrent[0];
  return {
    title: reportTitle(input),
    runs: runs.map((a, index) => ({
      index,
      label: runLabel(a),
      layers: a.recurrent.map((r) => ({ key: layerKey(index, r.id), label: shortLabel(a, r) })),
    })),
    initial: { run: run0, sel: r0 ? layerKey(run0, r0.id) : '', scale: 'log' },
    charts: out,
    drill: packIfLarge(drillData(runs)),
    drillConfig: CONFIG,
  };
}

/** Long columns of plain values packed (packed.ts): the page inflates them before drawing. */
function packColumns(cols: Columns): Columns {
  for (const col of Object.values(cols.c)) if ('p' in col) col.p = packIfLarge(col.p) as unknown[];
  return cols;
}
