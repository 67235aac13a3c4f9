// Cells as pixels: a PNG encoder and the rasteriser of Vega's rect marks in a static SVG.
//
// A heatmap or density chart is thousands of rect marks; Vega writes each as a <path> with its
// tooltip text, so the SVG grows to megabytes. rasterizeRectMarks() replaces every large rect mark
// group with one <image> holding a PNG of its cells (nearest pixel, no smoothing), and leaves the
// axes, legends and text as vector. Pure (no node:*, no DOM): the page can use the encoder too.

import { zlibSync } from 'fflate';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** The filtered scanline with the smallest sum of |bytes| among None, Sub and Up (the usual PNG heuristic). */
function filterRow(row: Uint8Array, prev: Uint8Array | null, bpp: number, out: Uint8Array): void {
  const n = row.length;
  const sub = new Uint8Array(n),
    up = new Uint8Array(n);
  let sNone = 0,
    sSub = 0,
    sUp = 0;
  for (let i = 0; i < n; i++) {
    const a = i >= bpp ? row[i - bpp]! : 0;
    const b = prev ? prev[i]! : 0;
    sub[i] = (row[i]! - a) & 0xff;
    up[i] = (row[i]! - b) & 0xff;
    sNone += row[i]! < 128 ? row[i]! : 256 - row[i]!;
    sSub += sub[i]! < 128 ? sub[i]! : 256 - sub[i]!;
    sUp += up[i]! < 128 ? up[i]! : 256 - up[i]!;
  }
  if (sUp <= sSub && sUp <= sNone) {
    out[0] = 2;
    out.set(up, 1);
  } else if (sSub <= sNone) {
    out[0] = 1;
    out.set(sub, 1);
  } else {
    out[0] = 0;
    out.set(row, 1);
  }
}

/** PNG of `width × height` RGBA pixels (row-major, 8 bits each); RGB when every pixel is opaque. */
export function encodePNG(rgba: Uint8Array, width: number, height: number): Uint8Array {
  if (rgba.length !== width * height * 4)
    throw new RangeError(`encodePNG: ${rgba.length} bytes for ${width}×${height}`);
  let opaque = true;
  for (let i = 3; i < rgba.length && opaque; i += 4) opaque = rgba[i] === 255;
  const bpp = opaque ? 3 : 4;
  const stride = width * bpp;
  const raw = new Uint8Array(height * (stride + 1));
  let prev: Uint8Array | null = null;
  for (let y = 0; y < height; y++) {
    const row = new Uint8Array(stride);
    for (let x = 0; x < width; x++) for (let k = 0; k < bpp; k++) row[x * bpp + k] = rgba[(y * width + x) * 4 + k]!;
    filterRow(row, prev, bpp, raw.subarray(y * (stride + 1), (y + 1) * (stride + 1)));
    prev = row;
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = opaque ? 2 : 6; // colour type: RGB or RGBA
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlibSync(raw, { level: 6 })),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** An sRGB colour with alpha, channels 0–255 and alpha 0–1. */
export interface Rgba {
  r: number;
  g: number;
  b: number;
  a: number;
}

const NAMED: Record<string, Rgba> = {
  white: { r: 255, g: 255, b: 255, a: 1 },
  black: { r: 0, g: 0, b: 0, a: 1 },
  transparent: { r: 0, g: 0, b: 0, a: 0 },
  none: { r: 0, g: 0, b: 0, a: 0 },
};

/** Parses the colours Vega writes (#rgb, #rrggbb, rgb(), rgba(), a few names); null for anything else. */
export function parseColor(s: string): Rgba | null {
  const t = s.trim().toLowerCase();
  if (NAMED[t]) return { ...NAMED[t] };
  let m = /^#([0-9a-f]{3})$/.exec(t);
  if (m) {
    const [r, g, b] = [...m[1]!].map((c) => Number.parseInt(c + c, 16));
    return { r: r!, g: g!, b: b!, a: 1 };
  }
  m = /^#([0-9a-f]{6})$/.exec(t);
  if (m) {
    const n = Number.parseInt(m[1]!, 16);
    return { r: n >> 16, g: (n >> 8) & 255, b: n & 255, a: 1 };
  }
  m = /^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*([\d.]+)\s*)?\)$/.exec(t);
  if (m) return { r: Number(m[1]), g: Number(m[2]), b: Number(m[3]), a: m[4] === undefined ? 1 : Number(m[4]) };
  return null;
}

export function hexColor(c: Rgba): string {
  const h = (v: number) =>
    Math.round(Math.min(255, Math.max(0, v)))
      .toString(16)
      .padStart(2, '0');
  return `#${h(c.r)}${h(c.g)}${h(c.b)}`;
}

/** The value of attribute `name` in a tag's text, or undefined. */
const ATTR = new Map<string, RegExp>();
export function attr(tag: string, name: string): string | undefined {
  let re = ATTR.get(name);
  if (!re) ATTR.set(name, (re = new RegExp(`\\s${name}="([^"]*)"`)));
  const m = re.exec(tag);
  return m ? m[1] : undefined;
}

interface Cell {
  x: number;
  y: number;
  w: number;
  h: number;
  color: Rgba;
}

const NUM = '(-?(?:\\d+\\.?\\d*|\\.\\d+)(?:e[-+]?\\d+)?)';
// Vega writes a rect without corner radius as "M x,y h w v h h -w Z".
const RECT_PATH = new RegExp(`^M${NUM},${NUM}h${NUM}v${NUM}h${NUM}Z$`);
const TRANSLATE = new RegExp(`^translate\\(${NUM},${NUM}\\)$`);

/** A cell from one <path …/> of a rect mark; null when it is not a plain filled axis-aligned rectangle. */
function cellOf(tag: string): Cell | null {
  const m = RECT_PATH.exec(attr(tag, 'd') ?? '');
  if (!m) return null;
  const stroke = attr(tag, 'stroke');
  if (stroke !== undefined && stroke !== 'none' && attr(tag, 'stroke-width') !== '0') return null;
  let [x, y, w, h] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  if (Number(m[5]) !== -w) return null;
  let dx = 0,
    dy = 0;
  const tr = attr(tag, 'transform');
  if (tr !== undefined) {
    const t = TRANSLATE.exec(tr);
    if (!t) return null;
    dx = Number(t[1]);
    dy = Number(t[2]);
  }
  if (w < 0) {
    x += w;
    w = -w;
  }
  if (h < 0) {
    y += h;
    h = -h;
  }
  const color = parseColor(attr(tag, 'fill') ?? 'black');
  if (!color) return null;
  for (const a of ['opacity', 'fill-opacity']) {
    const v = attr(tag, a);
    if (v !== undefined) color.a *= Number(v);
  }
  if (!Number.isFinite(x + y + w + h + color.a)) return null;
  return { x: x + dx, y: y + dy, w, h, color };
}

/** Paints `cells` in order (source-over) at `scale` pixels per unit; a pixel takes the cells covering its centre. */
function paint(cells: Cell[], scale: number): { png: Uint8Array; x: number; y: number; w: number; h: number } | null {
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -Infinity,
    y1 = -Infinity;
  for (const c of cells) {
    if (c.color.a <= 0 || c.w <= 0 || c.h <= 0) continue;
    x0 = Math.min(x0, c.x);
    y0 = Math.min(y0, c.y);
    x1 = Math.max(x1, c.x + c.w);
    y1 = Math.max(y1, c.y + c.h);
  }
  if (!(x1 > x0 && y1 > y0)) return null;
  // Whole pixels: the image's corner sits on the grid of `scale`, so the edges stay where the vector cells were.
  x0 = Math.floor(x0 * scale) / scale;
  y0 = Math.floor(y0 * scale) / scale;
  const W = Math.ceil((x1 - x0) * scale),
    H = Math.ceil((y1 - y0) * scale);
  if (W * H > 64e6) return null;
  const px = new Float32Array(W * H * 4); // premultiplied RGBA, 0–1
  for (const c of cells) {
    const a = Math.min(1, Math.max(0, c.color.a));
    if (a <= 0) continue;
    const i0 = Math.max(0, Math.round((c.x - x0) * scale)),
      i1 = Math.min(W, Math.round((c.x + c.w - x0) * scale));
    const j0 = Math.max(0, Math.round((c.y - y0) * scale)),
      j1 = Math.min(H, Math.round((c.y + c.h - y0) * scale));
    const r = (c.color.r / 255) * a,
      g = (c.color.g / 255) * a,
      b = (c.color.b / 255) * a;
    for (let j = j0; j < j1; j++)
      for (let i = i0; i < i1; i++) {
        const k = (j * W + i) * 4;
        const keep = 1 - a;
        px[k] = r + px[k]! * keep;
        px[k + 1] = g + px[k + 1]! * keep;
        px[k + 2] = b + px[k + 2]! * keep;
        px[k + 3] = a + px[k + 3]! * keep;
      }
  }
  const rgba = new Uint8Array(W * H * 4);
  for (let k = 0; k < rgba.length; k += 4) {
    const a = px[k + 3]!;
    rgba[k + 3] = Math.round(a * 255);
    if (a > 0) for (let q = 0; q < 3; q++) rgba[k + q] = Math.round((px[k + q]! / a) * 255);
  }
  return { png: encodePNG(rgba, W, H), x: x0, y: y0, w: W / scale, h: H / scale };
}

export interface RasterOptions {
  /** Pixels per SVG unit (default 2: one image pixel per PNG pixel at the default PNG scale). */
  scale?: number;
  /** Rasterise a rect mark only from this many cells on (default 32); smaller ones stay vector. */
  minCells?: number;
}

export interface RasterResult {
  svg: string;
  /** One entry per mark group replaced: its class and how many cells went into the image. */
  replaced: { mark: string; cells: number; bytes: number }[];
}

const round = (v: number) => Number(v.toFixed(4));

/**
 * Cells of a heatmap: few distinct sizes, spread over several rows and columns. Bars (a histogram, a
 * bar chart) have a size each and stay vector, where their edges are exact at any zoom.
 */
function gridLike(cells: Cell[]): boolean {
  const key = (v: number) => v.toFixed(3);
  const sizes = new Set(cells.map((c) => `${key(c.w)}×${key(c.h)}`));
  const xs = new Set(cells.map((c) => key(c.x)));
  const ys = new Set(cells.map((c) => key(c.y)));
  return sizes.size <= Math.max(4, cells.length / 8) && xs.size >= 2 && ys.size >= 2;
}

/**
 * Replaces each `<g class="mark-rect role-mark …">` of at least `minCells` plain rectangles laid out
 * as a grid by one `<image>` of them, inside the same group (so its clip and position stay). A group holding anything
 * else (corner radius, strokes, unknown colours) stays as it is.
 */
export function rasterizeRectMarks(svg: string, opts: RasterOptions = {}): RasterResult {
  const scale = opts.scale ?? 2,
    minCells = opts.minCells ?? 32;
  const replaced: RasterResult['replaced'] = [];
  // A rect mark group holds only <path …/> children, so its end is the first </g> after it.
  const out = svg.replace(
    /(<g class="(mark-rect role-mark[^"]*)"[^>]*>)((?:<path [^>]*\/>)*)<\/g>/g,
    (whole, open: string, cls: string, body: string) => {
      const tags = body.match(/<path [^>]*\/>/g) ?? [];
      if (tags.length < minCells) return whole;
      const cells: Cell[] = [];
      for (const t of tags) {
        const c = cellOf(t);
        if (!c) return whole;
        cells.push(c);
      }
      if (!gridLike(cells)) return whole;
      const img = paint(cells, scale);
      if (!img) return whole;
      replaced.push({ mark: cls, cells: cells.length, bytes: img.png.length });
      return (
        `${open}<image x="${round(img.x)}" y="${round(img.y)}" width="${round(img.w)}" height="${round(img.h)}" ` +
        `preserveAspectRatio="none" image-rendering="optimizeSpeed" style="image-rendering:pixelated" ` +
        `aria-label="${cells.length} cells drawn as one image" ` +
        `xlink:href="data:image/png;base64,${base64(img.png)}"/></g>`
      );
    },
  );
  return { svg: out, replaced };
}
