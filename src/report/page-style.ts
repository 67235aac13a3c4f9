// The page's stylesheet: one column of charts with their explanation beside
// them on a laptop-width screen (≥ 1200 px), stacked below that.

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
.findings { list-style: none; margin: 0; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); gap: 10px; }
.finding { border: 1px solid var(--line); border-left: 4px solid var(--info); border-radius: 4px; padding: 8px 12px; background: #fff; }
.finding.warning { border-left-color: var(--warning); }
.finding.error { border-left-color: var(--error); }
.finding p { margin: 4px 0; font-size: 14px; }
.finding-head .where { color: var(--muted); font-size: 13px; }
.badge { display: inline-block; font-size: 11px; text-transform: uppercase; letter-spacing: .04em; padding: 1px 6px; border-radius: 3px; color: #fff; background: var(--info); }
.badge.warning { background: var(--warning); }
.badge.error { background: var(--error); }
.evidence { font-size: 12.5px !important; color: var(--muted); }
.evidence span { display: inline-block; margin-right: 12px; }
.evidence b { font-weight: normal; color: var(--fg); }
.remedy b { font-weight: 600; }
.finding-link { font-size: 13px; color: var(--accent); }
.ok { color: #2a7d3f; }
.diagnosis.multi .runs { display: grid; grid-template-columns: repeat(auto-fill, minmax(390px, 1fr)); gap: 14px; }
.diagnosis.multi .findings { grid-template-columns: 1fr; }
.diagnosis.multi h3 { margin-bottom: 6px; }
.controls { position: sticky; top: 0; z-index: 5; display: flex; flex-wrap: wrap; gap: 8px 22px; align-items: center;
  background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; margin-bottom: 14px; font-size: 14px; }
.controls select { font: inherit; padding: 2px 4px; max-width: 520px; }
.controls .hint { color: var(--muted); font-size: 12.5px; margin-left: auto; }
.chart { display: grid; grid-template-columns: minmax(0, 1fr) 300px; gap: 18px; background: #fff; border: 1px solid var(--line);
  border-radius: 6px; padding: 12px 16px; margin-bottom: 14px; scroll-margin-top: 60px; }
.vis { overflow-x: auto; min-height: 120px; }
.howto { font-size: 14px; color: #333; border-left: 1px solid var(--line); padding-left: 16px; }
.howto p { margin: 4px 0 8px; }
.howto .follows, .howto .files { font-size: 12.5px; color: var(--muted); }
footer { color: var(--muted); font-size: 12.5px; padding-bottom: 30px; }
@media (max-width: 1150px) { .chart { grid-template-columns: 1fr; } .howto { border-left: 0; padding-left: 0; border-top: 1px solid var(--line); padding-top: 8px; } }
#vg-tooltip-element { font-size: 12px; }
`;
