// Small model files cannot cost gigabytes: every weight array's declared shape is checked against
// what the config can use, and the total against the file's ExpansionBudget (32× its size +
// 16 MiB), before anything is decompressed or read (src/io/weight-store.ts, common.ts).
//
// The hostile files (scripts/make_hostile_models.py, written with h5py) are ~2 MB each and are
// loaded in a child process (helpers/load-peak.ts) that reports its peak RSS. Measured before this
// check (commit 6cb912d), on the same machine, same files:
//   mismatch_gzip.h5   (2.1 MB, LSTM(8) config, 2 GB of declared weights)  ModelError after 35 s, peak 7.1 GB
//   honest_gzip.h5     (2.2 MB, LSTM(8000) config, 2 GB of weights)        loaded after 41 s, peak 7.0 GB
//   honest_gzip.keras  (2.2 MB, the same as a .keras)                      loaded after 35 s, peak 7.0 GB
//   zipped_h5.keras    (2.0 MB, 128 MiB of weights deflated by the zip)    loaded, peak 837 MB
//   honest_sparse.h5   (46 KB, the LSTM(8000) config, chunks never written) refused (per-dataset bound), 120 MB
//   within_cap.h5      (2.1 MB, 48 MiB compressed weights)                 loaded, peak 342 MB
// Now the first four are refused from metadata within seconds, under 200 MiB, and within_cap.h5
// still loads.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoadError, ModelError } from '../src/model/errors.js';
import { buildModel } from '../src/model/build.js';
import { ExpansionBudget, MAX_CONFIG_BYTES, parseJson } from '../src/io/common.js';
import { ZipArchive } from '../src/io/zip.js';
import { bindAll, type LayerWeights } from '../src/io/weight-store.js';
import { fileSetFromMap, openModel } from '../src/io/index.js';

const ROOT = join(import.meta.dirname, '..');
const PY = '/usr/bin/python3';
const IO = join(import.meta.dirname, 'fixtures', 'io');
const GiB = 1024;

function h5pyMissing(): string | null {
  try {
    execFileSync(PY, ['-c', 'import h5py, numpy'], { stdio: 'ignore' });
    return null;
  } catch {
    return `${PY} with h5py and numpy is not installed (Debian python3-h5py)`;
  }
}
const noH5py = h5pyMissing();
if (noH5py) console.warn(`io-limits: skipping the hostile-file cases: ${noH5py}`);

interface Peak {
  outcome: string;
  stage?: string;
  file?: string | null;
  message?: string;
  layers?: number;
  ms: number;
  maxRssMiB: number;
}

function peak(...args: string[]): Peak {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'helpers', 'load-peak.ts'), ...args],
    { cwd: ROOT, maxBuffer: 1 << 20 },
  );
  return JSON.parse(out.toString()) as Peak;
}

async function fails(p: Promise<unknown> | (() => unknown)): Promise<Error> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe.skipIf(noH5py)('2 MB files that declare gigabytes (child process peak RSS)', () => {
  let dir = '';
  const rows: string[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rnnscope-limits-'));
    execFileSync(PY, [join(ROOT, 'scripts', 'make_hostile_models.py'), dir]);
  }, 120_000);
  afterAll(() => {
    if (rows.length) console.log(`io-limits (file, size, outcome, time, peak RSS):\n  ${rows.join('\n  ')}`);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cases: [string, string, RegExp][] = [
    [
      'mismatch_gzip.h5',
      'ModelError',
      /^\S+mismatch_gzip\.h5 stores 524288032 values for layer lstm_1 \(LSTM\) in arrays of shapes \[16384,16000\], \[16384,16000\], \[32\]; expected the 416 values of the weights its config declares \(\[4,32\], \[8,32\], \[32\]\); check that the weights file belongs to this architecture \(nothing was read\)\.$/,
    ],
    [
      'honest_gzip.h5',
      'LoadError',
      /honest_gzip\.h5 weight data \(5 arrays for 2 layers\) needs 2048160004 bytes in memory, but this 2\d{6}-byte file may expand to at most \d+ bytes in all \(32× its size \+ 16 MiB\); .*refusing a likely decompression bomb/,
    ],
    [
      'honest_gzip.keras',
      'LoadError',
      /honest_gzip\.keras weight data \(5 arrays for 2 layers\) needs 2048160004 bytes in memory, but this 2\d{6}-byte file may expand/,
    ],
    [
      'honest_sparse.h5',
      'LoadError',
      /honest_sparse\.h5 weight data \(5 arrays for 2 layers\) needs 2048160004 bytes in memory, but this \d+-byte file may expand to at most 1\d{7} bytes/,
    ],
    [
      'zipped_h5.keras',
      'LoadError',
      /zipped_h5\.keras member model\.weights\.h5 needs 134\d{6} bytes in memory, but this 2\d{6}-byte file may expand to at most \d+ bytes in all/,
    ],
  ];
  for (const [file, outcome, message] of cases) {
    it(`${file}: refused from metadata, before anything is decompressed, well under 1 GiB`, () => {
      const p = join(dir, file);
      const size = statSync(p).size;
      expect(size).toBeLessThan(2.3e6);
      const r = peak(p);
      rows.push(
        `${file}  ${(size / 1e6).toFixed(2)} MB  ${r.outcome}  ${(r.ms / 1000).toFixed(1)} s  ${r.maxRssMiB.toFixed(0)} MiB`,
      );
      expect(r.outcome, r.message).toBe(outcome);
      expect(r.message).toMatch(message);
      expect(r.file).toBe(p);
      expect(r.message).not.toMatch(/bug|please report/);
      // Nothing was inflated: a node process with h5wasm loaded is ~120 MiB.
      expect(r.maxRssMiB).toBeLessThan(GiB / 4);
    }, 120_000);
  }

  it('within_cap.h5: compressed weights that fit the budget load, and the load stays under 1 GiB', () => {
    const p = join(dir, 'within_cap.h5');
    const r = peak(p);
    rows.push(
      `within_cap.h5  ${(statSync(p).size / 1e6).toFixed(2)} MB  ${r.outcome}  ${(r.ms / 1000).toFixed(1)} s  ${r.maxRssMiB.toFixed(0)} MiB`,
    );
    expect(r.outcome, r.message).toBe('ok');
    expect(r.layers).toBe(3);
    expect(r.maxRssMiB).toBeLessThan(GiB);
  }, 120_000);
});

describe('the declared-size check (weight-store.ts)', () => {
  const cfg = {
    class_name: 'Sequential',
    config: [{ class_name: 'LSTM', config: { name: 'lstm_1', units: 8, batch_input_shape: [null, 10, 4] } }],
  };
  const model = () => buildModel(cfg, { kerasVersion: '2.2.4', format: 'keras-h5', source: 'm.h5' });
  const never = (): never => {
    throw new Error('read() must not be called');
  };

  it('refuses a layer whose arrays declare more values than twice its config, naming both, without reading', () => {
    const m = model();
    const item: LayerWeights = {
      name: 'lstm_1',
      className: 'LSTM',
      layers: [1],
      arrays: [
        { name: 'k', shape: [4, 33], bytes: 4 * 33 * 4, read: never },
        { name: 'r', shape: [8, 32], bytes: 1024, read: never },
        { name: 'b', shape: [10000], bytes: 40000, read: never },
      ],
      bind: never,
    };
    const e = (() => {
      try {
        bindAll(m, [item], 'm.h5', null);
      } catch (x) {
        return x as Error;
      }
      throw new Error('no error');
    })();
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toBe(
      'm.h5 stores 10388 values for layer lstm_1 (LSTM) in arrays of shapes [4,33], [8,32], [10000]; expected the 416 values of the weights its config declares ([4,32], [8,32], [32]); check that the weights file belongs to this architecture (nothing was read).',
    );
  });

  it('accepts up to twice the config (cuDNN biases) and then reads and binds each layer', () => {
    const m = model();
    const bound: number[][] = [];
    const item: LayerWeights = {
      name: 'lstm_1',
      className: 'LSTM',
      layers: [1],
      arrays: [
        { name: 'k', shape: [4, 32], bytes: 512, read: () => new Float32Array(128) },
        { name: 'r', shape: [8, 32], data: new Float32Array(256) },
        { name: 'b', shape: [64], bytes: 256, read: () => new Float32Array(64) },
      ],
      bind: (a) => bound.push(a.map((x) => x.data.length)),
    };
    bindAll(m, [item], 'm.h5', null);
    expect(bound).toEqual([[128, 256, 64]]);
  });

  it('checks the total against the budget before reading any layer', () => {
    const m = model();
    const b = new ExpansionBudget('m.h5', 1000);
    const item: LayerWeights = {
      name: 'lstm_1',
      className: 'LSTM',
      layers: [1],
      arrays: [{ name: 'k', shape: [4, 32], bytes: 20 << 20, read: never }],
      bind: never,
    };
    const e = (() => {
      try {
        bindAll(m, [item], 'm.h5', b);
      } catch (x) {
        return x as Error;
      }
      throw new Error('no error');
    })();
    expect(e).toBeInstanceOf(LoadError);
    expect(e.message).toBe(
      'm.h5 weight data (1 array for 1 layer) needs 20971520 bytes in memory, but this 1000-byte file may expand to at most 16809216 bytes in all (32× its size + 16 MiB); expected stored data about the size of the file; refusing a likely decompression bomb (if the model is real, save it uncompressed).',
    );
  });
});

describe('the expansion budget of a zip (zip.ts, common.ts)', () => {
  const enc = (s: string) => new TextEncoder().encode(s);

  it('deflated members draw on the budget, stored ones do not, JSON members have their own cap', () => {
    const noise = new Uint8Array(300_000).map((_, i) => (i * 2654435761) >>> 24);
    const z = zipSync({
      'stored.bin': [noise, { level: 0 }],
      'config.json': [enc(`${' '.repeat(20 << 20)}{}`), { level: 9 }],
      'w.bin': [new Uint8Array(32 << 20), { level: 9 }],
    });
    const budget = new ExpansionBudget('a.keras', z.length);
    const zip = ZipArchive.open(z, 'a.keras', 'a .keras zip', undefined, budget);
    expect(zip.read('stored.bin')!.length).toBe(300_000);
    expect(budget.remaining).toBe(budget.limit);
    // 32 MiB of zeros: within the zip's own 100× limit, beyond the budget's 32× + 16 MiB.
    const e = (() => {
      try {
        zip.read('w.bin');
      } catch (x) {
        return x as Error;
      }
      throw new Error('no error');
    })();
    expect(e).toBeInstanceOf(LoadError);
    // The JSON member is inflated under its own cap (and the zip's), not the budget.
    expect(zip.read('config.json', { maxBytes: MAX_CONFIG_BYTES, expected: 'a JSON config' })!.length).toBe(
      (20 << 20) + 2,
    );
    expect(budget.remaining).toBe(budget.limit);
    expect(e.message).toBe(
      `a.keras member w.bin needs 33554432 bytes in memory, but this ${z.length}-byte file may expand to at most ${budget.limit} bytes in all (32× its size + 16 MiB); expected stored data about the size of the file; refusing a likely decompression bomb (if the model is real, save it uncompressed).`,
    );
  });

  it('a config member over 64 MiB is refused before it is inflated, and so is JSON text over 64 MiB', () => {
    const z = zipSync({ 'config.json': [enc('{}'), { level: 9 }] });
    const dv = new DataView(z.buffer, z.byteOffset, z.byteLength);
    for (let i = z.length - 46; i >= 0; i--)
      if (dv.getUint32(i, true) === 0x02014b50) dv.setUint32(i + 24, 100 << 20, true);
    // Past the zip's own ratio limit (checked first) only a large archive gets: lift it here.
    const zip = ZipArchive.open(z, 'c.keras', 'a .keras zip', {
      maxRatio: 1e9,
      floorBytes: 0,
      maxTotalBytes: 2 ** 31,
      maxEntries: 10,
    });
    expect(() => zip.read('config.json', { maxBytes: MAX_CONFIG_BYTES, expected: 'a JSON config' })).toThrow(
      'c.keras member config.json declares 104857600 uncompressed bytes; expected a JSON config of at most 67108864 bytes; rnnscope does not load members this large (nothing was inflated).',
    );
    expect(() => parseJson('x'.repeat(MAX_CONFIG_BYTES + 1), 'm.json')).toThrow(
      'm.json holds 67108865 characters of JSON; expected a model config of at most 67108864 bytes (64 MiB); rnnscope does not load configs this large.',
    );
  });

  it('a model.weights.npz member larger than its layer can use is refused before it is inflated', async () => {
    const outer = unzipSync(new Uint8Array(readFileSync(join(IO, 'k3_npz.keras'))));
    const npz = outer['model.weights.npz']!.slice();
    const dv = new DataView(npz.buffer, npz.byteOffset, npz.byteLength);
    const dec = new TextDecoder();
    for (let i = npz.length - 46; i >= 0; i--) {
      if (dv.getUint32(i, true) !== 0x02014b50) continue;
      const name = dec.decode(npz.subarray(i + 46, i + 46 + dv.getUint16(i + 28, true)));
      if (name === 'layers/gru/cell.npy') {
        dv.setUint32(i + 20, 50_000_000, true);
        dv.setUint32(i + 24, 50_000_000, true);
      }
    }
    outer['model.weights.npz'] = npz;
    const e = await fails(openModel(fileSetFromMap('k.keras', { 'k.keras': zipSync(outer, { level: 0 }) })));
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toMatch(
      /^k\.keras:model\.weights\.npz member layers\/gru\/cell\.npy declares 50000000 bytes; expected at most \d+ for the \d+ values its layer's config can use; check that the weights belong to this model \(the member was not inflated\)\.$/,
    );
  });
});
