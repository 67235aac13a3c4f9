// Peak memory of whole analyses on long sequences, measured in a child process (maxRSS covers the
// worker threads too). Before the per-step contributions were kept as factors (contributions.ts),
// 2000 steps × 4 samples of 2×LSTM(128) peaked at 3.9 GB and W-long (LSTM 32→256, 10,000 steps)
// needed more than the machine's 23 GB. The contributions' exactness is tested in analysis-contributions.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const GiB = 2 ** 30;

interface Measured {
  maxRSS: number;
  seconds: number;
  sumGap: number;
  loss: number;
  warnings: string[];
  finiteNorms: boolean;
}

async function measure(job: object): Promise<Measured> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'test/helpers/analysis-memory-child.ts'), JSON.stringify(job)],
    { cwd: ROOT, maxBuffer: 1 << 24, timeout: 1_500_000 },
  );
  const m = JSON.parse(stdout.trim().split('\n').pop()!) as Measured;
  console.log(`${JSON.stringify(job)}: peak ${(m.maxRSS / GiB).toFixed(2)} GiB, ${m.seconds.toFixed(1)} s`);
  return m;
}

describe('analysis memory on long sequences', () => {
  it('2000 steps × 4 samples of 2×LSTM(128) peak at most 1.5 GiB', async () => {
    const m = await measure({ kind: 'LSTM', inputs: 64, units: 128, steps: 2000, layers: 2, samples: 4, batchSize: 4 });
    expect(m.maxRSS).toBeLessThanOrEqual(1.5 * GiB);
    expect(m.finiteNorms).toBe(true);
    expect(m.sumGap).toBeLessThan(1e-4);
    expect(m.warnings).not.toContain('contributions-sketched');
  }, 1_500_000);

  it('W-long (LSTM 32→256, 10,000 steps) is analysed in at most 2 GiB', async () => {
    const m = await measure({
      kind: 'LSTM',
      inputs: 32,
      units: 256,
      steps: 10_000,
      layers: 1,
      samples: 4,
      batchSize: 2,
    });
    expect(m.maxRSS).toBeLessThanOrEqual(2 * GiB);
    expect(m.finiteNorms).toBe(true);
    expect(m.sumGap).toBeLessThan(1e-4);
    expect(m.warnings).not.toContain('contributions-sketched');
  }, 1_500_000);
});
