// The report stage: analysis JSON → chart specs (Vega-Lite) → static SVG/PNG
// (Node) and a self-contained interactive HTML page.
//
//   analysis/schema.ts ─▶ charts/*.ts (spec per chart) ─┬▶ render-node.ts ─▶ SVG, PNG
//                                                       └▶ page-data.ts ─▶ html.ts ─▶ index.html
//   write.ts puts them in a directory; summary.ts is the CLI's plain-text diagnosis.

export { CHARTS, chartDef, type ChartDef } from './charts/index.js';
export type { ChartOptions, VegaLiteSpec } from './charts/common.js';
export { summaryText, fmt, type SummaryStyle } from './summary.js';
export { reportHtml, type Bundle, type HtmlOptions } from './html.js';
export { pageData, type PageData } from './page-data.js';
export { renderSVG, svgToPNG, compileSpec, readBundles } from './render-node.js';
export { writeReport, type WriteReportOptions, type WriteReportResult } from './write.js';
