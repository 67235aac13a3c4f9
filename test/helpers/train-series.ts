// A real checkpoint series on disk: the demo's model (src/analysis/demo.ts) trained with Adam by
// rnnscope's own engine, a checkpoint written after each "epoch" in the format Keras'
// ModelCheckpoint writes (keras-write.ts), plus the fixed data (x.npy, y.npy) and arch.json.

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { addingProblem, buildDemoModel, demoConfig, train } from '../../src/analysis/demo.js';
import { encodeNpy } from '../../src/io/npz-write.js';
import { makeRng } from '../../src/engine/rng.js';
import type { ModelSpec } from '../../src/model/types.js';
import { kerasArchive, kerasWeightsStore, legacyWeightsH5 } from './keras-write.js';

export type CkptFormat = 'keras' | 'weights.h5' | 'legacy-h5';

export interface SeriesSpec {
  kind?: 'LSTM' | 'GRU' | 'SimpleRNN';
  steps?: number;
  units?: number;
  samples?: number;
  /** Adam steps between checkpoints. */
  every?: number;
  seed?: number;
}

export class Series {
  readonly model: ModelSpec;
  readonly config: unknown;
  private readonly rng;
  /** Weights of each checkpoint made so far (copies). */
  readonly snapshots: ModelSpec[] = [];

  constructor(
    readonly dir: string,
    readonly s: Required<SeriesSpec>,
  ) {
    this.rng = makeRng(s.seed);
    this.model = buildDemoModel(s.kind, s.steps, s.units, this.rng);
    this.config = demoConfig(s.kind, s.steps, s.units);
  }

  /** Writes x.npy, y.npy (a fixed batch of the adding problem) and arch.json (model.to_json()) into dir. */
  writeData(): void {
    mkdirSync(this.dir, { recursive: true });
    const ev = addingProblem(makeRng(this.s.seed + 1), this.s.samples, this.s.steps);
    writeFileSync(path.join(this.dir, 'x.npy'), encodeNpy({ shape: ev.x.shape, data: ev.x.data as Float32Array }));
    writeFileSync(path.join(this.dir, 'y.npy'), encodeNpy({ shape: ev.y.shape, data: ev.y.data as Float32Array }));
    writeFileSync(path.join(this.dir, 'arch.json'), JSON.stringify(this.config));
  }

  /** Trains `every` steps (none for the first call with train=false) and returns the checkpoint's bytes. */
  async next(format: CkptFormat, trainFirst = true): Promise<Uint8Array> {
    if (trainFirst) train(this.model, this.rng, this.s.every, 16, this.s.steps);
    this.snapshots.push({
      ...this.model,
      weights: new Map(
        [...this.model.weights].map(([k, w]) => [
          k,
          { shape: [...w.shape], data: Float64Array.from(w.data as ArrayLike<number>) },
        ]),
      ),
    });
    return format === 'keras'
      ? kerasArchive(this.config, this.model)
      : format === 'weights.h5'
        ? kerasWeightsStore(this.model)
        : legacyWeightsH5(this.model);
  }
}

export function series(dir: string, s: SeriesSpec = {}): Series {
  return new Series(dir, { kind: 'LSTM', steps: 16, units: 6, samples: 24, every: 12, seed: 31, ...s });
}
