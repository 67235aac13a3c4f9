// rnnscope/tfjs: a real tf.layers LSTM trained by model.fit with rnnscopeCallback in Node. Each
// point is checked against TF.js itself at that moment (its loss from model.evaluate, its global
// gradient norm from tf.variableGrads), the folder output is written, and the same training saved
// each epoch with model.save (model.json + weights.bin, as tfjs-node's file:// writes them) gives
// the same timeline through `rnnscope watch --once`.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import type { AnalysisSet } from '../src/analysis/schema.js';
import { encodeNpy } from '../src/io/npz-write.js';
import { rnnscopeCallback } from '../src/tfjs-callback.js';

const ROOT = path.join(import.meta.dirname, '..');
const dir = mkdtempSync(path.join(tmpdir(), 'rnnscope-tfjs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T = 12,
  I = 3,
  N = 32;

function makeModel(): tf.Sequential {
  const m = tf.sequential();
  m.add(
    tf.layers.lstm({
      units: 6,
      inputShape: [T, I],
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      recurrentInitializer: tf.initializers.orthogonal({ seed: 2 }),
    }),
  );
  m.add(tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }));
  m.compile({ optimizer: tf.train.adam(0.02), loss: 'meanSquaredError' });
  return m;
}

const x = tf.randomUniform([N, T, I], -1, 1, 'float32', 7);
// The target is the first step's first feature: the gradient has to reach back T steps.
const y = x.slice([0, 0, 0], [N, 1, 1]).reshape([N, 1]);

/** TF.js's own loss and ‖∇L‖ over all trainable weights on (x, y), for the model as it is now. */
function tfjsTruth(m: tf.LayersModel): { loss: number; norm: number } {
  return tf.tidy(() => {
    const f = () => tf.losses.meanSquaredError(y, m.apply(x) as tf.Tensor) as tf.Scalar;
    const { value, grads } = tf.variableGrads(
      f,
      m.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val),
    );
    let sq = 0;
    for (const g of Object.values(grads)) sq += g.square().sum().dataSync()[0] as number;
    return { loss: value.dataSync()[0]!, norm: Math.sqrt(sq) };
  });
}

describe('rnnscopeCallback in model.fit (Node)', () => {
  const truth: { loss: number; norm: number }[] = [];
  let cbSet: AnalysisSet | null = null;
  const ckpt = path.join(dir, 'ckpt');

  it("analyses the live model every epoch; loss and gradient norm equal TF.js's own", async () => {
    const m = makeModel();
    const cb = rnnscopeCallback({ data: x, targets: y, every: 1, out: path.join(dir, 'out') });
    const oracle = new (class extends tf.Callback {
      override async onTrainBegin() {
        truth.push(tfjsTruth(this.model));
        await save(this.model, 0);
      }
      override async onEpochEnd(epoch: number) {
        truth.push(tfjsTruth(this.model));
        await save(this.model, epoch + 1);
      }
    })();
    await m.fit(x, y, { epochs: 4, batchSize: 16, shuffle: false, callbacks: [cb, oracle], verbose: 0 });
    const t = cb.timeline;
    expect(t.points.map((p) => p.label)).toEqual(['epoch 0', 'epoch 1', 'epoch 2', 'epoch 3', 'epoch 4']);
    t.points.forEach((p, k) => {
      expect(Math.abs(p.loss! - truth[k]!.loss) / truth[k]!.loss).toBeLessThan(1e-4);
      expect(Math.abs(p.gradNorm! - truth[k]!.norm) / truth[k]!.norm).toBeLessThan(2e-3);
    });
    // Training changed the weights between the analyses, and the timeline measured it.
    expect(
      t.points[2]!.updates.ratios.find((u) => u.key.endsWith('recurrent_kernel') && u.gate === 'f')!.ratio,
    ).toBeGreaterThan(0);
    expect(t.points[0]!.loss).not.toBe(t.points[4]!.loss);
    cbSet = cb.latest;
  }, 600_000);

  it('writes the snapshot folder (page and analysis JSON) after each analysis', () => {
    const json: AnalysisSet = JSON.parse(readFileSync(path.join(dir, 'out', 'analysis.json'), 'utf8'));
    expect(json.timeline!.points).toHaveLength(5);
    expect(readFileSync(path.join(dir, 'out', 'index.html'), 'utf8')).toContain('<h2>Over training</h2>');
  });

  it('the same training saved each epoch by model.save gives the same timeline through rnnscope watch --once', async () => {
    writeFileSync(path.join(dir, 'x.npy'), encodeNpy({ shape: [N, T, I], data: x.dataSync() as Float32Array }));
    writeFileSync(path.join(dir, 'y.npy'), encodeNpy({ shape: [N, 1], data: y.dataSync() as Float32Array }));
    const err = await new Promise<string>((resolve) =>
      execFile(
        process.execPath,
        [
          path.join(ROOT, 'bin', 'rnnscope.js'),
          'watch',
          'ckpt',
          '--data',
          'x.npy',
          '--targets',
          'y.npy',
          '--once',
          '--no-serve',
          '--settle',
          '0',
          '--out',
          'report',
        ],
        { cwd: dir, maxBuffer: 1 << 26 },
        (e, _o, stderr) => resolve(e ? `exit ${String((e as { code?: unknown }).code)}: ${stderr}` : stderr),
      ),
    );
    expect(err).toMatch(/✓ epoch004 \(epoch 4\)/);
    const w: AnalysisSet = JSON.parse(readFileSync(path.join(dir, 'report', 'analysis.json'), 'utf8'));
    const strip = (s: AnalysisSet) => s.timeline!.points.map(({ label: _l, seconds: _s, ...p }) => p);
    expect(w.timeline!.points.map((p) => p.label)).toEqual([
      'epoch000',
      'epoch001',
      'epoch002',
      'epoch003',
      'epoch004',
    ]);
    expect(strip(w)).toEqual(strip(cbSet!));
  }, 600_000);

  async function save(m: tf.LayersModel, epoch: number): Promise<void> {
    // What tfjs-node's file:// handler writes: model.json (topology + weightsManifest) and weights.bin.
    const folder = path.join(ckpt, `epoch${String(epoch).padStart(3, '0')}`);
    await m.save(
      tf.io.withSaveHandler(async (a) => {
        mkdirSync(folder, { recursive: true });
        writeFileSync(path.join(folder, 'weights.bin'), new Uint8Array(a.weightData as ArrayBuffer));
        writeFileSync(
          path.join(folder, 'model.json'),
          JSON.stringify({
            modelTopology: a.modelTopology,
            format: a.format,
            generatedBy: a.generatedBy,
            convertedBy: a.convertedBy,
            weightsManifest: [{ paths: ['./weights.bin'], weights: a.weightSpecs }],
          }),
        );
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
  }
});

describe('a run that diverges', () => {
  it('records the epoch whose weights hold NaN and goes on', async () => {
    const m = makeModel();
    const cb = rnnscopeCallback({ data: x, targets: y, every: 1, initial: false });
    const breaker = new (class extends tf.Callback {
      override async onEpochEnd(epoch: number) {
        if (epoch !== 1) return;
        // Sequential.fit hands callbacks its inner functional model, whose first layer is the InputLayer.
        const lstm = this.model.layers.find((l) => l.getClassName() === 'LSTM')!;
        const w = lstm.getWeights();
        lstm.setWeights([tf.fill(w[0]!.shape, Number.NaN), ...w.slice(1)]);
      }
    })();
    // The breaker runs before rnnscope's callback, so epoch 2's analysis sees the NaN kernel.
    await m.fit(x, y, { epochs: 3, batchSize: 16, shuffle: false, callbacks: [breaker, cb], verbose: 0 });
    const t = cb.timeline;
    expect(t.points.map((p) => [p.label, p.nonFiniteWeights > 0])).toEqual([
      ['epoch 1', false],
      ['epoch 2', true],
      ['epoch 3', true],
    ]);
    expect(t.findings[0]!.message).toMatch(
      /^Training diverged: epoch 2 holds 72 NaN\/Inf weight value\(s\) \(in lstm_LSTM\d+\/kernel\); the last checkpoint before it with finite weights is epoch 1\. 2 of 3 checkpoints are diverged\.$/,
    );
  }, 600_000);
});

describe('every N batches', () => {
  it('labels points with epoch and batch', async () => {
    const m = makeModel();
    const cb = rnnscopeCallback({ data: x, targets: y, every: { batches: 1 }, initial: false });
    await m.fit(x, y, { epochs: 2, batchSize: 16, shuffle: false, callbacks: [cb], verbose: 0 });
    expect(cb.timeline.points.map((p) => [p.epoch, p.batch])).toEqual([
      [1, 1],
      [1, 2],
      [2, 1],
      [2, 2],
    ]);
  }, 600_000);
});
