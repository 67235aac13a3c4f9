// Data loaders against numpy: every fixture in test/fixtures/data (written by
// scripts/make_data_fixtures.py) is read by openData and compared value by value
// with what numpy.load / numpy.loadtxt / Python's json read from the same file
// (expected.json). Values must be bit-identical: every stored dtype is exact in float64.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openData, type NamedArray } from '../src/io/data.js';
import { DataError, LoadError, RnnscopeError } from '../src/model/errors.js';
import type { Warning } from '../src/model/types.js';

const DATA = join(import.meta.dirname, 'fixtures', 'data');
const CORPUS = join(import.meta.dirname, 'fixtures', 'corpus');

interface Expected {
  name: string;
  shape: number[];
  dtype: string;
  values: (number | string)[];
}
const oracle = JSON.parse(readFileSync(join(DATA, 'expected.json'), 'utf8')) as {
  arrays: Record<string, { arrays: Expected[] }>;
  refused: Record<string, string>;
};

function load(rel: string, warnings?: Warning[]): NamedArray[] {
  const [dir, file] = rel.startsWith('corpus:') ? [CORPUS, rel.slice(7)] : [DATA, rel];
  return openData(new Uint8Array(readFileSync(join(dir, file))), file.split('/').pop()!, { warnings });
}

function decode(v: number | string): number {
  return v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : (v as number);
}

function refusal(rel: string): RnnscopeError {
  try {
    load(rel);
  } catch (e) {
    expect(e).toBeInstanceOf(RnnscopeError);
    return e as RnnscopeError;
  }
  throw new Error(`${rel} loaded but should have been refused`);
}

describe('every fixture matches numpy bit for bit', () => {
  const entries = Object.entries(oracle.arrays);
  it('has the fixtures', () => expect(entries.length).toBeGreaterThan(45));
  it.each(entries)('%s', (rel, want) => {
    const got = load(rel);
    expect(got.map((a) => a.name)).toEqual(want.arrays.map((a) => a.name));
    for (let i = 0; i < got.length; i++) {
      const [g, w] = [got[i], want.arrays[i]];
      expect(g.shape).toEqual(w.shape);
      if (/\.np[yz]$/.test(rel)) expect(g.dtype).toBe(w.dtype);
      expect(g.data.length).toBe(w.values.length);
      const mismatches: string[] = [];
      for (let k = 0; k < g.data.length; k++) {
        // Object.is: NaN equals NaN, and -0 differs from 0 (float16 -0.0 is in a fixture).
        if (!Object.is(g.data[k], decode(w.values[k]))) mismatches.push(`[${k}] ${g.data[k]} vs ${w.values[k]}`);
      }
      expect(mismatches.slice(0, 5)).toEqual([]);
    }
  });
});

describe('refused files give one-sentence typed errors', () => {
  it('lists every refused fixture', () => {
    for (const [rel, cls] of Object.entries(oracle.refused)) {
      const e = refusal(rel);
      expect(e.name, rel).toBe(cls);
      expect(e.message.split('; ').length, e.message).toBeGreaterThanOrEqual(2);
      expect(e.message.endsWith('.'), e.message).toBe(true);
    }
  });

  it('pickled objects', () => {
    expect(refusal('npy/object.npy').message).toBe(
      "object.npy holds Python objects (dtype 'O'); they are pickles that can run code, so rnnscope refuses them; save a numeric array instead.",
    );
    // The real pickled sidecar in the corpus (a dict saved with numpy.save).
    expect(refusal('corpus:w_chen_ecg_bilstm_autoencoder/bidirectional-lstm-auto-encoder-config.npy').message).toBe(
      "bidirectional-lstm-auto-encoder-config.npy holds Python objects (dtype 'O'); they are pickles that can run code, so rnnscope refuses them; save a numeric array instead.",
    );
  });

  it('int64 beyond 2^53', () => {
    expect(refusal('npy/i8_beyond_2p53.npy').message).toBe(
      'i8_beyond_2p53.npy holds int64 value 9007199254740993 at index [1, 0], beyond 2^53 where float64 loses integers; rnnscope computes in float64, so reduce or re-encode the values.',
    );
    expect(refusal('npy/u8_max.npy').message).toContain('holds uint64 value 18446744073709551615 at index [0]');
  });

  it('non-numeric dtypes', () => {
    expect(refusal('npy/structured.npy').message).toBe(
      "structured.npy holds a structured array with fields (a, b); rnnscope reads plain numeric arrays, so save each field as its own array (numpy.savez('x.npz', a=x['a'], b=x['b'])).",
    );
    expect(refusal('npy/unicode.npy').message).toBe(
      "unicode.npy holds unicode strings (dtype '<U2'); rnnscope reads bool, integer and float arrays, so convert them to numbers first (x.astype('float32')).",
    );
    expect(refusal('npy/complex.npy').message).toContain("holds complex numbers (dtype '<c16')");
    expect(refusal('npy/longdouble.npy').message).toContain("holds float128 (long double, '<f16')");
  });

  it('text files name the line', () => {
    expect(refusal('csv/ragged.csv').message).toBe(
      "ragged.csv line 3 has 2 values but line 1 has 3; every row must hold one sample's values, so fix or remove that row.",
    );
    expect(refusal('csv/not_a_number.csv').message).toBe(
      'not_a_number.csv line 3, column 2: "abc" is not a number; every row after the header must hold numbers only, so fix or remove that row.',
    );
    expect(refusal('csv/bad_shape.csv').message).toBe(
      "bad_shape.csv declares shape (4, 2) = 8 values but holds 2 rows × 3 values = 6; fix the '# shape:' line.",
    );
    expect(refusal('json/not_rectangular.json').message).toBe(
      'not_rectangular.json is not rectangular: [1] has 3 elements but [0] has 2; expected rectangular nested lists of numbers (or lists of integer token ids), so fix that entry.',
    );
    expect(refusal('json/null_value.json').message).toBe(
      'null_value.json:x has null at [1][0] where a number is expected; expected rectangular nested lists of numbers (or lists of integer token ids), so fix that entry.',
    );
    expect(refusal('json/truncated.json')).toBeInstanceOf(LoadError);
  });
});

describe('format details', () => {
  it('every float16 bit pattern converts as numpy converts it to float32', () => {
    const [h] = load('npy/float16_all.npy');
    const [f] = load('npy/float16_all_as_f32.npy');
    expect(h.dtype).toBe('float16');
    expect(h.data.length).toBe(65536);
    let bad = 0;
    for (let i = 0; i < 65536; i++) if (!Object.is(h.data[i], f.data[i])) bad++;
    expect(bad).toBe(0);
  });

  it('npz keeps zip order and strips .npy; positional names stay arr_N', () => {
    expect(load('npz/xy_deflated.npz').map((a) => `${a.name}:${a.source}`)).toEqual([
      'x:xy_deflated.npz:x.npy',
      'y:xy_deflated.npz:y.npy',
    ]);
    expect(load('npz/positional.npz').map((a) => a.name)).toEqual(['arr_0', 'arr_1']);
  });

  it('npz ignores non-array members with a warning', () => {
    const w: Warning[] = [];
    expect(load('npz/with_readme.npz', w).map((a) => a.name)).toEqual(['x']);
    expect(w.map((x) => x.message)).toEqual([
      'with_readme.npz: ignored 1 member(s) that are not .npy arrays (README.txt).',
    ]);
  });

  it('CSV: header rows warn, rows layout unless a shape line is given', () => {
    const w: Warning[] = [];
    const [a] = load('csv/comma_header.csv', w);
    expect(a.layout).toBe('rows');
    expect(w.map((x) => x.message)).toEqual([
      'comma_header.csv: skipped 1 header row(s) that are not numbers ("a,b,c,d,e,f").',
    ]);
    const [b] = load('csv/savetxt_shape.txt');
    expect(b.layout).toBeUndefined();
    expect(b.shape).toEqual([3, 4, 2]);
  });

  it('JSON: ragged integer lists are tokens padded in front; non-lists warn', () => {
    const w: Warning[] = [];
    const [t] = load('json/tokens.json', w);
    expect(t.layout).toBe('tokens');
    expect(t.lengths).toEqual([4, 1, 6]);
    expect(w[0].message).toBe(
      'tokens.json: read 3 token sequences of lengths 1–6 (11 ids) and padded them with 0 in front to length 6.',
    );
    const w2: Warning[] = [];
    load('json/xy.json', w2);
    expect(w2.map((x) => x.message)).toEqual(['xy.json: ignored 1 member(s) that are not lists (note).']);
  });

  it('sniffs content before the extension', () => {
    const npy = readFileSync(join(DATA, 'npy/float32_le.npy'));
    expect(openData(new Uint8Array(npy), 'renamed.bin')[0].shape).toEqual([2, 3, 4]);
    const h5 = readFileSync(join(CORPUS, 'h5_dl4j_simplernn_k2/simple_rnn_tf_keras_2_inputs_and_outputs.h5'));
    expect(() => openData(new Uint8Array(h5), 'io.h5')).toThrow(
      /^io\.h5 is an HDF5 file; rnnscope reads data from \.npy, \.npz, \.json and \.csv\/\.tsv/,
    );
    expect(() => openData(new Uint8Array([0x80, 4, 0x95, 0, 0, 0]), 'x.pkl')).toThrow(DataError);
    expect(() => openData(new Uint8Array([1, 2, 0, 4]), 'x.csv')).toThrow(LoadError);
    expect(() => openData(new TextEncoder().encode('1,2\n3,4\n'), 'x.npy')).toThrow(
      /^x\.npy does not start with the \.npy signature/,
    );
  });

  it('npy header rules follow numpy (exact keys, tuple shape, version, size)', () => {
    const npy = (header: string, major = 1, data = new Uint8Array(0)) => {
      const h = new TextEncoder().encode(header);
      const pre =
        major === 1
          ? [0x93, 78, 85, 77, 80, 89, 1, 0, h.length & 255, h.length >> 8]
          : [0x93, 78, 85, 77, 80, 89, major, 0, h.length & 255, (h.length >> 8) & 255, 0, 0];
      return new Uint8Array([...pre, ...h, ...data]);
    };
    const msg = (b: Uint8Array) => {
      try {
        openData(b, 'h.npy');
        return 'loaded';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(msg(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3), }"))).toBe(
      'h.npy has .npy shape 3; expected a tuple of non-negative integers, so re-save the array with numpy.save.',
    );
    expect(msg(npy("{'descr': '<f8', 'shape': (1,), }"))).toBe(
      'h.npy has .npy header keys (descr, shape); expected exactly descr, fortran_order and shape, so re-save the array with numpy.save.',
    );
    expect(msg(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"))).toBe(
      "h.npy is truncated: shape (2,) of '<f8' needs 16 bytes of data but 0 follow the header; re-copy or re-save the file.",
    );
    // Python 2 longs: numpy drops the 'L' for versions 1.0 and 2.0 only (_filter_header).
    expect(msg(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1L), }", 1, new Uint8Array(8)))).toBe(
      'loaded',
    );
    expect(msg(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1L), }", 3, new Uint8Array(8)))).toMatch(
      /^h\.npy has an unreadable \.npy header \(expected ',' or '\)' at character \d+\); re-save/,
    );
    expect(msg(npy("{'descr': '<f8', 'fortran_order': 0, 'shape': (), }"))).toContain(
      'has .npy fortran_order 0; expected True or False',
    );
    expect(msg(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (65536, 65536), }"))).toBe(
      'h.npy has shape (65536, 65536) = 4294967296 elements; rnnscope loads at most 268435456 (2 GiB as float64), so pass a slice of the data.',
    );
    // Dims that multiply past the limit are refused even when another dim is 0 (no NaN sizes).
    expect(
      msg(npy(`{'descr': '<f8', 'fortran_order': False, 'shape': (${'4503599627370496, '.repeat(30)}0), }`)),
    ).toMatch(/^h\.npy has shape \(4503599627370496, .*, 0\); rnnscope loads at most 268435456/);
    expect(openData(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (5, 0, 3), }"), 'z.npy')[0]).toMatchObject({
      shape: [5, 0, 3],
      data: new Float64Array(0),
    });
    const v4 = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 2);
    v4[6] = 4;
    expect(msg(v4)).toBe(
      'h.npy has .npy format version 4.0; rnnscope reads versions 1.0, 2.0 and 3.0, so re-save the array with numpy.save.',
    );
    expect(msg(npy(`{'descr': '<f8', 'fortran_order': False, 'shape': (), }${' '.repeat(10001)}`, 2))).toContain(
      'numpy itself refuses headers over 10000 characters',
    );
  });

  it('data that does not start on an aligned offset, in either byte order', () => {
    const bytesOf = (a: Float64Array | Int32Array, bigEndian: boolean) => {
      const b = new Uint8Array(a.buffer.slice(0));
      const w = a.BYTES_PER_ELEMENT;
      if (bigEndian) for (let p = 0; p < b.length; p += w) b.subarray(p, p + w).reverse();
      return b;
    };
    const file = (descr: string, shape: string, data: Uint8Array) => {
      // Padded so that the data starts at an offset that is 3 mod 8 (numpy pads to 64).
      let text = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
      while ((10 + text.length + 1) % 8 !== 3) text += ' ';
      const h = new TextEncoder().encode(`${text}\n`);
      expect((10 + h.length) % 4).not.toBe(0);
      return new Uint8Array([0x93, 78, 85, 77, 80, 89, 1, 0, h.length, 0, ...h, ...data]);
    };
    const f8 = new Float64Array([1.5, -2, 2 ** -1074, -0]);
    const i4 = new Int32Array([-(2 ** 31), 7, 2 ** 31 - 1]);
    for (const be of [false, true]) {
      const a = openData(file(be ? '>f8' : '<f8', '(2, 2)', bytesOf(f8, be)), 'a.npy')[0];
      expect(Array.from(a.data)).toEqual(Array.from(f8));
      expect(Object.is(a.data[3], -0)).toBe(true);
      const b = openData(file(be ? '>i4' : '<i4', '(3,)', bytesOf(i4, be)), 'b.npy')[0];
      expect(Array.from(b.data)).toEqual(Array.from(i4));
    }
  });
});
