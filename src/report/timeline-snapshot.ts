// The on-disk snapshot of a growing timeline (`rnnscope watch`, the TF.js callback in Node): the
// self-contained page and the analysis JSON, replaced together after each checkpoint through the
// report folder (staged, then renamed into place), so a reader or a crash never sees half a file.

import type { AnalysisSet } from '../analysis/schema.js';
import { reportHtml } from './html.js';
import type { ReportFolder } from './out-folder.js';
import { readBundles } from './render-node.js';

let bundles: ReturnType<typeof readBundles> | null = null;

/** The page (bundles inlined, no chart image links) as it goes on disk. */
export function snapshotHtml(set: AnalysisSet): string {
  bundles ??= readBundles();
  return reportHtml(set, { bundles, staticFiles: false });
}

export async function writeSnapshot(folder: ReportFolder, set: AnalysisSet): Promise<void> {
  await folder.write('analysis.json', `${JSON.stringify(set)}\n`);
  await folder.write('index.html', snapshotHtml(set));
  await folder.commit();
}
