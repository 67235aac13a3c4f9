// Keras 3 model.weights.npz (weights_format="npz"; docs/formats.md, 'Keras 3 .npz weights'):
// np.savez of {inner_path: {"0": array, "1": ...}} (root: "__root__"): each member
// `<inner_path>.npy` is a 0-d object array, i.e. a pickle of a dict of ndarrays, read by
// pickle.ts without executing it; the .npy header around it by npy-header.ts.
//
// A member's shapes are inside its pickle, so they cannot be known before it is inflated: its
// declared (central directory) size is checked against what the layer can use first.

import { LoadError, ModelError } from '../model/errors.js';
import type { ExpansionBudget } from './common.js';
import { halfToNumber } from './float16.js';
import { hasNpyMagic, npyHeaderEnd } from './npy-header.js';
import { unpickle, type NdObj } from './pickle.js';
import { numbered, type StoredArray, type VarStore } from './weight-store.js';
import { ZipArchive } from './zip.js';

/** Bytes a member may hold per value the layer can use (float64), plus room for the pickle and .npy header. */
const BYTES_PER_VALUE = 8;
const MEMBER_OVERHEAD = 64 << 10;

/** A VarStore over model.weights.npz bytes; inflated members draw on `budget` (the .keras archive's). */
export function readKerasNpz(bytes: Uint8Array, file: string, budget: ExpansionBudget | null = null): VarStore {
  const zip = ZipArchive.open(bytes, file, 'an .npz archive', undefined, budget);
  // Members are parsed on demand: optimizer/ and metrics/ entries are never touched.
  const keys = new Map(
    zip
      .names()
      .filter((m) => m.endsWith('.npy'))
      .map((m) => [m === '__root__.npy' ? '' : m.slice(0, -4), m]),
  );
  // Child names of every path, computed once (a model may have 10^5 layers).
  const kids = new Map<string, Set<string>>();
  for (const k of keys.keys()) {
    const parts = k === '' ? [] : k.split('/');
    for (let d = 0; d < parts.length; d++) {
      const parent = parts.slice(0, d).join('/');
      let set = kids.get(parent);
      if (!set) kids.set(parent, (set = new Set()));
      set.add(parts[d]);
    }
  }
  const parse = (member: string): StoredArray[] => {
    const key = member.slice(0, -4);
    const npy = zip.read(member)!;
    const bad = (what: string): never => {
      throw new LoadError(
        `${file} member ${member} ${what}; expected a pickled dict of numeric arrays as Keras writes; the file is damaged or not a Keras weights store.`,
        { file },
      );
    };
    if (npy.length < 12 || !hasNpyMagic(npy)) bad('is not an .npy array');
    // The header's dict declares dtype 'O' (an object array): only where it ends matters here.
    const start = npyHeaderEnd(npy, `${file}:${member}`)!;
    if (start > npy.length) bad('has a truncated header');
    const obj = unpickle(npy.subarray(start), bad) as NdObj | null;
    const list = obj && typeof obj === 'object' && obj.t === 'nd' ? (obj.raw as unknown) : null;
    const dict = Array.isArray(list) ? list[0] : null;
    if (!(dict instanceof Map)) return bad('does not hold a dict');
    return numbered([...dict.keys()].map(String), key, file).map((k) => ndToArray(dict.get(k), `${key}/${k}`, bad));
  };
  return {
    children: (path) => [...(kids.get(path) ?? [])],
    vars(path, maxValues) {
      const member = keys.get(path);
      if (member === undefined) return null;
      const size = zip.entries.get(member)!.size;
      if (maxValues !== undefined && size > maxValues * BYTES_PER_VALUE + MEMBER_OVERHEAD) {
        throw new ModelError(
          `${file} member ${member} declares ${size} bytes; expected at most ${maxValues * BYTES_PER_VALUE + MEMBER_OVERHEAD} for the ${maxValues} values its layer's config can use; check that the weights belong to this model (the member was not inflated).`,
          { file },
        );
      }
      return parse(member);
    },
    budget: budget ?? undefined,
  };
}

const DTYPES: Record<string, [number, (dv: DataView, o: number, le: boolean) => number]> = {
  f2: [2, (dv, o, le) => halfToNumber(dv.getUint16(o, le))],
  f4: [4, (dv, o, le) => dv.getFloat32(o, le)],
  f8: [8, (dv, o, le) => dv.getFloat64(o, le)],
  i1: [1, (dv, o) => dv.getInt8(o)],
  u1: [1, (dv, o) => dv.getUint8(o)],
  i2: [2, (dv, o, le) => dv.getInt16(o, le)],
  i4: [4, (dv, o, le) => dv.getInt32(o, le)],
  i8: [8, (dv, o, le) => Number(dv.getBigInt64(o, le))],
  u8: [8, (dv, o, le) => Number(dv.getBigUint64(o, le))],
};

function ndToArray(v: unknown, name: string, bad: (w: string) => never): StoredArray {
  const nd = v as NdObj;
  if (
    nd?.t !== 'nd' ||
    !(nd.raw instanceof Uint8Array) ||
    !Array.isArray(nd.shape) ||
    !nd.shape.every((d) => Number.isInteger(d) && d >= 0)
  )
    return bad(`entry ${name} is not a numeric array`);
  const d = DTYPES[nd.descr.replace(/^[<>|=]/, '')];
  const n = nd.shape.reduce((a, b) => a * b, 1);
  if (!d || nd.raw.length !== n * d[0])
    return bad(`entry ${name} has dtype ${nd.descr} and ${nd.raw.length} bytes for shape [${nd.shape.join(',')}]`);
  const dv = new DataView(nd.raw.buffer, nd.raw.byteOffset, nd.raw.byteLength);
  const le = !nd.descr.startsWith('>');
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = d[1](dv, i * d[0], le);
  return { name, shape: nd.shape, data };
}
