// writeReport: the report directory on disk (docs/outputs.md).
//   DIR/index.html          self-contained interactive page
//   DIR/analysis.json       the input, so `rnnscope report` can redraw it
//   DIR/charts/…/*.svg|png  every chart of every run and recurrent layer/direction (names: export-names.ts)
//   DIR/charts/index.json   what each image shows, and the charts left out with the reason
//   DIR/.rnnscope-manifest.json  what rnnscope wrote there (out-folder.ts: only those are ever replaced)
// Every file is staged under a temporary name and the set is renamed into place at the end.

import type { Analysis, AnalysisSet, ChartId } from '../analysis/schema.js';
import { CHARTS } from './charts/index.js';
import { CHART_INDEX, planExports, type SkippedExport } from './export-names.js';
import { reportHtml } from './html.js';
import { ReportFolder } from './out-folder.js';
import { exportChart, readBundles } from './render-node.js';

export interface WriteReportOptions {
  /** PNG scale factor (default 2). */
  pngScale?: number;
  /** Skip the PNGs (faster). Default false. */
  noPng?: boolean;
  /** Called after each chart image is written. */
  onProgress?: (done: number, total: number) => void;
}

export interface ExportedChartEntry {
  chart: ChartId;
  title: string;
  /** Paths relative to the report folder; png is null with `noPng`. */
  svg: string;
  png: string | null;
  run: number;
  layer: string | null;
  /** The run and layer in words. */
  about: string;
  bytes: { svg: number; png: number | null };
}

export interface WriteReportResult {
  /** Paths written, relative to outDir. */
  files: string[];
  /** Every chart image written. */
  charts: ExportedChartEntry[];
  /** Charts with nothing to show, not written, with the reason (also in charts/index.json). */
  skipped: (SkippedExport & { title: string })[];
  /** Vega/Vega-Lite warnings met while rendering (each once). */
  warnings: string[];
}

/**
 * Writes the report into `out`: a folder path (created, checked and locked here), or a ReportFolder
 * the caller opened before its work (the CLI does, so a refused folder costs no analysis).
 */
export async function writeReport(
  input: Analysis | AnalysisSet,
  out: string | ReportFolder,
  opts: WriteReportOptions = {},
): Promise<WriteReportResult> {
  const folder = typeof out === 'string' ? await ReportFolder.open(out) : out;
  try {
    const result = await stageReport(input, folder, opts);
    await folder.commit();
    return result;
  } catch (e) {
    await folder.abort();
    throw e;
  } finally {
    if (typeof out === 'string') await folder.close();
  }
}

async function stageReport(
  input: Analysis | AnalysisSet,
  folder: ReportFolder,
  opts: WriteReportOptions,
): Promise<WriteReportResult> {
  const files: string[] = [];
  const warnings = new Set<string>();
  // `rnnscope report DIR/analysis.json --out DIR` redraws in place: the input stays as it is.
  if (!folder.isKept('analysis.json')) await folder.write('analysis.json', `${JSON.stringify(input)}\n`);
  files.push('analysis.json');
  await folder.write('index.html', reportHtml(input, { bundles: readBundles(), staticFiles: true }));
  files.push('index.html');
  const defs = new Map(CHARTS.map((c) => [c.id, c]));
  const title = (id: ChartId) => defs.get(id)?.title ?? id;
  const { jobs, skipped } = planExports(input, CHARTS);
  const charts: ExportedChartEntry[] = [];
  let done = 0;
  for (const job of jobs) {
    const def = defs.get(job.chart)!;
    const messages = { warnings: [] as string[] };
    const spec = def.build(input, { run: job.run, layer: job.layer, interactive: false });
    const img = await exportChart(spec, { pngScale: opts.pngScale, noPng: opts.noPng }, messages);
    messages.warnings.forEach((w) => warnings.add(`${job.path}: ${w}`));
    await folder.write(`${job.path}.svg`, img.svg);
    files.push(`${job.path}.svg`);
    if (img.png) {
      await folder.write(`${job.path}.png`, img.png);
      files.push(`${job.path}.png`);
    }
    charts.push({
      chart: job.chart,
      title: def.title,
      svg: `${job.path}.svg`,
      png: img.png ? `${job.path}.png` : null,
      run: job.run,
      layer: job.layer ?? null,
      about: job.about,
      bytes: { svg: Buffer.byteLength(img.svg), png: img.png?.length ?? null },
    });
    opts.onProgress?.(++done, jobs.length);
  }
  const left = skipped.map((s) => ({ ...s, title: title(s.chart) }));
  await folder.write(CHART_INDEX, `${JSON.stringify(chartIndex(charts, left), null, 1)}\n`);
  files.push(CHART_INDEX);
  return { files, charts, skipped: left, warnings: [...warnings] };
}

function chartIndex(charts: ExportedChartEntry[], skipped: WriteReportResult['skipped']): object {
  return {
    about:
      'The chart images of this report (SVG, and PNG unless left out), and the charts not drawn because they have nothing to show, with the reason. Names: docs/outputs.md in rnnscope.',
    charts: charts.map(({ bytes: _b, ...c }) => c),
    skipped,
  };
}

/** One line for the terminal: how many chart images were written, and each chart left out with its reason. */
export function chartsLine(r: WriteReportResult, outDir: string): string {
  const n = r.charts.length;
  const head = `Wrote ${n} chart${n === 1 ? '' : 's'} (SVG${r.charts.some((c) => c.png) ? ' and PNG' : ''}) under ${outDir}/charts, listed in ${outDir}/${CHART_INDEX}`;
  if (r.skipped.length === 0) return `${head}.`;
  // One entry per chart and reason, naming every layer or run it applies to (a layer in several runs once).
  const groups = new Map<string, { title: string; reason: string; who: string[] }>();
  for (const s of r.skipped) {
    const reason = s.reason.replace(/\.$/, '');
    const g = groups.get(`${s.title}\n${reason}`) ?? { title: s.title, reason, who: [] };
    g.who.push(s.layer ?? s.about);
    groups.set(`${s.title}\n${reason}`, g);
  }
  const why = [...groups.values()].map((g) => {
    const names = [...new Set(g.who)];
    const who = names.length === g.who.length ? names.join(', ') : `${names.join(', ')}, in ${g.who.length} runs`;
    return `${g.title} (${who}): ${g.reason}`;
  });
  const shown = why.length > 6 ? [...why.slice(0, 6), `${why.length - 6} more`] : why;
  return `${head}; left out, having nothing to show: ${shown.join('; ')}.`;
}
