// The streamed .npz dump (src/io/npz-write.ts layout, src/dump-file.ts writer): CRC-32 and its
// combination against the direct computation, archives written piecewise and out of order read
// back by numpy and checked by Python's zipfile (CRCs included), Zip64 past 4 GiB, and the CLI's
// --dump: the same arrays as the library, with peak memory far below the dump's size.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crc32, crc32Combine, encodeNpy } from '../src/io/npz-write.js';
import { FileDumpSink, NpzDumpFile } from '../src/dump-file.js';
import { analyzeModel } from '../src/analysis/analyze.js';
import { loadModelFile } from '../src/io/node.js';
import { CORPUS, hasPython, PYTHON, readNpzWithNumpy, rnnscope, runProcess, BIN } from './helpers/cli-run.js';
import { lcg, randArr } from './helpers/rng.js';

const TMP = mkdtempSync(path.join(tmpdir(), 'rnnscope-dump-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));
const numpy = hasPython();

describe('CRC-32', () => {
  it('matches the standard check value and combines pieces exactly', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    const r = lcg(7);
    const bytes = Uint8Array.from({ length: 5000 }, () => Math.floor(r() * 256));
    const whole = crc32(bytes);
    for (const cut of [0, 1, 7, 8, 9, 1000, 4999, 5000]) {
      expect(crc32Combine(crc32(bytes.subarray(0, cut)), crc32(bytes.subarray(cut)), 5000 - cut)).toBe(whole);
      expect(crc32(bytes.subarray(cut), crc32(bytes.subarray(0, cut)))).toBe(whole);
    }
  });
});

/** zipfile's own check of every member's CRC (None when all match) and numpy's view of the arrays. */
function pythonCheck(file: string): { bad: string | null; infos: [string, number, number][] } {
  const r = spawnSync(
    PYTHON,
    [
      '-c',
      `import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
print(json.dumps({'bad': z.testzip(), 'infos': [[i.filename, i.header_offset, i.file_size] for i in z.infolist()]}))`,
      file,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as { bad: string | null; infos: [string, number, number][] };
}

describe.runIf(numpy)('streamed dump file', () => {
  it('rows written out of order by several sinks, and two runs, read back by numpy with every CRC right', () => {
    const file = path.join(TMP, 'pieces.npz');
    const dump = new NpzDumpFile(file, 'pieces.npz', true);
    const dh = Float32Array.from(randArr(lcg(1), 5 * 3 * 2, 1)),
      k = Float64Array.from([1, 2, 3, 4, 5, 6.5]);
    const entries = [
      { name: 'dh/lstm', shape: [5, 3, 2], dtype: 'float32' as const },
      { name: 'grad/lstm/kernel', shape: [2, 3], dtype: 'float64' as const },
      { name: 'loss', shape: [], dtype: 'float64' as const },
    ];
    for (let run = 0; run < 2; run++) {
      const spec = dump.addRun(entries);
      const a = new FileDumpSink(spec),
        b = new FileDumpSink(spec);
      a.write('dh/lstm', 3, [2, 3, 2], dh.slice(18, 30));
      b.write('dh/lstm', 1, [2, 3, 2], dh.slice(6, 18));
      a.write('loss', 0, [], Float64Array.of(0.125 + run));
      b.write('dh/lstm', 0, [1, 3, 2], dh.slice(0, 6));
      a.write('grad/lstm/kernel', 0, [2, 3], k);
      dump.addPieces([...a.pieces, ...b.pieces]);
      a.close();
      b.close();
    }
    dump.finish();
    expect(pythonCheck(file).bad).toBeNull();
    const z = readNpzWithNumpy(file);
    expect([...z.keys()].sort()).toEqual([
      'run0/dh/lstm',
      'run0/grad/lstm/kernel',
      'run0/loss',
      'run1/dh/lstm',
      'run1/grad/lstm/kernel',
      'run1/loss',
    ]);
    expect(z.get('run1/dh/lstm')).toEqual({ shape: [5, 3, 2], dtype: '<f4', data: dh });
    expect(z.get('run0/grad/lstm/kernel')).toEqual({ shape: [2, 3], dtype: '<f8', data: k });
    expect(Array.from(z.get('run1/loss')!.data)).toEqual([1.125]);
    expect(z.get('run1/loss')!.shape).toEqual([]);
  });

  it('refuses to finish while a member is incomplete', () => {
    const dump = new NpzDumpFile(path.join(TMP, 'incomplete.npz'), 'incomplete.npz', false);
    const spec = dump.addRun([{ name: 'dh/x', shape: [4, 2], dtype: 'float32' }]);
    const s = new FileDumpSink(spec);
    s.write('dh/x', 2, [2, 2], new Float32Array(4));
    dump.addPieces(s.pieces);
    s.close();
    expect(() => dump.finish()).toThrow(/dh\/x has 0 of 32 bytes/);
    dump.close();
  });

  it('a member past 4 GiB gets Zip64 sizes, and the next one a Zip64 offset (sparse file; Python reads the small member)', () => {
    const file = path.join(TMP, 'zip64.npz');
    const dump = new NpzDumpFile(file, 'zip64.npz', false);
    const n = 2 ** 30 + 16; // float32 elements: 4 GiB + 64 bytes
    const spec = dump.addRun([
      { name: 'big', shape: [n], dtype: 'float32' },
      { name: 'small', shape: [3], dtype: 'float64' },
    ]);
    // The big member is left as a hole of zeros; its CRC is that of n·4 zero bytes, built by combining.
    const mib = crc32(new Uint8Array(2 ** 20));
    let zeros = mib;
    for (let len = 2 ** 20; len < 2 ** 32; len *= 2) zeros = crc32Combine(zeros, zeros, len);
    zeros = crc32Combine(zeros, crc32(new Uint8Array(64)), 64);
    const s = new FileDumpSink(spec);
    s.write('small', 0, [3], Float64Array.of(1.5, -2, 3));
    dump.addPieces([{ member: spec.members[0]!.index, offset: 0, length: n * 4, crc: zeros }, ...s.pieces]);
    s.close();
    dump.finish();
    const r = spawnSync(
      PYTHON,
      [
        '-c',
        `import io, json, sys, zipfile, numpy as np
z = zipfile.ZipFile(sys.argv[1])
a = np.load(io.BytesIO(z.read('small.npy')))
print(json.dumps({'infos': [[i.filename, i.header_offset, i.file_size] for i in z.infolist()], 'small': a.tolist()}))`,
        file,
      ],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { infos: [string, number, number][]; small: number[] };
    expect(out.small).toEqual([1.5, -2, 3]);
    expect(out.infos[0]![2]).toBe(n * 4 + 128); // .npy header of 128 bytes + data
    expect(out.infos[1]![1]).toBeGreaterThan(2 ** 32);
  });
});

describe.runIf(numpy)('rnnscope analyze --dump', () => {
  const har = path.join(CORPUS, 'k3_hatice_har_lstm', 'lstm_model.keras');

  it('streams the same arrays the library keeps in memory (numpy.load, float32 taps, float64 gradient)', {
    timeout: 600_000,
  }, async () => {
    const x = { shape: [10, 100, 6], data: Float32Array.from(randArr(lcg(3), 10 * 100 * 6, 1)) };
    writeFileSync(path.join(TMP, 'x10.npy'), encodeNpy(x));
    const out = path.join(TMP, 'har.npz');
    const r = await rnnscope([
      'analyze',
      har,
      '--data',
      path.join(TMP, 'x10.npy'),
      '--batch-size',
      '4',
      '--dump',
      out,
      '--quiet',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(pythonCheck(out).bad).toBeNull();
    const z = readNpzWithNumpy(out);
    const lib = analyzeModel(await loadModelFile(har), { inputs: [x], targets: null }, { batchSize: 4, keepRaw: true })
      .raw!;
    expect([...z.keys()].sort()).toEqual([...lib.keys()].sort());
    for (const [k, a] of lib) {
      expect(z.get(k)!.shape, k).toEqual(a.shape);
      expect(z.get(k)!.dtype, k).toBe(a.data instanceof Float32Array ? '<f4' : '<f8');
      expect(Array.from(z.get(k)!.data), k).toEqual(Array.from(a.data));
    }
  });

  it('writes a large dump without holding it: peak memory is that of the same analysis without --dump', async () => {
    // 480 samples in batches of 16: 30 batches, so a worker thread writes its rows too.
    const N = 480;
    const x = { shape: [N, 100, 6], data: Float32Array.from(randArr(lcg(5), N * 100 * 6, 1)) };
    writeFileSync(path.join(TMP, 'xbig.npy'), encodeNpy(x));
    const out = path.join(TMP, 'big.npz');
    const hook =
      'data:text/javascript,process.on("exit",()=>process.stderr.write("MAXRSS "+process.resourceUsage().maxRSS*1024+"\\n"))';
    const run = (extra: string[]) =>
      runProcess(
        process.execPath,
        [
          '--import',
          hook,
          BIN,
          'analyze',
          har,
          '--data',
          path.join(TMP, 'xbig.npy'),
          '--batch-size',
          '16',
          '--quiet',
          ...extra,
        ],
        { env: { RNNSCOPE_FROM_SOURCE: '1' } },
      );
    const [plain, dumped] = await Promise.all([run(['--json', path.join(TMP, 'big.json')]), run(['--dump', out])]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(dumped.code, dumped.stderr).toBe(0);
    const rss = (r: { stderr: string }) => Number(/MAXRSS (\d+)/.exec(r.stderr)![1]);
    const size = statSync(out).size;
    console.log(
      `dump ${(size / 2 ** 20).toFixed(0)} MiB of ${N} samples: peak RSS ` +
        `${(rss(dumped) / 2 ** 20).toFixed(0)} MiB with it, ${(rss(plain) / 2 ** 20).toFixed(0)} MiB ` +
        `without; ${(dumped.ms / 1e3).toFixed(1)} s`,
    );
    expect(size).toBeGreaterThan(300 * 2 ** 20);
    // Held in memory, the dump alone would add its size (and more while it is assembled and zipped).
    expect(rss(dumped) - rss(plain)).toBeLessThan(size / 4);
    expect(pythonCheck(out).bad).toBeNull();
    // Spot check with numpy: the last sample's rows are where they belong.
    const head = spawnSync(
      PYTHON,
      [
        '-c',
        `import sys, numpy as np
z = np.load(sys.argv[1])
k = sorted(k for k in z.files if k.startswith('dh/'))[0]
print(k, z[k].shape, z[k].dtype, bool(np.abs(z[k][-1]).sum() > 0))`,
        out,
      ],
      { encoding: 'utf8' },
    );
    expect(head.stdout).toMatch(/^dh\/\S+ \(480, 100, 128\) float32 True/);
  }, 600_000);

  it('Ctrl-C while the dump streams removes the unfinished file and the lock at once (exit 130)', {
    timeout: 600_000,
  }, async () => {
    const N = 480;
    const xfile = path.join(TMP, 'xint.npy');
    writeFileSync(xfile, encodeNpy({ shape: [N, 100, 6], data: Float32Array.from(randArr(lcg(6), N * 100 * 6, 1)) }));
    const dir = path.join(TMP, 'interrupted');
    mkdirSync(dir);
    const child = spawn(
      process.execPath,
      [BIN, 'analyze', har, '--data', xfile, '--dump', path.join(dir, 'd.npz'), '--quiet'],
      { env: { ...process.env, RNNSCOPE_FROM_SOURCE: '1' } },
    );
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Wait until rows are being written into the temporary file.
    const t0 = Date.now();
    const temp = () => readdirSync(dir).find((n) => n.includes('rnnscope-tmp'));
    while (!(temp() && statSync(path.join(dir, temp()!)).size > 0) && Date.now() - t0 < 300_000)
      await new Promise((r) => setTimeout(r, 200));
    expect(temp(), stderr).toBeDefined();
    const t1 = Date.now();
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(Date.now() - t1).toBeLessThan(10_000);
    expect(stderr).toMatch(/Interrupted \(SIGINT\)/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
