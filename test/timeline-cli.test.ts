// `rnnscope analyze` of many checkpoints (a real training series written by rnnscope's own trainer
// in Keras' formats): the timeline in the JSON and the report, each point equal to the analysis
// of that checkpoint alone (`rnnscope analyze` of the one file), wildcards expanded by rnnscope,
// epoch order from the names, update ratios against an independent reader (h5py/zipfile/numpy).
import { chartIndex } from './helpers/report-files.js';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Analysis, AnalysisSet } from '../src/analysis/schema.js';
import { snapshotWeights, summarizePoint } from '../src/analysis/timeline.js';
import { loadModelFile } from '../src/io/node.js';
import { series, type Series } from './helpers/train-series.js';

const ROOT = path.join(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'rnnscope.js');
const PY = '/usr/bin/python3';
const hasPy = spawnSync(PY, ['-c', 'import h5py, numpy'], { stdio: 'ignore' }).status === 0;

function cli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd, env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 1 << 28 },
      (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
      },
    ),
  );
}

const json = (f: string) => JSON.parse(readFileSync(f, 'utf8'));
const DATA = ['--data', 'x.npy', '--targets', 'y.npy'];

let dir: string;
let s: Series;
// Epochs 1, 2, 3, 10 as ModelCheckpoint('ckpt/epoch{epoch}.keras') names them: alphabetical order
// would put epoch10 before epoch2.
const EPOCHS = [1, 2, 3, 10];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'rnnscope-tlcli-'));
  s = series(dir);
  s.writeData();
  mkdirSync(path.join(dir, 'ckpt'));
  mkdirSync(path.join(dir, 'w'));
  for (const [i, e] of EPOCHS.entries()) {
    writeFileSync(path.join(dir, 'ckpt', `epoch${e}.keras`), await s.next('keras', i > 0));
    // The same weights as tf.keras save_weights files named 'weights.{epoch}-{val_loss:.2f}.h5'.
    const legacy = await (await import('./helpers/keras-write.js')).legacyWeightsH5(s.model);
    writeFileSync(path.join(dir, 'w', `weights.${e}-0.${50 - e}.h5`), legacy);
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rnnscope analyze of a checkpoint series', () => {
  let set: AnalysisSet;
  const alone: Analysis[] = [];

  beforeAll(async () => {
    const r = await cli(['analyze', 'ckpt/*.keras', ...DATA, '--json', 'tl.json', '--out', 'report'], dir);
    expect(r.stderr).toMatch(
      // Charts with nothing to show (one batch of 24 samples: no batch distribution) are named after the count.
      /^Wrote tl\.json\nWrote the report: report\/index\.html\nWrote \d+ charts \(SVG and PNG\) under report\/charts, listed in report\/charts\/index\.json(\.|; left out, having nothing to show: Batch gradient norms and clipping [^\n]*)\n$/,
    );
    expect(r.code).toBe(0);
    set = json(path.join(dir, 'tl.json'));
    for (const e of EPOCHS) {
      const a = await cli(['analyze', `ckpt/epoch${e}.keras`, ...DATA, '--json', `alone${e}.json`, '-q'], dir);
      expect(a.code).toBe(0);
      alone.push(json(path.join(dir, `alone${e}.json`)));
    }
  }, 600_000);

  it('expands the quoted wildcard and orders the checkpoints by epoch', () => {
    expect(set.timeline!.points.map((p) => p.label)).toEqual(EPOCHS.map((e) => `epoch${e}.keras`));
    expect(set.timeline!.points.map((p) => p.epoch)).toEqual(EPOCHS);
    expect(set.timeline!.order).toBe('name');
    expect(set.title).toBe('Training timeline of adding_lstm: 4 checkpoints, epoch 1 to epoch 10');
  });

  it('every point equals the summary of `rnnscope analyze` of that checkpoint alone', async () => {
    for (const [k, e] of EPOCHS.entries()) {
      const file = path.join(dir, 'ckpt', `epoch${e}.keras`);
      const m = await loadModelFile(file);
      const prev =
        k > 0
          ? {
              index: k - 1,
              weights: snapshotWeights(await loadModelFile(path.join(dir, 'ckpt', `epoch${EPOCHS[k - 1]}.keras`))),
            }
          : null;
      const want = summarizePoint(alone[k]!, snapshotWeights(m), prev, {
        index: k,
        label: `epoch${e}.keras`,
        epoch: e,
        batch: null,
      });
      expect(JSON.parse(JSON.stringify(set.timeline!.points[k]))).toEqual(JSON.parse(JSON.stringify(want)));
    }
  });

  it('keeps the full analyses, equal to the single ones', () => {
    expect(set.runs).toHaveLength(4);
    // The per-sample drill-down is kept for the latest checkpoint only (docs/analysis-schema.md).
    expect(set.runs.map((a) => a.samples !== undefined)).toEqual([false, false, false, true]);
    set.runs.forEach((a, k) =>
      expect({ ...a, run: { ...a.run, index: 0 } }).toEqual(
        k === set.runs.length - 1 ? alone[k] : { ...alone[k]!, samples: undefined },
      ),
    );
  });

  it('writes the timeline charts and the "Over training" panel into the report', () => {
    const charts = chartIndex(path.join(dir, 'report')).charts.filter((c) => c.png !== null);
    for (const id of ['timeline-heatmap', 'timeline-scalars', 'timeline-gates', 'timeline-updates', 'timeline-bands'])
      expect(charts.map((c) => c.chart)).toContain(id);
    expect(readFileSync(path.join(dir, 'report', 'index.html'), 'utf8')).toContain('<h2>Over training</h2>');
    expect(json(path.join(dir, 'report', 'analysis.json'))).toEqual(set);
  });

  it.skipIf(!hasPy)(
    "the checkpoint files read by h5py/zipfile hold the trained weights, and numpy's update ratios equal the timeline's",
    () => {
      const files = EPOCHS.map((e) => path.join(dir, 'ckpt', `epoch${e}.keras`));
      const out = JSON.parse(
        spawnSync(PY, [path.join(ROOT, 'test/helpers/ckpt_oracle.py'), '4', ...files], { encoding: 'utf8' }).stdout,
      );
      s.snapshots.forEach((m, k) => {
        const k32 = Float32Array.from(m.weights.get('lstm/kernel')!.data as ArrayLike<number>);
        expect(out.sums[k]['lstm/0'][0]).toBeCloseTo(
          k32.reduce((a, v) => a + v, 0),
          9,
        );
      });
      const groups = ['kernel', 'recurrent_kernel', 'bias'],
        gates = ['i', 'f', 'c', 'o'];
      out.ratios.forEach((r: Record<string, number | null>, k: number) => {
        for (const [key, want] of Object.entries(r)) {
          const [, vi, g] = key.split('/');
          const got = set.timeline!.points[k + 1]!.updates.ratios.find(
            (u) => u.key === `lstm/${groups[Number(vi)]}` && u.gate === gates[Number(g)],
          )!.ratio;
          if (want === null) expect(got).toBeNull();
          else expect(Math.abs(got! - want) / want).toBeLessThan(1e-10);
        }
      });
    },
  );
});

describe('weights-only checkpoints with the architecture', () => {
  it("--weights 'w/weights.*.h5' (tf.keras save_weights names) gives the same timeline", async () => {
    const r = await cli(
      ['analyze', 'arch.json', '--weights', 'w/weights.*.h5', ...DATA, '--json', 'w.json', '-q'],
      dir,
    );
    expect(r.code).toBe(0);
    const w: AnalysisSet = json(path.join(dir, 'w.json'));
    const k: AnalysisSet = json(path.join(dir, 'tl.json'));
    expect(w.timeline!.points.map((p) => p.epoch)).toEqual(EPOCHS);
    const strip = (t: AnalysisSet) => t.timeline!.points.map(({ label: _l, findings: _f, ...p }) => p);
    expect(strip(w)).toEqual(strip(k));
  }, 300_000);

  it('a wildcard that matches nothing is a usage error naming it', async () => {
    const r = await cli(['analyze', 'arch.json', '--weights', 'w/nothing-*.h5', ...DATA], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("No file matches the --weights pattern 'w/nothing-*.h5'");
  }, 120_000);
});

describe('many checkpoints', () => {
  it('keeps 12 analyses in full (first and last among them) and all 14 in the timeline', async () => {
    const d = path.join(dir, 'many');
    const t = series(d, { steps: 8, units: 3, samples: 8, every: 3, seed: 5 });
    t.writeData();
    mkdirSync(path.join(d, 'ckpt'));
    for (let e = 1; e <= 14; e++)
      writeFileSync(path.join(d, 'ckpt', `e${String(e).padStart(2, '0')}.keras`), await t.next('keras', e > 1));
    const r = await cli(['analyze', 'ckpt/*.keras', ...DATA, '--json', 'm.json', '-q'], d);
    expect(r.code).toBe(0);
    const m: AnalysisSet = json(path.join(d, 'm.json'));
    expect(m.timeline!.points).toHaveLength(14);
    expect(m.runs).toHaveLength(12);
    expect(m.runs[0]!.run.label).toBe('e01.keras');
    expect(m.runs[11]!.run.label).toBe('e14.keras');
    expect(m.runs.map((a) => a.run.index)).toEqual([...Array(12).keys()]);
    expect(m.title).toContain('(12 of them in full)');
    expect(existsSync(path.join(d, 'report'))).toBe(false);
  }, 600_000);
});

describe('a run that diverged', () => {
  it('the checkpoint with NaN weights is a diverged point; the analysis goes on', async () => {
    const d = path.join(dir, 'nan');
    const t = series(d, { steps: 8, units: 3, samples: 8, every: 3, seed: 6 });
    t.writeData();
    mkdirSync(path.join(d, 'ckpt'));
    for (let e = 1; e <= 2; e++) writeFileSync(path.join(d, 'ckpt', `e${e}.keras`), await t.next('keras', e > 1));
    const good = t.snapshots[1]!;
    const rk = t.model.weights.get('lstm/recurrent_kernel')!;
    (rk.data as Float64Array)[0] = Number.NaN;
    writeFileSync(path.join(d, 'ckpt', 'e3.keras'), await t.next('keras', false));
    // Training resumed from the last finite weights.
    for (const [k, w] of good.weights)
      t.model.weights.set(k, { shape: [...w.shape], data: Float64Array.from(w.data as ArrayLike<number>) });
    writeFileSync(path.join(d, 'ckpt', 'e4.keras'), await t.next('keras'));
    const r = await cli(['analyze', 'ckpt/*.keras', ...DATA, '--json', 'n.json', '-q'], d);
    expect(r.code).toBe(0);
    const n: AnalysisSet = json(path.join(d, 'n.json'));
    expect(n.timeline!.points.map((p) => [p.label, p.nonFiniteWeights, p.updates.from])).toEqual([
      ['e1.keras', 0, null],
      ['e2.keras', 0, 0],
      ['e3.keras', 1, null],
      ['e4.keras', 0, 1],
    ]);
    expect(n.runs.map((a) => a.run.label)).toEqual(['e1.keras', 'e2.keras', 'e4.keras']);
    expect(n.timeline!.findings[0]!.message).toBe(
      'Training diverged: epoch 3 holds 1 NaN/Inf weight value(s) (in lstm/recurrent_kernel); the last checkpoint before it with finite weights is epoch 2. 1 of 4 checkpoints is diverged.',
    );
  }, 300_000);
});
