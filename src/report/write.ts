// writeReport: the report directory on disk.
//   DIR/index.html        self-contained interactive page
//   DIR/analysis.json     the input, so `rnnscope report` can redraw it
//   DIR/charts/<id>.svg   each chart for the first run's first layer, and .png
//   DIR/charts/<id>--<run>-<layer>.svg/.png  other layers and runs (option `variants`)
//   DIR/.rnnscope-manifest.json  what rnnscope wrote there (out-folder.ts: only those are ever replaced)
// Every file is staged under a temporary name and the set is renamed into place at the end.

import { runsOf, type Analysis, type AnalysisSet, type ChartId } from '../analysis/schema.js';
import { CHARTS } from './charts/index.js';
import { reportHtml } from './html.js';
import { ReportFolder } from './out-folder.js';
import { readBundles, renderSVG, svgToPNG } from './render-node.js';

export interface WriteReportOptions {
  /** Also write every other layer (and run) of the per-layer/per-run charts. Default false. */
  variants?: boolean;
  /** PNG scale factor (default 2). */
  pngScale?: number;
  /** Skip the PNGs (faster). Default false. */
  noPng?: boolean;
  /** Called after each chart image is written. */
  onProgress?: (done: number, total: number) => void;
}

export interface WriteReportResult {
  /** Paths written, relative to outDir. */
  files: string[];
  /** Vega/Vega-Lite warnings met while rendering (each once). */
  warnings: string[];
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]+/g, '_');
}

interface Job {
  id: ChartId;
  file: string;
  run?: number;
  layer?: string;
}

function jobsFor(
  input: Analysis | AnalysisSet,
  variants: boolean,
): { jobs: Job[]; build: Map<ChartId, (typeof CHARTS)[number]> } {
  const runs = runsOf(input);
  const build = new Map(CHARTS.map((c) => [c.id, c]));
  const jobs: Job[] = [];
  const run0 = Math.max(
    0,
    runs.findIndex((a) => a.recurrent.length > 0),
  );
  for (const c of CHARTS) {
    if (!c.applies(runs, input)) continue;
    jobs.push({ id: c.id, file: c.id, run: run0 });
    if (!variants || c.scope === 'set') continue;
    runs.forEach((a, run) => {
      const tag = runs.length > 1 ? `${run}-` : '';
      if (c.scope === 'run') {
        if (run !== run0) jobs.push({ id: c.id, file: `${c.id}--${run}`, run });
        return;
      }
      a.recurrent.forEach((r, i) => {
        if (run === run0 && i === 0) return;
        jobs.push({ id: c.id, file: `${c.id}--${tag}${slug(r.id)}`, run, layer: r.id });
      });
    });
  }
  return { jobs, build };
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
  const { jobs, build } = jobsFor(input, opts.variants ?? false);
  let done = 0;
  for (const job of jobs) {
    const def = build.get(job.id);
    if (!def) continue;
    const messages = { warnings: [] as string[] };
    const svg = await renderSVG(def.build(input, { run: job.run, layer: job.layer, interactive: false }), messages);
    messages.warnings.forEach((w) => warnings.add(`${job.id}: ${w}`));
    await folder.write(`charts/${job.file}.svg`, svg);
    files.push(`charts/${job.file}.svg`);
    if (!opts.noPng) {
      await folder.write(`charts/${job.file}.png`, svgToPNG(svg, opts.pngScale ?? 2));
      files.push(`charts/${job.file}.png`);
    }
    opts.onProgress?.(++done, jobs.length);
  }
  return { files, warnings: [...warnings] };
}
