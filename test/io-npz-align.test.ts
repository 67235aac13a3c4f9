// .npz members at any byte offset, in every dtype: real numpy files, and numpy-generated files
// covering every data alignment 0..7, each compared with numpy's own values (np.load).
//
// Oracle: /usr/bin/python3 numpy writes the files and reports, per member, its values and the
// offset of its data in the file mod 8 (read back from the zip local header), so the test knows
// the alignments it claims to cover really occur.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openData } from '../src/io/data.js';
import { readNpz } from '../src/io/npz.js';
import { NpyDecoder } from '../src/io/npy-decode.js';
import { readNpyHeader } from '../src/io/npy-header.js';

const FIX = join(import.meta.dirname, 'fixtures', 'npz-numpy');
const PY = '/usr/bin/python3';

interface Member {
  name: string;
  dtype: string;
  shape: number[];
  fortran: boolean;
  align: number | null;
  values: string[];
}
interface Generated {
  files: { file: string; mode: string; members: Member[] }[];
  fixtures: Record<string, Record<string, { dtype: string; shape: number[]; values: string[] }>>;
}

function numpyAvailable(): string | null {
  try {
    execFileSync(PY, ['-c', 'import numpy'], { stdio: 'ignore' });
    return null;
  } catch {
    return `${PY} with numpy is not installed (Debian python3-numpy)`;
  }
}
const noNumpy = numpyAvailable();
if (noNumpy) console.warn(`io-npz-align: skipping the numpy-oracle tests: ${noNumpy}`);

const num = (s: string): number => (s === 'inf' ? Infinity : s === '-inf' ? -Infinity : Number(s));
/** Exact equality, telling -0 from 0 and NaN equal to NaN. */
function sameValues(got: ArrayLike<number>, want: string[]): string | null {
  if (got.length !== want.length) return `length ${got.length} vs ${want.length}`;
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], num(want[i]))) return `[${i}] ${got[i]} vs ${want[i]}`;
  return null;
}

let dir = '';
let gen: Generated;
const fixtureFiles = ['har_x.npz', 'asand_inputs.npz'].map((f) => join(FIX, f));

beforeAll(() => {
  if (noNumpy) return;
  dir = mkdtempSync(join(tmpdir(), 'rnnscope-npz-align-'));
  const out = execFileSync(PY, [join(import.meta.dirname, 'helpers', 'npz_alignment.py'), dir, ...fixtureFiles], {
    maxBuffer: 256 << 20,
  });
  gen = JSON.parse(out.toString()) as Generated;
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('real np.savez files (uncompressed, unaligned data)', () => {
  it('har_x.npz (float32 at offset 187) equals the same array saved with np.save', () => {
    const [z] = openData(readFileSync(join(FIX, 'har_x.npz')), 'x.npz');
    const [y] = openData(readFileSync(join(FIX, 'har_x.npy')), 'x.npy');
    expect(z).toMatchObject({ name: 'arr_0', shape: [32, 100, 6], dtype: 'float32', source: 'x.npz:arr_0.npy' });
    expect(Array.from(z.data)).toEqual(Array.from(y.data));
  });

  it('asand_inputs.npz: int32 at offset 196 and float32 at 1289, keyed by input name', () => {
    const arrays = openData(readFileSync(join(FIX, 'asand_inputs.npz')), 'inputs.npz');
    expect(arrays.map((a) => [a.name, a.dtype, a.shape])).toEqual([
      ['sequence_input', 'int32', [32, 7]],
      ['numerical_input', 'float32', [32, 36]],
    ]);
  });

  it.skipIf(noNumpy)('both files hold exactly the values np.load reads', () => {
    for (const f of fixtureFiles) {
      const want = gen.fixtures[f]!;
      const got = readNpz(readFileSync(f), f);
      expect(got.map((a) => a.name).sort()).toEqual(Object.keys(want).sort());
      for (const a of got) {
        expect(a.shape, `${f}:${a.name}`).toEqual(want[a.name]!.shape);
        expect(sameValues(a.data, want[a.name]!.values), `${f}:${a.name}`).toBeNull();
      }
    }
  });

  it('reads the same from a Uint8Array at an odd offset of a larger buffer (no reliance on the file buffer)', () => {
    const file = readFileSync(join(FIX, 'har_x.npz'));
    const big = new Uint8Array(file.length + 3);
    big.set(file, 3);
    const [a] = readNpz(big.subarray(3), 'x.npz');
    const [b] = openData(readFileSync(join(FIX, 'har_x.npy')), 'x.npy');
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });
});

describe.skipIf(noNumpy)('numpy-generated .npz: every dtype, byte order, C/Fortran order, alignment 0..7', () => {
  it('covers every data alignment 0..7 for every dtype among the uncompressed members', () => {
    const cover = new Map<string, Set<number>>();
    for (const f of gen.files)
      for (const m of f.members)
        if (m.align !== null) cover.set(m.dtype, (cover.get(m.dtype) ?? new Set()).add(m.align));
    expect(cover.size).toBe(21);
    for (const [dt, s] of cover) expect([...s].sort(), dt).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('every member of every file (savez and savez_compressed) equals numpy exactly', () => {
    let checked = 0;
    for (const f of gen.files) {
      const arrays = readNpz(readFileSync(f.file), f.file);
      expect(arrays.map((a) => a.name)).toEqual(f.members.map((m) => m.name));
      arrays.forEach((a, i) => {
        const m = f.members[i]!;
        expect(a.shape).toEqual(m.shape);
        expect(
          sameValues(a.data, m.values),
          `${f.file}:${m.name} (${m.dtype}${m.fortran ? ', Fortran order' : ''}, align ${m.align})`,
        ).toBeNull();
        checked++;
      });
    }
    expect(checked).toBe(21 * 2 * 2 * 8 * 2);
  });

  it('the streaming decoder gives the same values when the data arrives in pieces of 1, 3, 5 and 7 bytes', () => {
    const picks = gen.files.filter((f) => f.mode === 'savez' && f.file.endsWith('_3.npz'));
    expect(picks.length).toBe(42);
    for (const f of picks) {
      const m = f.members[0]!;
      // The member's own bytes, found by its header in the stored zip (numpy writes members STORED here).
      const file = new Uint8Array(readFileSync(f.file));
      const at = indexOfMagic(file);
      const h = readNpyHeader(file.subarray(at), m.name);
      const data = file.subarray(at + h.dataStart, at + h.dataStart + h.count * h.dt.size);
      for (const step of [1, 3, 5, 7]) {
        const dec = new NpyDecoder(h.dt, h.shape, h.fortranOrder, m.name);
        for (let p = 0; p < data.length; p += step) dec.push(data.subarray(p, p + step));
        expect(dec.remaining).toBe(0);
        expect(sameValues(dec.out, m.values), `${f.file} in ${step}-byte pieces`).toBeNull();
      }
    }
  });
});

function indexOfMagic(b: Uint8Array): number {
  for (let i = 0; i + 6 <= b.length; i++)
    if (
      b[i] === 0x93 &&
      b[i + 1] === 0x4e &&
      b[i + 2] === 0x55 &&
      b[i + 3] === 0x4d &&
      b[i + 4] === 0x50 &&
      b[i + 5] === 0x59
    )
      return i;
  throw new Error('no .npy in the file');
}
