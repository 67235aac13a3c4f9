// Static rendering in Node: Vega-Lite spec → Vega → SVG (vega View, renderer
// 'none', no DOM) → PNG (resvg). Also locates the browser bundles to inline.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';
import type { VegaLiteSpec } from './charts/common.js';
import { vegaTextWidth } from './text-metrics.js';

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
