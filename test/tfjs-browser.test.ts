// rnnscope/tfjs in the browser: a page bundled for the browser (esbuild, platform 'browser', so a
// node:* import would fail the build) trains a tf.layers LSTM in Chromium with rnnscopeCallback
// and out = an element; the timeline and its charts are drawn into it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { launchChromium, serveStatic, watchPage } from './helpers/browser.js';

const ROOT = path.join(import.meta.dirname, '..');
const dir = mkdtempSync(path.join(tmpdir(), 'rnnscope-tfjs-web-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ENTRY = `
import * as tf from '@tensorflow/tfjs';
import { rnnscopeCallback } from ${JSON.stringify(path.join(ROOT, 'src', 'tfjs-callback.ts'))};
window.run = async () => {
  await tf.setBackend('cpu');
  const m = tf.sequential();
  m.add(tf.layers.lstm({ units: 5, inputShape: [10, 2] }));
  m.add(tf.layers.dense({ units: 1 }));
  m.compile({ optimizer: tf.train.adam(0.02), loss: 'meanSquaredError' });
  const x = tf.randomUniform([24, 10, 2], -1, 1, 'float32', 3);
  const y = x.slice([0, 0, 0], [24, 1, 1]).reshape([24, 1]);
  const out = document.getElementById('out');
  const cb = rnnscopeCallback({ data: x, targets: y, every: 1, out });
  await m.fit(x, y, { epochs: 2, batchSize: 12, callbacks: [cb], verbose: 0 });
  return {
    labels: cb.timeline.points.map((p) => p.label),
    loss: cb.timeline.points.map((p) => p.loss),
    charts: [...out.querySelectorAll('.rnnscope-chart')].map((c) => c.dataset.chart + ':' + c.querySelectorAll('svg.marks').length),
    heading: out.querySelector('h3').textContent,
  };
};
`;

describe('rnnscopeCallback in the browser', () => {
  it('trains in Chromium and draws the timeline charts into the element', async () => {
    writeFileSync(path.join(dir, 'entry.js'), ENTRY);
    const r = await build({
      entryPoints: [path.join(dir, 'entry.js')],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      outfile: path.join(dir, 'bundle.js'),
      nodePaths: [path.join(ROOT, 'node_modules')],
      logLevel: 'silent',
    });
    expect(r.errors).toEqual([]);
    writeFileSync(
      path.join(dir, 'index.html'),
      '<!DOCTYPE html><meta charset="utf-8"><link rel="icon" href="data:,"><div id="out"></div><script src="bundle.js"></script>',
    );
    const server = await serveStatic(dir, { isolated: false });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const problems = watchPage(page, server.url.replace(/\/$/, ''));
      await page.goto(`${server.url}index.html`);
      const got = await page.evaluate(() =>
        (
          window as unknown as {
            run: () => Promise<{ labels: string[]; loss: number[]; charts: string[]; heading: string }>;
          }
        ).run(),
      );
      expect(got.labels).toEqual(['epoch 0', 'epoch 1', 'epoch 2']);
      expect(got.loss.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
      expect(got.charts).toEqual([
        'timeline-heatmap:1',
        'timeline-scalars:1',
        'timeline-gates:1',
        'timeline-updates:1',
        'timeline-bands:1',
      ]);
      expect(got.heading).toMatch(/: 3 checkpoints$/);
      expect(problems.filter((p) => !p.includes('TensorFlow.js') && !/backend/i.test(p))).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
    }
  }, 600_000);
});
