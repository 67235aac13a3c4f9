// Text contrast of a static chart (WCAG 2.x): the contrast ratio of two colours, and the darkening
// of text colours below a minimum against the chart's background. WCAG AA asks 4.5:1 for normal
// text (https://www.w3.org/TR/WCAG21/#contrast-minimum); the formula is WCAG's relative luminance
// (https://www.w3.org/TR/WCAG21/#dfn-relative-luminance). Pure: no node:*, no DOM.

import { attr, hexColor, parseColor, type Rgba } from './raster.js';

export const WCAG_AA_TEXT = 4.5;

function channel(v: number): number {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

export function relativeLuminance(c: Rgba): number {
  return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
}

/** (L_lighter + 0.05) / (L_darker + 0.05), from 1 to 21. */
export function contrastRatio(a: Rgba, b: Rgba): number {
  const la = relativeLuminance(a),
    lb = relativeLuminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/** `fg` with alpha drawn over the opaque `bg`. */
export function over(fg: Rgba, bg: Rgba): Rgba {
  const a = Math.min(1, Math.max(0, fg.a));
  return { r: fg.r * a + bg.r * (1 - a), g: fg.g * a + bg.g * (1 - a), b: fg.b * a + bg.b * (1 - a), a: 1 };
}

/** The lightest shade of `c` (same hue, scaled towards black) with at least `min` contrast against a light `bg`. */
export function darkenTo(c: Rgba, bg: Rgba, min: number): Rgba {
  if (contrastRatio(c, bg) >= min) return c;
  let lo = 0,
    hi = 1; // factor on the channels: 0 is black, 1 is c
  for (let i = 0; i < 30; i++) {
    const mid = (lo + hi) / 2;
    const m = { r: c.r * mid, g: c.g * mid, b: c.b * mid, a: 1 };
    if (contrastRatio(m, bg) >= min) lo = mid;
    else hi = mid;
  }
  // Rounded to whole channel values, then one step darker if rounding lost the margin.
  let f = lo;
  for (;;) {
    const m = { r: Math.floor(c.r * f), g: Math.floor(c.g * f), b: Math.floor(c.b * f), a: 1 };
    if (contrastRatio(m, bg) >= min || f <= 0) return m;
    f -= 1 / 255;
  }
}

/** The SVG's background: the fill of its first full-size <rect>, as Vega writes it (white when there is none). */
export function svgBackground(svg: string): Rgba {
  const head = /^<svg\b[^>]*>\s*(<rect\b[^>]*>)?/.exec(svg);
  const fill = head?.[1] ? attr(head[1], 'fill') : undefined;
  const c = fill ? parseColor(fill) : null;
  return c && c.a === 1 ? c : { r: 255, g: 255, b: 255, a: 1 };
}

export interface TextColor {
  /** The colour as written, e.g. "#e07b00". */
  fill: string;
  /** Drawn colour (fill with opacity over the background). */
  drawn: Rgba;
  ratio: number;
  /** The text, for messages. */
  text: string;
}

/** Every <text> of the SVG with its drawn colour and contrast against the background. */
export function textColors(svg: string): TextColor[] {
  const bg = svgBackground(svg);
  const out: TextColor[] = [];
  for (const m of svg.matchAll(/<text\b([^>]*)>(.*?)<\/text>/g)) {
    const tag = ` ${m[1]}`;
    const fill = attr(tag, 'fill') ?? '#000';
    const c = parseColor(fill);
    if (!c) continue;
    for (const a of ['opacity', 'fill-opacity']) {
      const v = attr(tag, a);
      if (v !== undefined) c.a *= Number(v);
    }
    const text = m[2]!.replace(/<[^>]*>/g, ' ').trim();
    if (c.a <= 0 || text === '') continue;
    const drawn = over(c, bg);
    out.push({ fill, drawn, ratio: contrastRatio(drawn, bg), text });
  }
  return out;
}

/**
 * Darkens every text colour below `min` (default 4.5:1, WCAG AA for normal text) against the SVG's
 * background, keeping its hue; returns the SVG and each colour changed.
 */
export function ensureTextContrast(
  svg: string,
  min = WCAG_AA_TEXT,
): { svg: string; changed: { from: string; to: string; ratio: number }[] } {
  const bg = svgBackground(svg);
  const changed = new Map<string, { from: string; to: string; ratio: number }>();
  const out = svg.replace(/<text\b([^>]*)>/g, (whole, attrs: string) => {
    const tag = ` ${attrs}`;
    const fill = attr(tag, 'fill') ?? '#000';
    const c = parseColor(fill);
    if (!c) return whole;
    const opacity = attr(tag, 'opacity'),
      fillOpacity = attr(tag, 'fill-opacity');
    c.a *= Number(opacity ?? 1) * Number(fillOpacity ?? 1);
    if (c.a <= 0) return whole;
    const drawn = over(c, bg);
    const ratio = contrastRatio(drawn, bg);
    if (ratio >= min) return whole;
    const to = hexColor(darkenTo(drawn, bg, min));
    changed.set(`${fill}|${c.a}`, { from: fill, to, ratio });
    let t = whole.replace(/\sfill-opacity="[^"]*"/, '').replace(/\sopacity="[^"]*"/, ' opacity="1"');
    t = / fill="/.test(t) ? t.replace(/\sfill="[^"]*"/, ` fill="${to}"`) : t.replace(/>$/, ` fill="${to}">`);
    return t;
  });
  return { svg: out, changed: [...changed.values()] };
}
