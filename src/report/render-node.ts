// Static rendering in Node: Vega-Lite spec → Vega → SVG (vega View, renderer
// 'none', no DOM) → PNG (resvg). Also locates the browser bundles to inline.
// exportChart() is the report's image files: powers of ten in the labels, grid-like rect marks
// as one embedded image (raster.ts), text dark enough for WCAG AA (contrast.ts).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';
import type { VegaLiteSpec } from './charts/common.js';
import { ensureTextContrast } from './contrast.js';
import { rasterizeRectMarks } from './raster.js';
import { vegaTextWidth } from './text-metrics.js';
import { withPow10Labels } from './tick-labels.js';

// Without a canvas vega estimates text widths coarsely; measure with the PNG font's metrics instead.
(vega as unknown as { textMetrics: { width: typeof vegaTextWidth } }).textMetrics.width = vegaTextWidth;

export interface RenderMessages {
  warnings: string[];
}

/** Vega-Lite → Vega; Vega-Lite's warnings are collected, not printed. */
export function compileSpec(spec: VegaLiteSpec, messages?: RenderMessages): vega.Spec {
  const warnings = messages?.warnings ?? [];
  const logger = {
    level: () => logger,
    error: (...a: unknown[]) => {
      warnings.push(a.join(' '));
      return logger;
    },
    warn: (...a: unknown[]) => {
      warnings.push(a.join(' '));
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  };
  return compile(spec, { logger: logger as never }).spec;
}

export async function renderSVG(spec: VegaLiteSpec, messages?: RenderMessages): Promise<string> {
  const view = new vega.View(vega.parse(compileSpec(spec, messages)), { renderer: 'none' });
  const warnings = messages?.warnings;
  if (warnings)
    view.logger({
      level: () => 0,
      error: (...a: unknown[]) => warnings.push(a.join(' ')),
      warn: (...a: unknown[]) => warnings.push(a.join(' ')),
      info: () => undefined,
      debug: () => undefined,
    } as never);
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterise at `scale` × the SVG's size (2 = crisp on high-DPI screens and in papers). */
export function svgToPNG(svg: string, scale = 2): Buffer {
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return r.render().asPng();
}

export interface ExportedChart {
  svg: string;
  /** Null when no PNG was asked for. */
  png: Buffer | null;
  /** Rect marks drawn as one embedded image: their class and cell count. */
  rasterized: { mark: string; cells: number }[];
  /** Text colours darkened to reach 4.5:1 against the background. */
  darkened: { from: string; to: string; ratio: number }[];
}

/** A chart as the report's SVG and PNG files. */
export async function exportChart(
  spec: VegaLiteSpec,
  opts: { pngScale?: number; noPng?: boolean } = {},
  messages?: RenderMessages,
): Promise<ExportedChart> {
  const scale = opts.pngScale ?? 2;
  const raw = await renderSVG(withPow10Labels(spec), messages);
  const raster = rasterizeRectMarks(raw, { scale: Math.max(1, Math.ceil(scale)) });
  const contrast = ensureTextContrast(raster.svg);
  return {
    svg: contrast.svg,
    png: opts.noPng ? null : svgToPNG(contrast.svg, scale),
    rasterized: raster.replaced.map(({ mark, cells }) => ({ mark, cells })),
    darkened: contrast.changed,
  };
}

/** The minified UMD bundles the page needs, in load order (vega, vega-lite, vega-embed). */
export function readBundles(): { name: string; js: string }[] {
  const require = createRequire(import.meta.url);
  // The packages' export maps do not expose build/*.min.js, so locate them next to the main entry.
  const bundles: [string, string][] = [
    ['vega', 'vega.min.js'],
    ['vega-lite', 'vega-lite.min.js'],
    ['vega-embed', 'vega-embed.min.js'],
  ];
  return bundles.map(([pkg, file]) => ({
    name: pkg,
    js: readFileSync(join(dirname(require.resolve(pkg)), file), 'utf8'),
  }));
}
