// Property: loaders never crash. Thousands of mutated copies of the data fixtures and of the
// real corpus model files (truncations, bit flips, byte-range overwrites and insertions, .npy
// header edits, JSON edits — shapes, dtypes, deleted keys —, altered zip sizes and offsets,
// same-length edits of the JSON config inside .h5 files) must each end as a loaded data array /
// model, or as a typed RnnscopeError, within 2 s, without killing the process. The first mutated
// models that load are also analysed (the library's analyze() on 2 random samples), which must
// end the same way.
//
// Messages: a typed error from loading names the file (RnnscopeError.file) and its stage, and no
// ordinary damage is reported as a bug (a loader's catch-all, "... please report it.").
//
// Valid but huge (hugeCases): files that are well-formed but declare a lot — 2×10^4 extra layers,
// sequences of 10^6 to 2^53 steps, a weights member or config padded to just under and over the
// expansion budget, a TF.js manifest declaring 10^10 values — run in a child process whose peak
// resident memory must stay under 1 GiB (the files are at most a few MB).
//
// Cases run one at a time in a worker thread or child process (helpers/fuzz-worker.ts) so that a
// hang can be cut off (the worker is terminated and restarted) and an allocation bomb cannot take
// the test process down.
//
// Sizes: each target runs up to its case count within its time budget (together ~50 s on 2 shared
// cores; a prefix of the same seeded sequence, so failures reproduce); RNNSCOPE_FUZZ_RUNS=n runs n
// cases per target regardless of time; RNNSCOPE_FUZZ_SEED picks the seed (default fixed);
// RNNSCOPE_FUZZ_VERBOSE=1 also prints how often each error message (digits and file names folded)
// occurred; RNNSCOPE_FUZZ_TIME_LIMIT_MS changes the 2 s bound per case (a case is cut off at 3x the
// bound).

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runner, type Case, type Result } from './helpers/fuzz-worker.js';
import { zipOf, type Segment } from './helpers/deflate-runs.js';

const ROOT = join(import.meta.dirname, '..');
const CORPUS = join(import.meta.dirname, 'fixtures', 'corpus');
const DATA = join(import.meta.dirname, 'fixtures', 'data');
const RUNS = process.env.RNNSCOPE_FUZZ_RUNS ? Number(process.env.RNNSCOPE_FUZZ_RUNS) : undefined;
const SEED = process.env.RNNSCOPE_FUZZ_SEED ? Number(process.env.RNNSCOPE_FUZZ_SEED) : 20240611;
const VERBOSE = process.env.RNNSCOPE_FUZZ_VERBOSE === '1';
const TIME_LIMIT_MS = process.env.RNNSCOPE_FUZZ_TIME_LIMIT_MS ? Number(process.env.RNNSCOPE_FUZZ_TIME_LIMIT_MS) : 2000;

// ---- mutations ----------------------------------------------------------------------

interface Mut {
  desc: string;
  apply(b: Uint8Array): Uint8Array;
}

const offset = (len: number) =>
  fc.oneof(fc.nat({ max: Math.max(0, Math.min(len - 1, 511)) }), fc.nat({ max: Math.max(0, len - 1) }));

function byteMut(len: number): fc.Arbitrary<Mut> {
  return fc.oneof(
    fc.nat({ max: len }).map((n): Mut => ({ desc: `truncate at ${n}`, apply: (b) => b.slice(0, n) })),
    fc.array(fc.tuple(offset(len), fc.nat({ max: 7 })), { minLength: 1, maxLength: 8 }).map(
      (fl): Mut => ({
        desc: `flip bits ${fl.map(([o, k]) => `${o}.${k}`).join(',')}`,
        apply: (b) => {
          const c = b.slice();
          for (const [o, k] of fl) if (o < c.length) c[o] ^= 1 << k;
          return c;
        },
      }),
    ),
    fc.tuple(offset(len), fc.uint8Array({ minLength: 1, maxLength: 32 })).map(
      ([o, v]): Mut => ({
        desc: `overwrite ${v.length} bytes at ${o}`,
        apply: (b) => {
          const c = b.slice();
          c.set(v.subarray(0, Math.max(0, c.length - o)), o);
          return c;
        },
      }),
    ),
    fc.tuple(offset(len), fc.integer({ min: 1, max: 256 }), fc.constantFrom(0x00, 0xff, 0x7f, 0x80)).map(
      ([o, n, v]): Mut => ({
        desc: `fill ${n} bytes at ${o} with ${v}`,
        apply: (b) => {
          const c = b.slice();
          c.fill(v, o, o + n);
          return c;
        },
      }),
    ),
    fc.tuple(offset(len), fc.uint8Array({ minLength: 1, maxLength: 16 }), fc.nat({ max: 64 })).map(
      ([o, v, del]): Mut => ({
        desc: `splice at ${o}: delete ${del}, insert ${v.length}`,
        apply: (b) => {
          const c = new Uint8Array(b.length - Math.min(del, b.length - o) + v.length);
          c.set(b.subarray(0, o));
          c.set(v, o);
          c.set(b.subarray(Math.min(b.length, o + del)), o + v.length);
          return c;
        },
      }),
    ),
  );
}

const latin1 = (b: Uint8Array) => {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
};
const fromLatin1 = (s: string) => Uint8Array.from(s, (ch) => ch.charCodeAt(0) & 255);

function npyHeaderMut(): fc.Arbitrary<Mut> {
  const dim = fc.oneof(
    fc.nat({ max: 50 }),
    fc.constantFrom('-1', '0', '2**31', '99999999999999999999', '1.5', '3L', 'None', "'a'"),
  );
  const shape = fc.oneof(
    fc.array(dim, { maxLength: 5 }).map((ds) => `(${ds.join(', ')}${ds.length === 1 ? ',' : ''})`),
    fc.constantFrom('()', '(3)', '[2, 3]', '(', '((1,),)'),
  );
  const descr = fc.constantFrom(
    "'<f4'",
    "'>f8'",
    "'|b1'",
    "'<i8'",
    "'>u8'",
    "'<f2'",
    "'|O'",
    "'<U3'",
    "'<c8'",
    "'|V8'",
    "'<f16'",
    "'<M8[ns]'",
    "[('a', '<f4')]",
    "'f4'",
    "'float32'",
    "'<f3'",
    "'<'",
    '3',
    "'",
    "('<f4', (2,))",
  );
  const edit = fc.oneof(
    shape.map((s) => ['shape', s] as const),
    descr.map((d) => ['descr', d] as const),
    fc.constantFrom('True', 'False', '1', 'None').map((f) => ['fortran', f] as const),
    fc.constantFrom('descr', 'fortran_order', 'shape').map((k) => ['delete', k] as const),
  );
  return fc.tuple(fc.array(edit, { minLength: 1, maxLength: 3 }), fc.boolean()).map(
    ([edits, fixLen]): Mut => ({
      desc: `npy header ${edits.map(([k, v]) => `${k}=${v}`).join('; ')}${fixLen ? '' : ' (length field kept)'}`,
      apply: (b) => {
        const v2 = b[6] !== 1;
        const start = v2 ? 12 : 10;
        const hl = v2 ? b[8] | (b[9] << 8) | (b[10] << 16) : b[8] | (b[9] << 8);
        let h = latin1(b.subarray(start, start + hl));
        for (const [k, v] of edits) {
          if (k === 'shape') h = h.replace(/'shape': \([^)]*\)/, `'shape': ${v}`);
          else if (k === 'descr') h = h.replace(/'descr': ('[^']*'|\[.*?\])/, `'descr': ${v}`);
          else if (k === 'fortran') h = h.replace(/'fortran_order': \w+/, `'fortran_order': ${v}`);
          else h = h.replace(new RegExp(`'${v}': ('[^']*'|\\([^)]*\\)|\\w+|\\[.*?\\]),? ?`), '');
        }
        const hb = fromLatin1(h);
        const out = new Uint8Array(start + hb.length + b.length - start - hl);
        out.set(b.subarray(0, start));
        if (fixLen) {
          out[8] = hb.length & 255;
          out[9] = (hb.length >> 8) & 255;
          if (v2) {
            out[10] = hb.length >> 16;
            out[11] = 0;
          }
        }
        out.set(hb, start);
        out.set(b.subarray(start + hl), start + hb.length);
        return out;
      },
    }),
  );
}

const DTYPES = [
  'float32',
  'float16',
  'float64',
  'int32',
  'uint8',
  'int8',
  'bool',
  'string',
  'complex64',
  'bfloat16',
  'qint8',
  '',
  'float',
];

/** Structural JSON edits: delete a key/element, replace a value (random JSON, a shape-like list, a dtype), make a list
 * ragged. */
function jsonMut(): fc.Arbitrary<Mut> {
  const op = fc.oneof(
    fc.constant({ op: 'delete' as const }),
    fc.jsonValue({ maxDepth: 2 }).map((v) => ({ op: 'set' as const, v })),
    fc
      .array(fc.oneof(fc.integer({ min: -2, max: 300 }), fc.constant(null), fc.constant(2 ** 40)), { maxLength: 4 })
      .map((v) => ({ op: 'set' as const, v: v as unknown })),
    fc.constantFrom(...DTYPES).map((v) => ({ op: 'dtype' as const, v })),
    fc.constant({ op: 'ragged' as const }),
  );
  return fc.array(fc.tuple(fc.nat(), op), { minLength: 1, maxLength: 3 }).map(
    (edits): Mut => ({
      desc: `json ${edits.map(([i, o]) => `${o.op}@${i}${'v' in o ? `=${JSON.stringify(o.v).slice(0, 40)}` : ''}`).join('; ')}`,
      apply: (b) => {
        let root: unknown;
        try {
          root = JSON.parse(new TextDecoder().decode(b));
        } catch {
          return b;
        }
        for (const [i, o] of edits) {
          const slots: [Record<string, unknown> | unknown[], string | number][] = [];
          const walk = (n: unknown) => {
            if (slots.length > 20000 || n === null || typeof n !== 'object') return;
            for (const k of Object.keys(n)) {
              slots.push([n as Record<string, unknown>, Array.isArray(n) ? Number(k) : k]);
              walk((n as Record<string, unknown>)[k]);
            }
          };
          walk(root);
          const dtypeSlots = slots.filter(([, k]) => k === 'dtype');
          const pool = o.op === 'dtype' && dtypeSlots.length ? dtypeSlots : slots;
          if (pool.length === 0) continue;
          const [parent, key] = pool[i % pool.length];
          const p = parent as Record<string | number, unknown>;
          if (o.op === 'delete') {
            if (Array.isArray(parent)) parent.splice(key as number, 1);
            else delete p[key];
          } else if (o.op === 'set' || o.op === 'dtype') p[key] = o.v;
          else if (Array.isArray(p[key])) (p[key] as unknown[]).push((p[key] as unknown[])[0] ?? 0);
          else if (Array.isArray(parent) && parent.length > 1) parent.pop();
        }
        return new TextEncoder().encode(JSON.stringify(root));
      },
    }),
  );
}

function csvMut(): fc.Arbitrary<Mut> {
  const token = fc.constantFrom(
    ',',
    ';',
    '\t',
    '\n',
    '\r\n',
    '#',
    ' ',
    '"',
    '-',
    '.',
    'e',
    'nan',
    '-inf',
    '1e999',
    'abc',
    ',,',
    '# shape: 2,3\n',
    '# shape: 0\n',
    '\u00a0',
    '0x1F',
    '1,5',
  );
  return fc
    .array(fc.tuple(fc.nat(), fc.oneof(token, fc.constantFrom('DELETE_LINE', 'DUP_LINE', 'DEL_CHAR'))), {
      minLength: 1,
      maxLength: 4,
    })
    .map(
      (edits): Mut => ({
        desc: `csv ${edits.map(([i, t]) => `${JSON.stringify(t)}@${i}`).join('; ')}`,
        apply: (b) => {
          let s = new TextDecoder().decode(b);
          for (const [i, t] of edits) {
            const lines = s.split('\n');
            const at = s.length ? i % s.length : 0;
            if (t === 'DELETE_LINE') {
              lines.splice(i % lines.length, 1);
              s = lines.join('\n');
            } else if (t === 'DUP_LINE') {
              const k = i % lines.length;
              lines.splice(k, 0, lines[k]);
              s = lines.join('\n');
            } else if (t === 'DEL_CHAR') s = s.slice(0, at) + s.slice(at + 1);
            else s = s.slice(0, at) + t + s.slice(at);
          }
          return new TextEncoder().encode(s);
        },
      }),
    );
}

/** Alters a size, offset, count or method field of a zip record (local header, central directory, end record). */
function zipMut(): fc.Arbitrary<Mut> {
  const value = fc.oneof(
    fc.constantFrom(0, 1, 0xffff, 0xffffffff, 0x7fffffff, 0x80000000),
    fc.nat(),
    fc.integer({ min: -64, max: 64 }),
  );
  return fc.tuple(fc.nat(), fc.nat(), value).map(
    ([rec, fld, v]): Mut => ({
      desc: `zip field #${fld} of record #${rec} ${v < 0 || v > 64 ? `= ${v >>> 0}` : `+= ${v}`}`,
      apply: (b) => {
        const fields: [number, number][] = []; // [offset, width]
        for (let i = 0; i + 4 <= b.length; i++) {
          if (b[i] !== 0x50 || b[i + 1] !== 0x4b) continue;
          const sig = b[i + 2] | (b[i + 3] << 8);
          if (sig === 0x0403) fields.push([i + 8, 2], [i + 14, 4], [i + 18, 4], [i + 22, 4], [i + 26, 2], [i + 28, 2]);
          else if (sig === 0x0201)
            fields.push([i + 10, 2], [i + 16, 4], [i + 20, 4], [i + 24, 4], [i + 28, 2], [i + 30, 2], [i + 42, 4]);
          else if (sig === 0x0605) fields.push([i + 8, 2], [i + 10, 2], [i + 12, 4], [i + 16, 4], [i + 20, 2]);
        }
        if (fields.length === 0) return b;
        const [o, w] = fields[(rec * 7 + fld) % fields.length];
        const c = b.slice();
        const dv = new DataView(c.buffer);
        if (o + w > c.length) return c;
        const old = w === 2 ? dv.getUint16(o, true) : dv.getUint32(o, true);
        const nv = v < 0 || v > 64 ? v >>> 0 : old + v;
        if (w === 2) dv.setUint16(o, nv & 0xffff, true);
        else dv.setUint32(o, nv >>> 0, true);
        return c;
      },
    }),
  );
}

/** Same-length edits inside the JSON stored in a binary file (model_config in .h5): digits, letters, true/null. */
function inplaceJsonMut(): fc.Arbitrary<Mut> {
  return fc
    .array(fc.tuple(fc.nat(), fc.nat({ max: 9 }), fc.constantFrom('digit', 'letter', 'word')), {
      minLength: 1,
      maxLength: 4,
    })
    .map(
      (edits): Mut => ({
        desc: `in-place json ${edits.map(([i, d, k]) => `${k}@${i}:${d}`).join('; ')}`,
        apply: (b) => {
          const c = b.slice();
          const text = latin1(c);
          const start = text.indexOf('{"class_name"');
          if (start < 0) return c;
          const end = Math.min(text.length, start + 200000);
          for (const [i, d, kind] of edits) {
            const at = start + (i % (end - start));
            if (kind === 'word') {
              const m = /true|null|relu|tanh|LSTM|GRU_|Dens/.exec(text.slice(at, at + 4000));
              if (m)
                c.set(
                  fromLatin1(['null', 'true', 'tanh', 'relu', 'GRU_', 'LSTM', 'Flat'][(d + m.index) % 7]),
                  at + m.index,
                );
              continue;
            }
            for (let p = at; p < end; p++) {
              const ch = c[p];
              if (kind === 'digit' && ch >= 48 && ch <= 57) {
                c[p] = 48 + d;
                break;
              }
              if (kind === 'letter' && ch >= 97 && ch <= 122) {
                c[p] = 97 + ((ch - 97 + d + 1) % 26);
                break;
              }
            }
          }
          return c;
        },
      }),
    );
}

// ---- targets -------------------------------------------------------------------------

const read = (p: string) => new Uint8Array(readFileSync(p));

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) =>
    statSync(join(dir, f)).isDirectory() ? listFiles(join(dir, f)) : [join(dir, f)],
  );
}

function mutFor(name: string, len: number): fc.Arbitrary<Mut> {
  const kinds: fc.Arbitrary<Mut>[] = [byteMut(len)];
  if (/\.npy$/.test(name)) kinds.push(npyHeaderMut(), npyHeaderMut());
  if (/\.(json)$/.test(name)) kinds.push(jsonMut(), jsonMut());
  if (/\.(csv|tsv|txt)$/.test(name)) kinds.push(csvMut(), csvMut());
  if (/\.(npz|keras)$/.test(name)) kinds.push(zipMut(), zipMut());
  if (/\.(h5|hdf5)$/.test(name)) kinds.push(inplaceJsonMut());
  return fc.oneof(...kinds);
}

function* lazy<T>(items: T[], make: (x: T) => Case & { desc: string }): Generator<Case & { desc: string }> {
  for (const x of items) yield make(x);
}

/** Cases each target runs whatever the time budget says (so a loaded machine still fuzzes a little). */
const MIN_RUNS = 12;

interface Target {
  label: string;
  runs: number;
  /** Stop after this long (ms) even if fewer than `runs` cases ran (unless RNNSCOPE_FUZZ_RUNS is set). */
  budgetMs: number;
  /** Materialised one at a time: mutating a file copy costs more than running a case. */
  cases(seed: number, runs: number): Iterable<Case & { desc: string }>;
  baseline?: Case;
  /** Analyse up to this many of the mutated models that load. */
  analyze?: number;
  /** Per-case time bound, if not TIME_LIMIT_MS. */
  timeLimitMs?: number;
  /** Print one line per case (outcome, time, peak memory). */
  detail?: boolean;
}

function dataTarget(): Target {
  const files = [
    ...listFiles(DATA).filter((f) => !f.endsWith('expected.json')),
    join(CORPUS, 'w_chen_ecg_bilstm_autoencoder/ecg_discord_test.csv'),
    join(CORPUS, 'w_chen_ecg_bilstm_autoencoder/bidirectional-lstm-auto-encoder-config.npy'),
    join(CORPUS, 'w_dl4j_stacked_lstm_theano_with_predictions/predictions.npy'),
    join(CORPUS, 'w_dl4j_stacked_lstm_theano_with_predictions/data/sequences/7.csv'),
    join(CORPUS, 'tfjs_reiinakano_textgen_lstm_legacy_format/char_indices.json'),
  ].map((p) => ({ name: relative(ROOT, p).split('/').pop()!, bytes: read(p) }));
  return {
    label: `data files (${files.length})`,
    runs: 8000,
    budgetMs: 6000,
    cases: (seed, runs) =>
      lazy(
        fc.sample(
          fc
            .nat({ max: files.length - 1 })
            .chain((i) => mutFor(files[i].name, files[i].bytes.length).map((m) => [i, m] as const)),
          { seed, numRuns: runs },
        ),
        ([i, m]) => ({
          kind: 'data',
          name: files[i].name,
          bytes: m.apply(files[i].bytes),
          desc: `${files[i].name}: ${m.desc}`,
        }),
      ),
  };
}

/** A model: the main file is mutated (its kind decides how); siblings are passed unchanged, or one of them mutated. */
function modelTarget(
  dir: string,
  main: string,
  siblings: string[],
  runs: number,
  budgetMs: number,
  opts?: { weights?: string },
  mutateSiblings = false,
): Target {
  const files = new Map([main, ...siblings].map((f) => [f, read(join(CORPUS, dir, f))]));
  const mutable = mutateSiblings ? [main, ...siblings] : [main];
  const arb = fc.nat({ max: mutable.length - 1 }).chain((k) => {
    const name = mutable[k];
    const bytes = files.get(name)!;
    const kinds = [mutFor(name, bytes.length)];
    // .keras: also edit config.json and rebuild the archive (stored), to reach the config reader.
    if (name.endsWith('.keras'))
      kinds.push(
        jsonMut().map(
          (m): Mut => ({
            desc: `config.json ${m.desc}`,
            apply: (b) => {
              const z: Record<string, Uint8Array> = unzipSync(b);
              z['config.json'] = m.apply(z['config.json']);
              return zipSync(z, { level: 0 });
            },
          }),
        ),
      );
    return fc.oneof(...kinds).map((m) => [name, m] as const);
  });
  return {
    label: `${dir}/${main}`,
    runs,
    budgetMs,
    analyze: 3,
    baseline: {
      kind: 'model',
      name: main,
      bytes: files.get(main)!,
      files: [...files].filter(([f]) => f !== main),
      opts,
    },
    cases: (seed, n) =>
      lazy(fc.sample(arb, { seed, numRuns: n }), ([name, m]) => ({
        kind: 'model',
        name: main,
        bytes: name === main ? m.apply(files.get(main)!) : files.get(main)!,
        files: [...files]
          .filter(([f]) => f !== main)
          .map(([f, b]) => [f, f === name ? m.apply(b) : b] as [string, Uint8Array]),
        opts,
        desc: `${name}: ${m.desc}`,
      })),
  };
}

// ---- valid but huge ---------------------------------------------------------------------

const enc = (x: string) => new TextEncoder().encode(x);

/**
 * Well-formed files that declare a lot, made from test/fixtures/io/k3_deflated.keras (a Keras 3
 * Sequential: Input (5, 3), GRU, GRU, Dense; 3 KB) and the TF.js corpus model. Deflated members
 * are written directly (helpers/deflate-runs.ts) at ~160×: the archive's expansion budget is 32×
 * its size + 16 MiB and the zip's own limit 100× + 16 MiB, so a weights member of 16 MiB fits
 * both, 30 MiB only the zip's, 64 MiB neither.
 */
function hugeCases(): (Case & { desc: string })[] {
  const base = unzipSync(read(join(ROOT, 'test', 'fixtures', 'io', 'k3_deflated.keras')));
  type Cfg = { config: { layers: Record<string, unknown>[] } } & Record<string, unknown>;
  const config = (edit: (cfg: Cfg) => void): string => {
    const cfg = JSON.parse(new TextDecoder().decode(base['config.json'])) as Cfg;
    edit(cfg);
    return JSON.stringify(cfg);
  };
  const keras = (
    cfg: Uint8Array | Segment[],
    weights: Uint8Array | Segment[] = base['model.weights.h5']!,
    extra: [string, Uint8Array][] = [],
  ) =>
    zipOf([['metadata.json', base['metadata.json']!], ['config.json', cfg], ['model.weights.h5', weights], ...extra]);
  const out: (Case & { desc: string })[] = [];
  const add = (desc: string, bytes: Uint8Array, analyze = true) =>
    out.push({
      kind: 'model',
      name: 'huge.keras',
      bytes,
      desc: `huge: ${desc} (${(bytes.length / 1e6).toFixed(2)} MB)`,
      analyze,
    });
  for (const n of [2_000, 20_000]) {
    add(
      `${n} extra Activation layers`,
      keras(
        enc(
          config((c) => {
            const extra = Array.from({ length: n }, (_, i) => ({
              module: 'keras.layers',
              class_name: 'Activation',
              config: { name: `extra_${i}`, activation: 'linear', trainable: true },
              registered_name: null,
            }));
            c.config.layers.splice(c.config.layers.length - 1, 0, ...extra);
          }),
        ),
      ),
    );
  }
  for (const steps of [1_000, 1e6, 2 ** 31, 1e15, 2 ** 53 + 2]) {
    add(
      `declared ${steps} steps`,
      keras(
        enc(
          config((c) => {
            ((c.config.layers[0]!.config as Record<string, unknown>).batch_shape as unknown[])[1] = steps;
          }),
        ),
      ),
    );
  }
  // model.weights.h5 followed by zeros (HDF5 ignores bytes past its end-of-file address), deflated.
  for (const mib of [16, 30, 64])
    add(
      `weights member inflating to ${mib} MiB`,
      keras(base['config.json']!, [
        base['model.weights.h5']!,
        { byte: 0, count: (mib << 20) - base['model.weights.h5']!.length },
      ]),
    );
  // A config with a long string: 12 MiB loads; 66 MiB (with a 1 MB member so the zip's ratio allows it) passes the
  // zip's limit but not the 64 MiB config limit.
  for (const mib of [12, 66]) {
    const [head, tail] = config((c) => {
      c.description = '@';
    }).split('"@"');
    const text = [enc(`${head}"`), { byte: 0x78, count: mib << 20 }, enc(`"${tail}`)];
    add(
      `config.json with a ${mib} MiB string`,
      keras(
        text,
        undefined,
        mib > 64 ? [['assets/noise.bin', new Uint8Array(1_000_000).map((_, i) => (i * 2654435761) >>> 24)]] : [],
      ),
      false,
    );
  }
  const tfjs = JSON.parse(
    new TextDecoder().decode(read(join(CORPUS, 'tfjs_reiinakano_textgen_lstm_legacy_format', 'model.json'))),
  );
  tfjs.weightsManifest[0].weights[0].shape = [100_000, 100_000];
  const shards = ['group1-shard1of1', 'group2-shard1of1'].map(
    (f) => [f, read(join(CORPUS, 'tfjs_reiinakano_textgen_lstm_legacy_format', f))] as [string, Uint8Array],
  );
  out.push({
    kind: 'model',
    name: 'model.json',
    bytes: enc(JSON.stringify(tfjs)),
    files: shards,
    desc: 'huge: TF.js manifest declaring a [100000,100000] weight',
  });
  return out;
}

// ---- the property ------------------------------------------------------------------------

const runner = new Runner(TIME_LIMIT_MS);
const summary: string[] = [];
/** 'ok', or an RnnscopeError of any class. */
const typedOrOk = (r: Result): boolean => r.outcome === 'ok' || r.typed === true;

/** Typed errors from loading must name a file of the case; no message may call ordinary damage a bug. */
function messageProblem(c: Case, r: Result): string | null {
  if (r.outcome === 'ok' || !r.typed) return null;
  if (/\bbug\b|please report/.test(r.message ?? '')) return 'calls it a bug';
  if (r.phase === 'analyze') return null;
  const names = [c.name, ...(c.files ?? []).map(([f]) => f)].map((f) => f.split('/').pop()!);
  if (!r.file || !names.some((n) => r.file!.includes(n)))
    return `names no file of the case (file: ${r.file ?? 'none'})`;
  if (!r.stage) return 'has no stage';
  return null;
}

interface FuzzResult {
  counts: Record<string, number>;
  failures: string[];
  wrapped: Map<string, number>;
  quality: string[];
  slowest: number;
  peakMiB: number;
  analyzed: Record<string, number>;
}

async function fuzz(t: Target, r0: Runner = runner): Promise<FuzzResult> {
  const runs = RUNS ?? t.runs;
  const counts: Record<string, number> = {};
  const analyzed: Record<string, number> = {};
  const failures: string[] = [];
  const quality: string[] = [];
  const wrapped = new Map<string, number>();
  let slowest = 0,
    peakMiB = 0,
    ran = 0,
    analyses = 0;
  const messages = new Map<string, number>();
  const t0 = performance.now();
  for (const c of t.cases(SEED, runs)) {
    if (RUNS === undefined && ran >= MIN_RUNS && performance.now() - t0 > t.budgetMs) break;
    if (c.kind === 'model' && c.analyze === undefined) c.analyze = analyses < (t.analyze ?? 0);
    const r = await r0.run(c);
    ran++;
    counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
    if (r.analyzed) {
      analyzed[r.analyzed] = (analyzed[r.analyzed] ?? 0) + 1;
      if (r.analyzed !== 'skipped') analyses++;
    }
    slowest = Math.max(slowest, r.ms);
    peakMiB = Math.max(peakMiB, r.maxRssMiB ?? 0);
    if (VERBOSE) {
      const key = `${r.outcome}: ${(r.message ?? '')
        .replace(/\S+\.(npy|npz|csv|tsv|txt|json|h5|keras)\b/g, 'F')
        .replace(/\d+/g, '#')
        .slice(0, 110)}`;
      messages.set(key, (messages.get(key) ?? 0) + 1);
    }
    if (r.wrapped) {
      const key = (r.message ?? '').replace(/^.*? failed \(/, '').slice(0, 120);
      wrapped.set(key, (wrapped.get(key) ?? 0) + 1);
    }
    if (t.detail)
      summary.push(
        `  ${c.desc}: ${r.outcome}${r.analyzed ? ` (analysis: ${r.analyzed})` : ''} in ${r.ms.toFixed(0)} ` +
          `ms, peak ${(r.maxRssMiB ?? 0).toFixed(0)} ` +
          `MiB${r.outcome === 'ok' ? '' : `: ${(r.message ?? '').slice(0, 160)}`}`,
      );
    const q = messageProblem(c, r);
    if (q) quality.push(`${c.desc} → ${r.outcome} ${q}: ${(r.message ?? '').slice(0, 300)}`);
    // The time bound is the loaders'; an analysis only has to end (the Runner cuts it off at 10x).
    const slow = r.ms > (t.timeLimitMs ?? TIME_LIMIT_MS) && !(r.analyzed !== undefined && r.analyzed !== 'skipped');
    if (!typedOrOk(r) || slow)
      failures.push(
        `${c.desc} → ${r.outcome}${r.phase === 'analyze' ? ' (analysis)' : ''} in ${r.ms.toFixed(0)} ms: ${r.message ?? ''}`,
      );
  }
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  summary.push(
    `${t.label}: ${ran} of ${runs} mutations in ${secs} s; ${Object.entries(counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; slowest ${slowest.toFixed(0)} ms` +
      (Object.keys(analyzed).length
        ? `; analysed: ${Object.entries(analyzed)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`
        : '') +
      (peakMiB ? `; peak RSS ${peakMiB.toFixed(0)} MiB` : '') +
      (wrapped.size ? `; catch-all wraps: ${[...wrapped].map(([k, v]) => `${v}× ${k}`).join(' | ')}` : ''),
  );
  if (VERBOSE) summary.push(...[...messages].sort((a, b) => b[1] - a[1]).map(([k, v]) => `    ${v}× ${k}`));
  return { counts, failures, wrapped, quality, slowest, peakMiB, analyzed };
}

beforeAll(async () => {
  await runner.start();
}, 60_000);
afterAll(async () => {
  await runner.stop();
  console.log(
    `io-fuzz (seed ${SEED}, worker restarts ${runner.restarts}${runner.ioError ? `, model loaders unavailable: ${runner.ioError}` : ''}):\n  ${summary.join('\n  ')}`,
  );
});

describe('mutated files never crash a loader', () => {
  it('data loaders (.npy, .npz, CSV, JSON) and fitDataToModel', async () => {
    const r = await fuzz(dataTarget());
    expect(r.failures.slice(0, 10)).toEqual([]);
    expect(r.wrapped.size, [...r.wrapped.keys()].join('\n')).toBe(0);
    expect(r.quality.slice(0, 10)).toEqual([]);
  }, 120_000);

  const models: Target[] = [
    modelTarget('h5_dl4j_masking_lstm', 'masking_zero_lstm.h5', [], 500, 3000),
    modelTarget('h5_dl4j_simplernn_k2', 'simple_rnn_tf_keras_2_model.h5', [], 500, 3000),
    modelTarget('k1_dl4j_simple_lstm_theano', 'simple_lstm_th_keras_1_model.h5', [], 500, 3000),
    modelTarget(
      'tfjs_reiinakano_textgen_lstm_legacy_format',
      'model.json',
      ['group1-shard1of1', 'group2-shard1of1'],
      800,
      3500,
      undefined,
      true,
    ),
    modelTarget(
      'w_chen_ecg_bilstm_autoencoder',
      'bidirectional-lstm-auto-encoder-architecture.json',
      ['bidirectional-lstm-auto-encoder-weights.h5'],
      500,
      3500,
      { weights: 'bidirectional-lstm-auto-encoder-weights.h5' },
      true,
    ),
    modelTarget(
      'w_dl4j_stacked_lstm_theano_with_predictions',
      'lstm_th_keras_2_config.json',
      ['lstm_th_keras_2_weights.h5'],
      200,
      3000,
      { weights: 'lstm_th_keras_2_weights.h5' },
      true,
    ),
    modelTarget('k3_asand_multiinput_embedding_lstm', 'rnn_model.keras', [], 250, 3500),
    modelTarget('k3_hatice_har_lstm', 'lstm_model.keras', [], 150, 3500),
  ];
  for (const t of models) {
    it(`model loader: ${t.label}`, async (ctx) => {
      if (runner.ioError) ctx.skip();
      // The unmutated files load: otherwise every mutation would only exercise the first failure.
      const base = await runner.run(t.baseline!);
      expect(`${base.outcome} ${base.message ?? ''}`.trim(), t.label).toMatch(/^ok/);
      const r = await fuzz(t);
      expect(r.failures.slice(0, 10)).toEqual([]);
      expect(r.quality.slice(0, 10)).toEqual([]);
      expect(r.analyzed.ok ?? 0, 'some mutated models were analysed').toBeGreaterThan(0);
    }, 120_000);
  }
});

describe('valid but huge files (child process, peak memory)', () => {
  const big = new Runner(TIME_LIMIT_MS * 5, { process: true });
  beforeAll(async () => {
    await big.start();
  }, 60_000);
  afterAll(async () => {
    await big.stop();
  });

  it('load (and, when small enough, analyse) or are refused with a typed error, within seconds, under 1 GiB', async (ctx) => {
    if (big.ioError) ctx.skip();
    const t0 = performance.now();
    const cases = hugeCases();
    summary.push(`valid but huge: ${cases.length} files made in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const r = await fuzz(
      {
        label: 'valid but huge',
        runs: cases.length,
        budgetMs: Infinity,
        timeLimitMs: TIME_LIMIT_MS * 5,
        cases: () => cases,
        detail: true,
      },
      big,
    );
    expect(r.failures).toEqual([]);
    expect(r.quality).toEqual([]);
    expect(r.peakMiB).toBeGreaterThan(0);
    expect(r.peakMiB).toBeLessThan(1024);
    expect(r.counts.ok).toBeGreaterThanOrEqual(4);
    expect((r.counts.LoadError ?? 0) + (r.counts.ModelError ?? 0)).toBeGreaterThanOrEqual(5);
  }, 180_000);
});
