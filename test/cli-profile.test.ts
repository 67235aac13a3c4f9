// `rnnscope analyze --profile`: one stderr line with the wall time of each phase (src/cli/profile.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PhaseClock } from '../src/cli/profile.js';
import { CORPUS, USERDATA, rnnscope } from './helpers/cli-run.js';

const HAR = path.join(CORPUS, 'k3_hatice_har_lstm', 'lstm_model.keras');
const X = path.join(USERDATA, 'har', 'x.npy');
const dir = mkdtempSync(path.join(tmpdir(), 'rnnscope-profile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('analyze --profile', () => {
  it('prints every phase the run went through, in order, within the command time', async () => {
    const json = path.join(dir, 'a.json');
    const r = await rnnscope(['analyze', HAR, '--data', X, '--max-samples', '48', '--json', json, '--profile']);
    expect(r.code, r.stderr).toBe(0);
    const line = r.stderr.split('\n').find((l) => l.startsWith('profile: '));
    expect(line, r.stderr).toBeDefined();
    const m = /^profile: (.*); command ([\d.]+) s, before start-up ([\d.]+) s$/.exec(line!)!;
    expect(m).not.toBeNull();
    const phases = m[1]!.split(', ').map((c) => {
      const [, name, s] = /^(.+) ([\d.]+) s$/.exec(c)!;
      return [name!, Number(s)] as const;
    });
    expect(phases.map(([n]) => n)).toEqual(['load', 'gradients', 'jacobian', 'samples', 'writing']);
    const sum = phases.reduce((a, [, s]) => a + s, 0);
    expect(sum).toBeLessThanOrEqual(Number(m[2]) + 0.05);
    expect(Number(m[3])).toBeGreaterThan(0);
    // How the gradients run (the gradient pool, src/engine/pool.ts): the threads, or why one.
    expect(r.stderr).toMatch(/^gradients on (\d+ threads \(this one and \d+ persistent workers?|one thread: .+)/m);
  });

  it('prints nothing without the flag', async () => {
    const r = await rnnscope(['analyze', HAR, '--data', X, '--max-samples', '16', '--json', path.join(dir, 'b.json')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('profile:');
    expect(r.stderr).not.toContain('gradients on');
  });
});

describe('PhaseClock', () => {
  it('charges each segment to the phase announced at its start and sums repeats', async () => {
    const c = new PhaseClock();
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    c.mark('a');
    await wait(30);
    c.mark('b');
    c.mark('b');
    await wait(60);
    c.mark('a');
    await wait(30);
    const r = c.report();
    expect(r.phases.map(([n]) => n)).toEqual(['a', 'b']);
    const [a, b] = r.phases.map(([, s]) => s);
    expect(a).toBeGreaterThanOrEqual(0.055);
    expect(b).toBeGreaterThanOrEqual(0.055);
    expect(a! + b!).toBeLessThanOrEqual(r.total + 1e-9);
  });
});
