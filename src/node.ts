// rnnscope's Node-only entry: loading from paths and writing reports to disk.
export * from './index.js';
export { loadModelFile, fileSetFromPath } from './io/node.js';
export { writeReport, type WriteReportOptions, type WriteReportResult } from './report/write.js';
export { renderSVG, svgToPNG } from './report/render-node.js';
export { analyzeParallel, analyzeModelParallel, type ParallelOptions } from './analyze-parallel.js';
