// The loaders in the browser build: every corpus model handed to the lab page (web/lab.html) as
// File objects, loaded there by the same src/io code (h5wasm's browser ESM build, fflate), and
// compared with Node (src/io/node.ts loadModelFile → src/engine/run.ts predict): layer list,
// parameter count (also against Keras's own, from manifest.json), summary, outputs on fixed
// inputs (bit for bit, or within 1e-6), and the gradient of ½‖y‖². The refused textgenrnn model
// gives the same typed error, word for word.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { loadModelFile } from '../src/io/node.js';
import { fileSetFromMap, openModel } from '../src/io/index.js';
import { jsKernels } from '../src/engine/kernels.js';
import { randomInputs } from '../src/analysis/objective.js';
import type { ModelSpec } from '../src/model/types.js';
import {
  forward,
  gradientDigest,
  modelFacts,
  toPlain,
  type GradDigest,
  type ModelFacts,
  type PlainTensor,
} from '../web/compute.js';
import { chooseModelFiles, roleOf } from '../web/model-files.js';
import type { LabApi, LabResult } from '../web/lab.js';
import { CORPUS, CORPUS_MAIN } from './helpers/corpus.js';
import {
  buildWebTemp,
  launchChromium,
  serveStatic,
  watchPage,
  type StaticServer,
  type WebBuild,
} from './helpers/browser.js';

const IO = path.join(import.meta.dirname, 'fixtures', 'io');

interface ManifestEntry {
  name: string;
  model_files: string[];
  param_check: string;
}
const MANIFEST: ManifestEntry[] = JSON.parse(readFileSync(path.join(CORPUS, 'manifest.json'), 'utf8'));

/** Main file and weights file the page must pick among each model's files (manifest model_files). */
const EXPECTED_PICK = CORPUS_MAIN;
const REFUSED = 'w_textgenrnn_cudnnlstm_attention';

/** Input the page's own sample run uses (web/lab.ts SAMPLE), and the test's own fixed input. */
const PAGE_SAMPLE = { n: 2, steps: 20, seed: 1 };
const FIXED = { n: 3, steps: 17, seed: 7 };

let build: WebBuild;
let server: StaticServer;
let browser: Browser;
let page: Page;
let problems: string[];
/** Per model: whether outputs and gradients were bit-identical (printed at the end). */
const agreement: { model: string; outputs: string; gradient: string }[] = [];

beforeAll(async () => {
  build = await buildWebTemp();
  server = await serveStatic(build.outdir);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  problems = watchPage(page, server.url);
  await page.goto(`${server.url}lab.html`);
  await page.waitForFunction(() => document.body.dataset['ready'] === 'true');
});

afterAll(async () => {
  if (agreement.length)
    console.log(
      `browser vs Node (loaders):\n${agreement.map((a) => `  ${a.model.padEnd(46)} outputs ${a.outputs}; gradient ${a.gradient}`).join('\n')}`,
    );
  await browser?.close();
  await server?.close();
  build?.remove();
});

const lab = (p: Page) => ({
  /** Picks `files` in the given <input> (#files or #folder) and waits for the page to finish loading them. */
  async pick(files: string | string[], input = '#files'): Promise<LabResult> {
    const before = await p.evaluate(() => Number(document.body.dataset['loads'] ?? 0));
    await p.setInputFiles(input, files);
    await p.waitForFunction((n) => Number(document.body.dataset['loads'] ?? 0) > n, before, { timeout: 60_000 });
    return p.evaluate(() => (globalThis as unknown as { rnnscopeLab: LabApi }).rnnscopeLab.last!);
  },
  predict: (inputs: PlainTensor[]) =>
    p.evaluate((xs) => (globalThis as unknown as { rnnscopeLab: LabApi }).rnnscopeLab.predict(xs, 'js'), inputs),
  gradient: (inputs: PlainTensor[]) =>
    p.evaluate((xs) => (globalThis as unknown as { rnnscopeLab: LabApi }).rnnscopeLab.gradient(xs, 'js'), inputs),
});

/** Largest |a − b| / max(1, |b|) over all outputs; shapes must match exactly. */
function maxRelDiff(a: PlainTensor[], b: PlainTensor[]): number {
  expect(a.map((t) => t.shape)).toEqual(b.map((t) => t.shape));
  let worst = 0;
  a.forEach((t, i) =>
    t.data.forEach((v, j) => {
      const w = b[i]!.data[j]!;
      expect(Number.isFinite(v), `output ${i}[${j}] finite`).toBe(true);
      worst = Math.max(worst, Math.abs(v - w) / Math.max(1, Math.abs(w)));
    }),
  );
  return worst;
}

const bitIdentical = (a: PlainTensor[], b: PlainTensor[]) =>
  a.every((t, i) => t.data.every((v, j) => Object.is(v, b[i]!.data[j])));

function expectSameGradient(
  got: { loss: number; grads: GradDigest[] },
  want: { loss: number; grads: GradDigest[] },
): boolean {
  expect(got.grads.map((g) => [g.key, g.shape])).toEqual(want.grads.map((g) => [g.key, g.shape]));
  expect(Math.abs(got.loss - want.loss)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want.loss)));
  got.grads.forEach((g, i) => {
    const w = want.grads[i]!;
    // Σg and ‖g‖ agree to float32 rounding of the whole array when the arrays agree elementwise.
    expect(Math.abs(g.sum - w.sum), `Σ ∂L/∂${g.key}`).toBeLessThanOrEqual(1e-6 * Math.max(w.absSum, 1e-30));
    expect(Math.abs(g.norm - w.norm), `‖∂L/∂${g.key}‖`).toBeLessThanOrEqual(1e-6 * Math.max(w.norm, 1e-30));
  });
  return got.grads.every((g, i) => g.hash === want.grads[i]!.hash);
}

/** What Node computes for a model: facts, the page's sample run, and the fixed input's outputs and gradient. */
function nodeSide(m: ModelSpec) {
  const sample = randomInputs(m, PAGE_SAMPLE.n, PAGE_SAMPLE.steps, PAGE_SAMPLE.seed).map(toPlain);
  const fixed = randomInputs(m, FIXED.n, FIXED.steps, FIXED.seed).map(toPlain);
  return {
    facts: modelFacts(m),
    sample,
    sampleOut: forward(m, sample, jsKernels),
    fixed,
    fixedOut: forward(m, fixed, jsKernels),
    fixedGrad: gradientDigest(m, fixed, jsKernels),
  };
}

/** Node's facts with the model files' folder removed from messages (the page knows only base names). */
function portable(f: ModelFacts, dir: string): ModelFacts {
  return { ...f, warnings: f.warnings.map((w) => w.split(dir + path.sep).join('')) };
}

describe('every corpus model loads in Chromium exactly as in Node', () => {
  for (const entry of MANIFEST) {
    if (entry.name === REFUSED) continue;
    it(entry.name, async () => {
      const pick = EXPECTED_PICK[entry.name];
      expect(pick, `expected pick for ${entry.name}`).toBeDefined();
      const dir = path.join(CORPUS, entry.name);
      const [main, weights] = pick!;
      const m = await loadModelFile(path.join(dir, main), weights ? { weights: path.join(dir, weights) } : {});
      const node = nodeSide(m);
      const keras = Number(/\((\d+) params\)/.exec(entry.param_check)![1]);
      expect(node.facts.params.total).toBe(keras);

      const r = await lab(page).pick(entry.model_files.map((f) => path.join(dir, f)));
      expect(r.error).toBeNull();
      expect(r.choice?.main).toBe(main);
      expect(r.choice?.weights ?? undefined).toBe(weights);
      expect(r.facts).toEqual(portable(node.facts, dir));
      expect(r.facts!.params.total).toBe(keras);

      // The page's own sample run: the same seeded inputs (to the last ulp of a double: randomInputs'
      // Box–Muller uses Math.log and Math.cos, which differ in the last bit between Node 20's V8
      // and Chromium's on some arguments), and the same outputs.
      expect(maxRelDiff(r.run!.inputs, node.sample)).toBeLessThanOrEqual(1e-14);
      expect(maxRelDiff(r.run!.outputs, node.sampleOut)).toBeLessThanOrEqual(1e-6);

      // A fixed input chosen by the test.
      const out = await lab(page).predict(node.fixed);
      expect(maxRelDiff(out, node.fixedOut)).toBeLessThanOrEqual(1e-6);
      const sameGrad = expectSameGradient(await lab(page).gradient(node.fixed), node.fixedGrad);
      expect(
        node.fixedGrad.grads.some((g) => g.norm > 0),
        'a non-zero gradient somewhere',
      ).toBe(true);
      agreement.push({
        model: entry.name,
        outputs:
          bitIdentical(out, node.fixedOut) && bitIdentical(r.run!.outputs, node.sampleOut)
            ? 'bit-identical'
            : `max rel diff ${maxRelDiff(out, node.fixedOut).toExponential(2)}`,
        gradient: sameGrad ? 'bit-identical' : 'within 1e-6',
      });
      expect(problems).toEqual([]);
    });
  }

  it('every corpus model is covered', () => {
    expect(
      MANIFEST.map((e) => e.name)
        .filter((n) => n !== REFUSED)
        .sort(),
    ).toEqual(Object.keys(EXPECTED_PICK).sort());
  });
});

describe('refusals carry the same typed error in Chromium as in Node', () => {
  const weightsFile = path.join(CORPUS, REFUSED, 'textgenrnn_weights.hdf5');

  it(`${REFUSED}: the weights alone are refused because the architecture is not in the file`, async () => {
    const nodeErr = await loadModelFile(weightsFile).then(
      () => null,
      (e: Error) => e,
    );
    expect(nodeErr?.name).toBe('LoadError');
    // In memory (the browser's path in Node) the file is named by its base name, as in the page.
    const memErr = await openModel(
      fileSetFromMap('textgenrnn_weights.hdf5', {
        'textgenrnn_weights.hdf5': new Uint8Array(readFileSync(weightsFile)),
      }),
    ).then(
      () => null,
      (e: Error) => e,
    );
    expect(memErr?.message).toBe(nodeErr!.message.split(weightsFile).join('textgenrnn_weights.hdf5'));

    const r = await lab(page).pick(
      MANIFEST.find((e) => e.name === REFUSED)!.model_files.map((f) => path.join(CORPUS, REFUSED, f)),
    );
    expect(r.facts).toBeNull();
    expect(r.error).toEqual({ name: 'LoadError', stage: 'load', message: memErr!.message });
    expect(r.error!.message).toMatch(
      /^textgenrnn_weights\.hdf5 holds only weights \(written by save_weights\), so the architecture is not in the file;/,
    );
    await expect(page.locator('#error-class').textContent()).resolves.toBe('LoadError');
    await expect(page.locator('#error-message').textContent()).resolves.toBe(memErr!.message);
    await expect(page.locator('body').getAttribute('data-state')).resolves.toBe('error');
    expect(problems).toEqual([]);
  });

  it(`${REFUSED}: its reconstructed architecture is refused at the custom AttentionWeightedAverage, by name`, async () => {
    const arch = path.join(IO, 'textgenrnn_architecture.json');
    const nodeErr = await loadModelFile(arch, { weights: weightsFile }).then(
      () => null,
      (e: Error) => e,
    );
    expect(nodeErr?.name).toBe('ModelError');
    const r = await lab(page).pick([arch, weightsFile]);
    expect(r.choice).toMatchObject({ main: 'textgenrnn_architecture.json', weights: 'textgenrnn_weights.hdf5' });
    expect(r.error).toEqual({
      name: 'ModelError',
      stage: 'model',
      message: nodeErr!.message
        .split(IO + path.sep)
        .join('')
        .split(path.join(CORPUS, REFUSED) + path.sep)
        .join(''),
    });
    expect(r.error!.message).toMatch(
      /^Layer 'attention' \(AttentionWeightedAverage\) is not a Keras layer; it is a class defined in Python outside Keras .*the file holds its configuration but not its code/,
    );
    expect(problems).toEqual([]);
  });
});

describe('choosing the model among many files', () => {
  it('a whole corpus folder (full model, architecture, weights, data) loads the architecture with its weights file', async () => {
    const dir = path.join(CORPUS, 'k1_dl4j_simple_lstm_tf');
    const all = readdirSync(dir).sort();
    const r = await lab(page).pick(all.map((f) => path.join(dir, f)));
    expect(r.choice).toMatchObject({
      main: 'simple_lstm_tf_keras_1_config.json',
      weights: 'simple_lstm_tf_keras_1_weights.h5',
    });
    expect(r.error).toBeNull();
    const m = await loadModelFile(path.join(dir, 'simple_lstm_tf_keras_1_config.json'), {
      weights: path.join(dir, 'simple_lstm_tf_keras_1_weights.h5'),
    });
    expect(r.facts).toEqual(portable(modelFacts(m), dir));
    expect(bitIdentical(r.run!.outputs, forward(m, r.run!.inputs, jsKernels))).toBe(true);
  });

  it('the roles the page shows are those chooseModelFiles computes in Node', async () => {
    const dir = path.join(CORPUS, 'tfjs_reiinakano_textgen_lstm_legacy_format');
    const names = readdirSync(dir).sort();
    const r = await lab(page).pick(names.map((f) => path.join(dir, f)));
    const picked = names.map((n) => ({ name: n, bytes: new Uint8Array(readFileSync(path.join(dir, n))) }));
    expect(r.choice).toEqual(chooseModelFiles(picked));
    expect(r.files.map((f) => f.role)).toEqual(picked.map(roleOf));
    expect(r.files.map((f) => f.role)).toEqual(picked.map((f) => chooseModelFiles(picked)!.roles[f.name]));
    expect(r.choice!.roles['char_indices.json']).toBe('other');
    expect(r.choice!.main).toBe('model.json');
  });

  it('a folder pick (webkitdirectory): an unzipped .keras and a TF.js folder with shards', async () => {
    for (const [sub, main] of [
      ['k3_folder', 'config.json'],
      ['tfjs_groups', 'model.json'],
    ] as const) {
      const r = await lab(page).pick(path.join(IO, sub), '#folder');
      expect(r.error).toBeNull();
      expect(r.choice!.main).toBe(`${sub}/${main}`);
      const m = await loadModelFile(path.join(IO, sub));
      expect(r.facts!.summary).toBe(modelFacts(m).summary);
      expect(bitIdentical(r.run!.outputs, forward(m, r.run!.inputs, jsKernels))).toBe(true);
    }
  });

  it('the page shows the summary, the outputs and a gradient row per parameter (screenshot kept with RNNSCOPE_KEEP_WEB)', async () => {
    const dir = path.join(CORPUS, 'w_chen_ecg_bilstm_autoencoder');
    const r = await lab(page).pick(
      MANIFEST.find((e) => e.name === 'w_chen_ecg_bilstm_autoencoder')!.model_files.map((f) => path.join(dir, f)),
    );
    await expect(page.locator('#summary').textContent()).resolves.toBe(r.facts!.summary);
    await expect(page.locator('#grad-table tbody tr').count()).resolves.toBe(r.run!.grads.length);
    await expect(page.locator('#output-table tbody tr').count()).resolves.toBe(1);
    expect(await page.locator('#error-view').isHidden()).toBe(true);
    if (process.env.RNNSCOPE_KEEP_WEB)
      await page.screenshot({ path: path.join(process.env.RNNSCOPE_KEEP_WEB, 'lab.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
