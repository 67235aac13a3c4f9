// Large values in the page's JSON as deflated JSON text in base64 ({z: "…"}): numbers written as text
// compress about fourfold, which keeps the page light (the demo's heatmaps, densities and per-sample
// drill-down would otherwise add megabytes). The page script (PACKED_JS) inflates them with the browser's
// own DecompressionStream before anything is drawn, so the page needs no inflate code of its own.

import { strFromU8, strToU8, unzlibSync, zlibSync } from 'fflate';

export interface Packed {
  /** zlib (RFC 1950) stream of the value's JSON text, in base64. */
  z: string;
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function pack(value: unknown): Packed {
  return { z: toBase64(zlibSync(strToU8(JSON.stringify(value)), { level: 9 })) };
}

export function isPacked(x: unknown): x is Packed {
  return typeof x === 'object' && x !== null && Object.keys(x).length === 1 && typeof (x as Packed).z === 'string';
}

/** The value again (Node and tests; the page uses PACKED_JS). */
export function unpack<T = unknown>(p: Packed): T {
  return JSON.parse(strFromU8(unzlibSync(Uint8Array.from(atob(p.z), (c) => c.charCodeAt(0)))));
}

/** A value packed when its JSON text is longer than `min` characters and packing makes it shorter. */
export function packIfLarge<T>(value: T, min = 4096): T | Packed {
  const text = JSON.stringify(value);
  if (text.length <= min) return value;
  const p = pack(value);
  return p.z.length + 8 < text.length ? p : value;
}

/** unpackAll(root) as ES2017 text for the page script: resolves when every {z} in the tree is replaced by its value
 * (in place; a packed root comes back as the resolved value). */
export const PACKED_JS = String.raw`
function unpackAll(root) {
  var jobs = [];
  function inflate(p) {
    var bin = atob(p.z), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
    return new Response(stream).text().then(JSON.parse);
  }
  function isPacked(o) { return o && typeof o === 'object' && typeof o.z === 'string' && Object.keys(o).length === 1; }
  function walk(o) {
    if (!o || typeof o !== 'object') return;
    Object.keys(o).forEach(function (k) {
      var v = o[k];
      if (isPacked(v)) jobs.push(inflate(v).then(function (val) { o[k] = val; }));
      else walk(v);
    });
  }
  if (isPacked(root)) return inflate(root);
  walk(root);
  return Promise.all(jobs).then(function () { return root; });
}
`;
