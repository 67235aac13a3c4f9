// Input files are read only when they are regular files of a stated size (src/io/node.ts
// readInputFile, used for model files and by loadDataFile): a folder, /dev/zero, a FIFO and a file
// over the limit are refused at once, with a typed error naming the file, the size and the limit.
// Before, `--data /dev/zero` grew past 11 GB and data over 2 GiB gave a raw Node error.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoadError } from '../src/model/errors.js';
import { loadDataFile, loadModelFile, MAX_FILE_BYTES, readInputFile } from '../src/io/node.js';
import { MAX_TEXT_BYTES, openData } from '../src/io/data.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rnnscope-inputs-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function refusal(p: Promise<unknown>): Promise<LoadError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(LoadError);
    return e as LoadError;
  }
  throw new Error('expected a LoadError');
}

describe('readInputFile', () => {
  it('reads a regular file whole', async () => {
    const f = join(dir, 'a.bin');
    writeFileSync(f, Uint8Array.from([1, 2, 3, 250]));
    expect(await readInputFile(f)).toEqual(Uint8Array.from([1, 2, 3, 250]));
  });

  it('refuses a folder, a device, a missing file, each naming it', async () => {
    expect((await refusal(readInputFile(dir, { expected: 'a model file' }))).message).toMatch(
      new RegExp(`^${dir} is a folder(, not a regular file)?; expected a model file; pass the file itself\\.$`),
    );
    const z = await refusal(readInputFile('/dev/zero', { shown: 'zero', expected: 'a data file' }));
    expect(z.message).toBe('zero is a device, not a regular file; expected a data file; pass the file itself.');
    expect(z.file).toBe('zero');
    expect((await refusal(readInputFile(join(dir, 'gone.npy')))).message).toMatch(
      /gone\.npy does not exist or cannot be read \(ENOENT\); expected a regular file; check the path\.$/,
    );
  });

  it('refuses a FIFO at once, without waiting for a writer', async () => {
    const fifo = join(dir, 'pipe');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      console.warn('io-input-files: mkfifo is not available; FIFO case skipped');
      return;
    }
    const t0 = performance.now();
    expect((await refusal(readInputFile(fifo))).message).toBe(
      `${fifo} is a pipe (FIFO), not a regular file; expected a regular file; pass the file itself.`,
    );
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('refuses a file over the limit from its size, before reading (a sparse 2 GiB file; a lower limit of its own)', async () => {
    const big = join(dir, 'big.npy');
    writeFileSync(big, '');
    truncateSync(big, MAX_FILE_BYTES + 1);
    const t0 = performance.now();
    expect((await refusal(loadDataFile(big))).message).toBe(
      `${big} is 2147483648 bytes, more than the 2147483647 bytes rnnscope reads (2 GiB, the most Node reads into one buffer); expected a .npy, .npz, CSV or JSON data file of at most that size; nothing was read.`,
    );
    expect(performance.now() - t0).toBeLessThan(2000);
    const small = join(dir, 'small.csv');
    writeFileSync(small, '1,2,3\n'.repeat(100));
    expect((await refusal(loadDataFile(small, { maxBytes: 100 }))).message).toBe(
      `${small} is 600 bytes, more than the 100 bytes rnnscope reads; expected a .npy, .npz, CSV or JSON data file of at most that size; nothing was read.`,
    );
    expect((await loadDataFile(small))[0]!.shape).toEqual([100, 3]);
  });

  it('model files go through the same checks', async () => {
    expect((await refusal(loadModelFile('/dev/zero'))).message).toBe(
      '/dev/zero is a device, not a regular file; expected a model file; pass the file itself.',
    );
  });
});

describe('text data longer than a JavaScript string', () => {
  it('is refused with its size and the limit, not a raw RangeError', () => {
    // Zero-filled memory is not touched past the first page, so this costs little.
    const bytes = new Uint8Array(MAX_TEXT_BYTES + 1);
    bytes.set(new TextEncoder().encode('1,2,3\n'.repeat(700)));
    expect(() => openData(bytes, 'huge.csv')).toThrow(LoadError);
    expect(() => openData(bytes, 'huge.csv')).toThrow(
      `huge.csv is ${MAX_TEXT_BYTES + 1} bytes of text; CSV and JSON data are read as one string, at most ${MAX_TEXT_BYTES} characters (JavaScript's longest string); save the arrays with numpy.save or numpy.savez (.npy/.npz) instead.`,
    );
  });
});
