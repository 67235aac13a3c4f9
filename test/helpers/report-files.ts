// A report folder's chart images, found through charts/index.json (docs/outputs.md, "Chart files"):
// names depend on the runs and layers, so tests ask the index rather than guess a file name.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';

export interface ChartIndexEntry {
  chart: string;
  svg: string;
  png: string | null;
  layer: string | null;
}

export function chartIndex(reportDir: string): { charts: ChartIndexEntry[]; skipped: unknown[] } {
  return JSON.parse(readFileSync(path.join(reportDir, 'charts', 'index.json'), 'utf8'));
}

/** The report has at least one gradient-through-time chart, as an SVG (and a PNG unless `png` is false). */
export function expectDhChart(reportDir: string, png = true): void {
  const dh = chartIndex(reportDir).charts.filter((c) => c.chart === 'dh');
  expect(dh.length).toBeGreaterThan(0);
  for (const c of dh) {
    expect(readFileSync(path.join(reportDir, c.svg), 'utf8')).toMatch(/^<svg/);
    if (png) expect(readFileSync(path.join(reportDir, c.png!)).subarray(1, 4).toString()).toBe('PNG');
  }
}
