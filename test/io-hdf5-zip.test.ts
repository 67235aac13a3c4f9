// The two container readers on their own: src/io/hdf5.ts (h5wasm wrapper) and src/io/zip.ts.
// Oracles: h5py listings of the corpus files (MANIFEST.md, scripts/make_io_fixtures.py) and
// Python's zipfile (the fixtures it wrote); damaged inputs are made here from good bytes.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { LoadError } from '../src/model/errors.js';
import { H5File } from '../src/io/hdf5.js';
import { checkSuperblock } from '../src/io/hdf5-format.js';
import { halfToFloat } from '../src/io/float16.js';
import { ZipArchive, crc32 } from '../src/io/zip.js';
import { CORPUS, IO, bytes } from './io-model-helpers.js';

// h5wasm binds console.error when its module starts (on the first H5File.open below), so a
// recorder installed now sees anything HDF5 would print to the terminal.
const consoleErrors: string[] = [];
const realConsoleError = console.error;
console.error = (...a: unknown[]) => {
  consoleErrors.push(a.join(' '));
  realConsoleError(...a);
};

function h5Files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) out.push(...h5Files(p));
    else if (/\.(h5|hdf5)$/.test(e)) out.push(p);
  }
  return out;
}

async function loadErr(p: Promise<unknown> | (() => unknown)): Promise<LoadError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(LoadError);
    return e as LoadError;
  }
  throw new Error('expected a LoadError');
}

describe('hdf5.ts over the corpus', () => {
  it('opens every corpus HDF5 file and reads every attribute and dataset', async () => {
    const files = h5Files(CORPUS);
    expect(files.length).toBe(14);
    for (const f of files) {
      const h = await H5File.open(bytes(f), f);
      let datasets = 0;
      const walk = (p: string, depth: number) => {
        for (const k of h.keys(p)) {
          const c = `${p}/${k}`;
          for (const a of h.attrNames(c)) h.attr(c, a);
          const kind = h.kind(c);
          if (kind === 'group') walk(c, depth + 1);
          else if (kind === 'dataset') {
            const d = h.dataset(c);
            expect(d.data.length).toBe(d.shape.reduce((a, b) => a * b, 1));
            datasets++;
          }
        }
      };
      walk('', 0);
      expect(datasets).toBeGreaterThan(0);
      h.close();
    }
  });

  it('reads variable-length str and fixed-length bytes attributes alike', async () => {
    // h5_dl4j_simplernn_k2: root keras_version is a variable-length str (h5py listing:
    // "@ keras_version str 2.1.3"), model_weights/layer_names fixed-length S12 bytes.
    const h = await H5File.open(bytes(`${CORPUS}/h5_dl4j_simplernn_k2/simple_rnn_tf_keras_2_model.h5`), 'k2.h5');
    expect(h.stringAttr('/', 'keras_version')).toBe('2.1.3');
    expect(h.stringAttr('/', 'backend')).toBe('tensorflow');
    expect(h.stringList('/model_weights', 'layer_names')).toEqual(['simple_rnn_1', 'dense_1']);
    expect(h.stringList('/model_weights/simple_rnn_1', 'weight_names')).toEqual([
      'simple_rnn_1/kernel:0',
      'simple_rnn_1/recurrent_kernel:0',
      'simple_rnn_1/bias:0',
    ]);
    expect(JSON.parse(h.stringAttr('/', 'model_config')!).class_name).toBe('Sequential');
    const k = h.dataset('/model_weights/simple_rnn_1/simple_rnn_1/kernel:0');
    expect(k.shape).toEqual([1, 50]);
    expect(k.dtype).toBe('float32');
    // Keras 1 weights file: no keras_version anywhere, Theano names without ':0'.
    const k1 = await H5File.open(
      bytes(`${CORPUS}/k1_dl4j_simple_lstm_theano/simple_lstm_th_keras_1_weights.h5`),
      'k1.h5',
    );
    expect(k1.stringAttr('/', 'keras_version')).toBeNull();
    expect(k1.stringList('/', 'layer_names')).toEqual(['lstm_1', 'dense_1']);
    expect(k1.stringList('/lstm_1', 'weight_names')!.slice(0, 3)).toEqual(['lstm_1_W_i', 'lstm_1_U_i', 'lstm_1_b_i']);
    // A weightless layer's weight_names is an empty float array in h5py.
    const m = await H5File.open(bytes(`${CORPUS}/h5_dl4j_masking_lstm/masking_zero_lstm.h5`), 'mask.h5');
    expect(m.stringList('/model_weights/masking_1', 'weight_names')).toEqual([]);
    for (const x of [h, k1, m]) x.close();
  });

  it('joins chunked attributes name0, name1, ...', async () => {
    const h = await H5File.open(bytes(`${IO}/chunked_attrs.h5`), 'chunked_attrs.h5');
    expect(h.attr('/model_weights', 'layer_names')).toBeNull();
    expect(h.stringList('/model_weights', 'layer_names')).toEqual(['simple_rnn_1', 'dense_1']);
    expect(h.stringList('/model_weights/simple_rnn_1', 'weight_names')).toEqual([
      'simple_rnn_1/kernel:0',
      'simple_rnn_1/recurrent_kernel:0',
      'simple_rnn_1/bias:0',
    ]);
    expect(h.stringAttr('/', 'keras_version')).toBe('2.2.4');
    h.close();
  });

  it('refuses an absurd dataset shape before allocating, and links to outside or in a cycle', async () => {
    const a = await H5File.open(bytes(`${IO}/bad_absurd_shape.h5`), 'bad_absurd_shape.h5');
    expect(a.datasetInfo('/dense_1/dense_1/kernel:0').shape).toEqual([100000, 100000]);
    const e = await loadErr(() => a.dataset('/dense_1/dense_1/kernel:0'));
    expect(e.message).toContain('declares shape [100000,100000] (40000000000 bytes)');
    a.close();
    const x = await H5File.open(bytes(`${IO}/bad_external_link.h5`), 'bad_external_link.h5');
    expect(x.kind('/model_weights/dense_1/dense_1/kernel:0')).toBe('external-link');
    expect((await loadErr(() => x.dataset('/model_weights/dense_1/dense_1/kernel:0'))).message).toContain(
      'an external link at /model_weights/dense_1/dense_1/kernel:0',
    );
    x.close();
    const c = await H5File.open(bytes(`${IO}/bad_softlink_cycle.h5`), 'bad_softlink_cycle.h5');
    expect(c.kind('/model_weights/dense_1/dense_1/kernel:0')).toBe('broken-link');
    expect((await loadErr(() => c.dataset('/model_weights/dense_1/dense_1/kernel:0'))).message).toContain(
      'cyclic soft link',
    );
    c.close();
  });

  it('checks the superblock: no signature, truncation, bad version', async () => {
    const good = bytes(`${CORPUS}/h5_dl4j_simplernn_k2/simple_rnn_tf_keras_2_model.h5`);
    expect(() => checkSuperblock(good, 'g')).not.toThrow();
    expect((await loadErr(() => checkSuperblock(good.slice(0, 5000), 't.h5'))).message).toBe(
      't.h5 is 5000 bytes but its HDF5 superblock declares 39576; expected the whole file; it is truncated, re-download or re-save it.',
    );
    expect((await loadErr(() => checkSuperblock(new Uint8Array(100), 'z.h5'))).message).toContain(
      'has no HDF5 signature',
    );
    const v = good.slice();
    v[8] = 7;
    expect((await loadErr(() => checkSuperblock(v, 'v.h5'))).message).toContain('superblock version 7');
    expect((await loadErr(() => checkSuperblock(good.slice(0, 20), 's.h5'))).message).toContain('too short');
  });

  it('turns HDF5 failures on damaged metadata into LoadErrors without printing', async () => {
    const good = bytes(`${CORPUS}/w_chen_ecg_bilstm_autoencoder/bidirectional-lstm-auto-encoder-weights.h5`);
    consoleErrors.length = 0;
    let failures = 0;
    try {
      // Deterministic damage of the first 2 KB (superblock, root object header, B-tree, heaps).
      for (let i = 0; i < 40; i++) {
        const b = good.slice();
        for (let j = 0; j < 6; j++) b[(i * 997 + j * 331) % 2048] ^= 0x5a + j;
        try {
          const h = await H5File.open(b, `damaged-${i}.h5`);
          try {
            for (const ln of h.stringList('/', 'layer_names') ?? [])
              for (const w of h.stringList(`/${ln}`, 'weight_names') ?? []) h.dataset(`/${ln}/${w}`);
          } finally {
            h.close();
          }
        } catch (e) {
          expect(e).toBeInstanceOf(LoadError);
          expect((e as Error).message).toMatch(/damaged-\d+\.h5/);
          failures++;
        }
      }
    } finally {
      // HDF5 prints its diagnostics through the wasm module's stderr, which hdf5.ts captures.
      expect(consoleErrors).toEqual([]);
    }
    expect(failures).toBeGreaterThan(10);
    // The reader still works afterwards.
    const h = await H5File.open(good, 'clean.h5');
    expect(h.dataset('/dense_1/dense_1/bias:0').shape).toEqual([210]);
    h.close();
  });

  it('decodes IEEE half floats exactly', () => {
    const h = new Uint16Array([0x0000, 0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0xfc00, 0x3555]);
    const f = halfToFloat(h);
    expect(Array.from(f.slice(0, 7))).toEqual([0, 1, -2, 65504, 2 ** -24, Infinity, -Infinity]);
    expect(f[7]).toBe(Math.fround(0.333251953125));
  });
});

describe('zip.ts', () => {
  it('reads the stored corpus .keras and the deflated fixture, checking CRCs', () => {
    const z = ZipArchive.open(bytes(`${CORPUS}/k3_hatice_har_lstm/lstm_model.keras`), 'lstm_model.keras');
    expect(z.names()).toEqual(['metadata.json', 'config.json', 'model.weights.h5']);
    expect(new TextDecoder().decode(z.read('metadata.json')!)).toBe(
      '{"keras_version": "3.10.0", "date_saved": "2026-01-15@02:29:02"}',
    );
    expect(z.read('model.weights.h5')!.length).toBe(2545780);
    const d = ZipArchive.open(bytes(`${IO}/k3_deflated.keras`), 'k3_deflated.keras');
    expect(d.entries.get('config.json')!.method).toBe(8);
    expect(JSON.parse(new TextDecoder().decode(d.read('config.json')!)).class_name).toBe('Sequential');
    expect(d.read('nope')).toBeNull();
  });

  it('computes the zip CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('refuses a real zip bomb (64 MiB of spaces in 64 KB) before inflating', async () => {
    const z = ZipArchive.open(bytes(`${IO}/bad_zip_bomb.keras`), 'bomb.keras');
    const e = await loadErr(() => z.read('config.json'));
    expect(e.message).toBe(
      'bomb.keras member config.json declares 67108866 uncompressed bytes; expected at most 23325516 more (in all 100x the 65483-byte archive, at most 1073741824); refusing a likely zip bomb.',
    );
  });

  it('catches a member whose declared size is a lie, corrupted data, truncation and a missing directory', async () => {
    const data = new Uint8Array(5000).fill(65);
    const good = zipSync({ 'a.txt': [data, { level: 6 }] });
    expect(ZipArchive.open(good, 'g.zip').read('a.txt')).toEqual(data);
    // Central directory size field at 46-byte header + 24: patch the declared uncompressed size.
    const cd = findSig(good, 0x02014b50);
    const small = good.slice();
    new DataView(small.buffer).setUint32(cd + 24, 100, true);
    expect((await loadErr(() => ZipArchive.open(small, 's.zip').read('a.txt'))).message).toContain('has CRC-32');
    const huge = good.slice();
    new DataView(huge.buffer).setUint32(cd + 24, 0xfffffff0, true);
    expect((await loadErr(() => ZipArchive.open(huge, 'h.zip').read('a.txt'))).message).toContain(
      'refusing a likely zip bomb',
    );
    const flipped = good.slice();
    flipped[40] ^= 0xff;
    const ef = await loadErr(() => ZipArchive.open(flipped, 'f.zip').read('a.txt'));
    expect(ef.message).toMatch(/f\.zip member a\.txt (does not inflate|inflates to|has CRC-32)/);
    expect((await loadErr(() => ZipArchive.open(good.slice(0, good.length - 30), 't.zip'))).message).toContain(
      'no end-of-central-directory record',
    );
    const cut = good.slice();
    new DataView(cut.buffer).setUint32(findSig(cut, 0x06054b50) + 16, good.length, true);
    expect((await loadErr(() => ZipArchive.open(cut, 'c.zip'))).message).toContain('past the end');
  });
});

function findSig(b: Uint8Array, sig: number): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = b.length - 4; i >= 0; i--) if (dv.getUint32(i, true) === sig) return i;
  throw new Error('signature not found');
}
