// The page's stylesheet: one column of charts with their explanation beside
// them on a laptop-width screen (≥ 1200 px), stacked below that.

const ANSWER_CSS = `
.diagnosis h2 { margin-bottom: 10px; }
.answer-card { border-top: 1px solid var(--line); padding-top: 10px; margin-top: 10px; }
.answer-card:first-of-type { border-top: 0; margin-top: 0; padding-top: 0; }
.headline { margin: 0 0 6px; font-size: 15px; }
.answer-grid { display: grid; grid-template-columns: minmax(0, 7fr) minmax(0, 5fr); gap: 10px 24px; align-items: start; }
.reach-fig { margin: 0; }
svg.reach { width: 100%; height: auto; max-width: 640px; display: block; font-family: inherit; }
svg.reach .tick, svg.reach .note { fill: #444; }
svg.reach .axis { fill: #333; }
/* Two layouts of the figure (reach-svg.ts): the narrow one is drawn about 1:1 on a phone, so its text stays large. */
svg.reach.narrow { display: none; }
.reach-fig figcaption { font-size: 12.5px; color: var(--muted); max-width: 640px; }
.answer-side h4, .layer-findings h4 { font-size: 14px; margin: 10px 0 4px; }
.loss { background: #f6f7f9; border-radius: 4px; padding: 8px 10px; font-size: 14px; }
.loss p { margin: 0 0 6px; }
.verdict { font-weight: 700; margin-right: 4px; }
.learned-no .verdict, .learned-barely .verdict { color: var(--error); }
.learned-yes .verdict { color: #1e6b35; }
.bar-row { display: grid; grid-template-columns: 9.5em minmax(0, 1fr) auto; align-items: center; gap: 6px; font-size: 13px; }
.bar-row .bar { display: block; height: 10px; border-radius: 2px; }
.bar.model { background: #0072B2; }
.bar.baseline { background: #999; }
.bar-value { font-variant-numeric: tabular-nums; }
.why ul { margin: 0; padding: 0; list-style: none; font-size: 14px; }
.why li { margin: 2px 0 6px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; }
.findings { list-style: none; margin: 0; padding: 0; }
.finding { font-size: 14px; margin: 3px 0 6px; }
.finding .dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; background: var(--info); }
.finding .dot.warning { background: var(--warning); }
.finding .dot.error { background: var(--error); }
.evidence { font-size: 13px; color: var(--muted); margin: 2px 0 0 14px; }
.remedy { font-size: 14px; margin: 4px 0 8px; background: #eef5fb; border-radius: 4px; padding: 5px 8px; }
.remedy b { font-weight: 600; }
.finding-link { font-size: 13px; color: var(--accent); white-space: nowrap; }
.ok { color: #1e6b35; }
.muted { color: var(--muted); }
.left-out { color: var(--muted); font-size: 13px; font-style: italic; }
@media (max-width: 900px) { .answer-grid { grid-template-columns: minmax(0, 1fr); } }
@media (max-width: 500px) { svg.reach.wide { display: none; } svg.reach.narrow { display: block; } }
`;

export const PAGE_CSS = `
:root { --fg: #1d1d1f; --muted: #5f6368; --line: #e3e3e3; --bg: #fafafa; --accent: #1f6fb4;
  --error: #b3261e; --warning: #b36b00; --info: #1f6fb4; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 "DejaVu Sans", Verdana, system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header, main, footer { max-width: 1320px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 18px; }
h1 { font-size: 22px; margin: 0 0 6px; }
h2 { font-size: 18px; margin: 0 0 6px; }
h3 { font-size: 15px; margin: 0 0 4px; }
.note { background: #fff4d6; border: 1px solid #f0d48a; padding: 6px 10px; border-radius: 4px; font-size: 13px; }
.overview { font-size: 13px; color: var(--muted); margin-bottom: 10px; }
.overview p { margin: 2px 0; }
.run-card { margin: 6px 0; }
.warnings { margin: 4px 0; padding-left: 18px; color: var(--warning); }
.diagnosis { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 14px 18px; margin: 10px 0 14px; }
.diagnosis .lead { margin: 0 0 8px; color: var(--muted); }
${ANSWER_CSS}
.controls { position: sticky; top: 0; z-index: 5; display: flex; flex-wrap: wrap; gap: 8px 22px; align-items: center;
  background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; margin-bottom: 14px; font-size: 14px; }
.controls select { font: inherit; padding: 2px 4px; max-width: min(520px, calc(100vw - 110px)); }
.controls .hint { color: var(--muted); font-size: 12.5px; margin-left: auto; }
.chart { display: grid; grid-template-columns: minmax(0, 1fr) 300px; gap: 18px; background: #fff; border: 1px solid var(--line);
  border-radius: 6px; padding: 12px 16px; margin-bottom: 14px;
  scroll-margin-top: var(--controls-h, 60px); }
.vis { overflow-x: auto; min-height: 120px; }
.howto { font-size: 14px; color: #333; border-left: 1px solid var(--line); padding-left: 16px; }
.howto p { margin: 4px 0 8px; }
.howto .follows, .howto .files { font-size: 12.5px; color: var(--muted); }
footer { color: var(--muted); font-size: 12.5px; padding-bottom: 30px; }
@media (max-width: 1150px) { .chart { grid-template-columns: 1fr; } .howto { border-left: 0; padding-left: 0; border-top: 1px solid var(--line); padding-top: 8px; } }
#vg-tooltip-element { font-size: 12px; }
.vis.is-empty { height: 0; min-height: 0; overflow: hidden; }
/* A chart left out for the selection: its one-line reason takes the chart's place, beside the explanation. */
.chart > .left-out:not([hidden]) { grid-column: 1; grid-row: 1; margin: 0; }
.chart > .left-out:not([hidden]) + .vis { grid-column: 1; grid-row: 2; }
.chart > .left-out:not([hidden]) ~ .howto { grid-column: 2; grid-row: 1 / span 2; }
@media (max-width: 1150px) { .chart > .left-out:not([hidden]) ~ .howto { grid-column: 1; grid-row: 3; } }
@media (max-width: 700px) {
  header, main, footer { padding: 0 10px; }
  .controls { position: static; }
  .controls .hint { margin-left: 0; }
  .chart { padding: 10px 8px; }
  .diagnosis { padding: 10px 10px; }
  h1 { font-size: 19px; }
}
`;
