// The output lock (src/io/safe-write.ts, docs/outputs.md "Locks"): it exists only with its contents,
// leaves no temporary file, refuses a second holder by name, and an empty fresh lock (another tool's,
// or a file system without hard links mid-write) is reported as a run that is starting.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OutputLock } from '../src/io/safe-write.js';

const c = { shown: 'out', role: 'The --out folder' };

describe('output lock', () => {
  it('is created whole, leaves nothing else, and names its holder to a second run', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rnnscope-lock-'));
    const file = path.join(dir, '.rnnscope-lock');
    const lock = await OutputLock.acquire(file, c);
    expect(readdirSync(dir)).toEqual(['.rnnscope-lock']);
    const info = JSON.parse(readFileSync(file, 'utf8'));
    expect([info.pid, info.host]).toEqual([process.pid, hostname()]);
    // The same process asking again is a second run on the same output (its pid is alive).
    await expect(OutputLock.acquire(file, c)).rejects.toThrow(
      `The --out folder out is being written by another rnnscope run (process ${process.pid} on ${hostname()}, started ${info.started})`,
    );
    await lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an empty lock written a moment ago is a run that is starting; a stale one is taken over', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rnnscope-lock-'));
    const file = path.join(dir, '.rnnscope-lock');
    writeFileSync(file, '');
    await expect(OutputLock.acquire(file, c)).rejects.toThrow('(a run that is starting)');
    writeFileSync(file, `${JSON.stringify({ pid: 2 ** 22 + 7, host: hostname(), started: 'then' })}\n`);
    const lock = await OutputLock.acquire(file, c);
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid);
    await lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });
});
