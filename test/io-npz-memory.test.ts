// Reading an .npz is memory-bounded: peak resident memory of a child process that reads ~10 MB
// files with numpy-written members (process.resourceUsage().maxRSS).
//
// Measured before the streaming reader (commit 6cb912d), on the same machine:
//   A  9.6 MB np.savez_compressed-style file, float32 (130000000,): loaded, peak 1574 MiB
//      (an 11.3 MB one with 268000000 values: peak 3126 MiB, as issue 10 reported 3.2 GB)
//   B  9.6 MB, float32 (40000000,) = 305 MiB as float64: loaded, peak 548 MiB
// Now A is refused from its header, before anything is allocated, and B costs its float64
// output plus a few megabytes (no second copy of the inflated member).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PY = '/usr/bin/python3';
const HELPERS = join(import.meta.dirname, 'helpers');
const FIX = join(import.meta.dirname, 'fixtures', 'npz-numpy');

function numpyMissing(): string | null {
  try {
    execFileSync(PY, ['-c', 'import numpy'], { stdio: 'ignore' });
    return null;
  } catch {
    return `${PY} with numpy is not installed (Debian python3-numpy)`;
  }
}
const noNumpy = numpyMissing();
if (noNumpy) console.warn(`io-npz-memory: skipping: ${noNumpy}`);

interface Peak {
  maxRssMiB: number;
  arrays?: { name: string; shape: number[]; sum: number; nonzero: number }[];
  error?: string;
  kind?: string;
}
interface Made {
  bytes: number;
  sum: number;
  nonzero: number;
}

function peak(file: string): Peak {
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(HELPERS, 'npz-peak.ts'), file], {
    cwd: join(import.meta.dirname, '..'),
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.toString()) as Peak;
}

function make(file: string, n: number, every: number): Made {
  return JSON.parse(
    execFileSync(PY, [join(HELPERS, 'npz_large.py'), file, String(n), String(every), 'deflated']).toString(),
  ) as Made;
}

let dir = '';
beforeAll(() => {
  if (!noNumpy) dir = mkdtempSync(join(tmpdir(), 'rnnscope-npz-mem-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(noNumpy)('npz memory (child process peak RSS)', () => {
  let base = 0;
  beforeAll(() => {
    base = peak(join(FIX, 'asand_inputs.npz')).maxRssMiB;
  }, 120_000);

  it('a 10 MB file declaring ~1 GiB of float64 is refused from its header, well below 1 GiB', () => {
    const f = join(dir, 'a.npz');
    const made = make(f, 130_000_000, 93);
    expect(made.bytes).toBeGreaterThan(8 << 20);
    const p = peak(f);
    expect(p.kind).toBe('DataError');
    expect(p.error).toMatch(
      /^.*a\.npz:x\.npy holds shape \(130000000,\) of '<f4' = 991\.8 MiB as float64 from .* compressed; rnnscope expands a .* \.npz to at most .* to stay safe from zip bombs; if the data is real, save it uncompressed with numpy\.savez\.$/,
    );
    console.log(
      `npz memory: refused ${(made.bytes / 2 ** 20).toFixed(1)} MB file declaring 992 MiB: peak ${p.maxRssMiB.toFixed(0)} MiB (baseline ${base.toFixed(0)} MiB)`,
    );
    expect(p.maxRssMiB).toBeLessThan(base + 64);
  }, 300_000);

  it('a 10 MB file holding 305 MiB of float64 loads with one output copy: peak ≤ baseline + output + 96 MiB', () => {
    const f = join(dir, 'b.npz');
    const made = make(f, 40_000_000, 22);
    expect(made.bytes).toBeGreaterThan(8 << 20);
    const p = peak(f);
    expect(p.error).toBeUndefined();
    const [a] = p.arrays!;
    expect(a).toMatchObject({ name: 'x', shape: [40_000_000], nonzero: made.nonzero });
    expect(Math.abs(a!.sum - made.sum)).toBeLessThan(1e-9 * Math.max(1, Math.abs(made.sum)) + 1e-6);
    const outputMiB = (40_000_000 * 8) / 2 ** 20;
    console.log(
      `npz memory: loaded ${(statSync(f).size / 2 ** 20).toFixed(1)} MB file, ${outputMiB.toFixed(0)} MiB float64: peak ${p.maxRssMiB.toFixed(0)} MiB (baseline ${base.toFixed(0)} MiB)`,
    );
    // The inflated member (153 MiB) held beside the output, as before, would exceed this.
    expect(p.maxRssMiB).toBeLessThan(base + outputMiB + 96);
    expect(p.maxRssMiB).toBeLessThan(1024);
  }, 300_000);
});
