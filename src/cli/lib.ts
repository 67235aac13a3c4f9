// The library functions the CLI calls, loaded on first use (so `--help` starts
// fast) and checked to exist, so a missing piece of a partial build gives one
// clear sentence instead of "x is not a function".

export class MissingLibraryError extends Error {}

function need<T>(mod: Record<string, unknown>, name: string, file: string): T {
  const f = mod[name];
  if (typeof f !== 'function') {
    throw new MissingLibraryError(
      `This rnnscope build has no '${name}' in ${file}; expected the library function the CLI calls, so reinstall rnnscope or rebuild it with 'npm run build'.`,
    );
  }
  return f as T;
}

export async function analysisLib() {
  const m = await import('../analysis/index.js');
  // The command line uses every core (worker threads); the library's analyze() is single-threaded.
  const p = await import('../analyze-parallel.js');
  return {
    analyze: need<typeof p.analyzeParallel>(p, 'analyzeParallel', 'src/analyze-parallel.ts'),
    validateReportInput: need<typeof m.validateReportInput>(m, 'validateReportInput', 'src/analysis/validate.ts'),
  };
}

export async function demoLib() {
  const m = await import('../analysis/demo.js');
  return { runDemo: need<typeof m.runDemo>(m, 'runDemo', 'src/analysis/demo.ts') };
}

export async function ioLib() {
  const node = await import('../io/node.js');
  const data = await import('../io/data.js');
  const check = await import('../io/data-check.js');
  const npz = await import('../io/npz-write.js');
  return {
    loadModelFile: need<typeof node.loadModelFile>(node, 'loadModelFile', 'src/io/node.ts'),
    openData: need<typeof data.openData>(data, 'openData', 'src/io/data.ts'),
    fitInputsAndTargets: need<typeof check.fitInputsAndTargets>(check, 'fitInputsAndTargets', 'src/io/data-check.ts'),
    encodeNpz: need<typeof npz.encodeNpz>(npz, 'encodeNpz', 'src/io/npz-write.ts'),
  };
}

export async function summaryLib() {
  const m = await import('../model/summary.js');
  return { summary: need<typeof m.summary>(m, 'summary', 'src/model/summary.ts') };
}

/** The plain-text summary alone (the report library loads the chart renderers: about 0.25 s more). */
export async function textLib() {
  const m = await import('../report/summary.js');
  return { summaryText: need<typeof m.summaryText>(m, 'summaryText', 'src/report/summary.ts') };
}

export async function reportLib() {
  const m = await import('../report/index.js');
  const w = await import('../report/write.js');
  return {
    writeReport: need<typeof m.writeReport>(m, 'writeReport', 'src/report/write.ts'),
    summaryText: need<typeof m.summaryText>(m, 'summaryText', 'src/report/summary.ts'),
    chartsLine: need<typeof w.chartsLine>(w, 'chartsLine', 'src/report/write.ts'),
  };
}
