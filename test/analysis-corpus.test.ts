// The whole analysis on every real corpus model (random seeded inputs, the model's own objective):
// it runs, its numbers are finite where they must be, the per-step contributions add up to the
// gradient blocks, and the JSON validates against the schema.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../src/analysis/analyze.js';
import { validateAnalysis } from '../src/analysis/validate.js';
import { loadModelFile } from '../src/io/node.js';
import { CORPUS, CORPUS_MAIN } from './helpers/corpus.js';

// The Theano twin of k1_dl4j_simple_lstm_tf adds nothing here.
const MODELS = Object.fromEntries(Object.entries(CORPUS_MAIN).filter(([n]) => n !== 'k1_dl4j_simple_lstm_theano'));

describe('analysis of every corpus model', () => {
  for (const [name, [main, weights]] of Object.entries(MODELS)) {
    it(name, async () => {
      const dir = path.join(CORPUS, name);
      const m = await loadModelFile(path.join(dir, main), weights ? { weights: path.join(dir, weights) } : {});
      const { analysis } = analyzeModel(
        m,
        { inputs: null, targets: null },
        { maxSamples: 6, batchSize: 4, randomSteps: 20, jacobianSamples: 2, jacobianIterations: 4 },
      );
      validateAnalysis(JSON.parse(JSON.stringify(analysis)));
      expect(analysis.objective.warnings.map((w) => w.code)).toContain('random-data');
      expect(analysis.recurrent.length).toBeGreaterThan(0);
      for (const ra of analysis.recurrent) {
        expect(ra.dh.norm.every((v) => v !== null)).toBe(true);
        for (const c of ra.contributions) {
          const p = analysis.params.find(
            (q) => q.layer === ra.layer && q.direction === ra.direction && q.name === c.group,
          )!;
          const g = p.blocks!.find((b) => b.gate === c.gate)!.gradNorm!;
          if (g > 1e-20) expect(Math.abs(c.total! - g) / g).toBeLessThan(1e-4);
        }
      }
      expect(analysis.params.every((p) => p.nan === 0 && p.inf === 0)).toBe(true);
    });
  }
});
