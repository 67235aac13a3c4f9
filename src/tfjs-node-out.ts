// The TF.js callback's output in Node: the timeline snapshot (index.html, analysis.json) in a
// folder, through the report folder's staged writes. Loaded only when `out` is a path.

import type { AnalysisSet } from './analysis/schema.js';
import { ReportFolder } from './report/out-folder.js';
import { writeSnapshot } from './report/timeline-snapshot.js';

export async function writeTimelineFolder(dir: string, set: AnalysisSet): Promise<void> {
  const folder = await ReportFolder.open(dir, { role: 'The rnnscopeCallback out folder' });
  try {
    await writeSnapshot(folder, set);
  } catch (e) {
    await folder.abort();
    throw e;
  } finally {
    await folder.close();
  }
}
