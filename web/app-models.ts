// Which of the dropped files are models, and which files each model reads. The formats of src/io
// say what a file is (modelFormatOf, then open(); data: openData); nothing here guesses from names.
//
//   files ──modelFormatOf──► keras-v3 / tfjs-layers (main files; siblings read by name are their parts)
//                        ├─► keras-h5 (any HDF5): a full model, or else weights for an architecture
//                        └─► keras-h5-weights (a to_json() architecture): paired with each HDF5 that binds
//   leftover HDF5 that binds to the one full model as replacement weights: one more checkpoint
// Every model found becomes a run; several runs are compared (checkpoints give a timeline).
// Pure: no DOM, no node:*; the Node tests call it on the corpus.

import { fileSetFromMap, modelFormatOf, openModel, type FileSet } from '../src/io/index.js';
import { openData } from '../src/io/data.js';
import { LoadError } from '../src/model/errors.js';
import type { ModelSpec } from '../src/model/types.js';
import { compareCheckpoints, orderBy, parseCheckpointName } from '../src/analysis/checkpoint-names.js';
import { errorOf, type AppError } from './app-protocol.js';

export interface InFile {
  /** Name as dropped: a path inside a dropped folder ("model/group1-shard1of1"), else the file name. */
  name: string;
  bytes: Uint8Array;
  /** Came from inside a dropped or picked folder (then an unusable file is listed, not refused). */
  fromFolder: boolean;
  /** File.lastModified (ms): orders checkpoints whose names carry no epoch. */
  lastModified: number;
}

export interface LoadedRun {
  model: ModelSpec;
  /** Main file and separate weights file (names as dropped). */
  main: string;
  weights: string | null;
  /** As the command line labels a run: the base name of the weights file, else of the model file. */
  label: string;
  /** Files the loader read for it (shards, folder members, the weights). */
  parts: string[];
}

/** What a file turned out to be while looking for models. */
export type ModelRole =
  | { kind: 'model' | 'weights' | 'part'; run: number }
  | { kind: 'unused'; note: string }
  | { kind: 'rest' };

export interface FoundModels {
  runs: LoadedRun[];
  roles: Map<string, ModelRole>;
  /** Refusals: a model file that does not load, an architecture without usable weights. */
  errors: AppError[];
}

function isData(f: InFile): boolean {
  try {
    openData(f.bytes, baseName(f.name));
    return true;
  } catch {
    return false;
  }
}

export const baseName = (n: string): string => n.slice(n.lastIndexOf('/') + 1);

/** A FileSet over the dropped files that records which of them the loader reads. */
function recordingSet(files: readonly InFile[], main: string, used: Set<string>): FileSet {
  const inner = fileSetFromMap(main, new Map(files.map((f) => [f.name, f.bytes])));
  const nameOf = new Map(files.map((f) => [f.bytes, f.name]));
  return {
    ...inner,
    async get(name: string) {
      const b = await inner.get(name);
      if (b) used.add(nameOf.get(b) ?? name);
      return b;
    },
  };
}

async function tryOpen(
  files: readonly InFile[],
  main: string,
  weights?: string,
): Promise<{ model: ModelSpec; parts: string[] } | { error: AppError }> {
  const used = new Set<string>();
  try {
    const model = await openModel(recordingSet(files, main, used), weights !== undefined ? { weights } : {});
    if (weights !== undefined) used.add(weights);
    used.delete(main);
    return { model, parts: [...used] };
  } catch (e) {
    return { error: errorOf(e) };
  }
}

export async function findModels(files: readonly InFile[]): Promise<FoundModels> {
  const roles = new Map<string, ModelRole>(files.map((f) => [f.name, { kind: 'rest' }]));
  const runs: LoadedRun[] = [];
  const errors: AppError[] = [];
  const fmt = new Map(files.map((f) => [f.name, modelFormatOf(f.bytes, f.name)?.name ?? null]));
  const free = (n: string) => roles.get(n)!.kind === 'rest';
  const addRun = (main: string, weights: string | null, model: ModelSpec, parts: string[]) => {
    const run = runs.length;
    runs.push({ model, main, weights, label: baseName(weights ?? main), parts });
    roles.set(main, { kind: 'model', run });
    for (const p of parts) if (p !== weights && free(p)) roles.set(p, { kind: 'part', run });
    if (weights) roles.set(weights, { kind: 'weights', run });
  };

  // Self-describing models first: their siblings (shards, folder members) are parts, not candidates.
  for (const f of files) {
    const kind = fmt.get(f.name);
    if ((kind !== 'keras-v3' && kind !== 'tfjs-layers') || !free(f.name)) continue;
    const r = await tryOpen(files, f.name);
    if ('model' in r) addRun(f.name, null, r.model, r.parts);
    // A zip is also what numpy.savez writes: an .npz that reads as data is left to the data.
    else if (!isData(f)) {
      errors.push(r.error);
      roles.set(f.name, { kind: 'unused', note: 'does not load (see the error)' });
    }
  }
  // HDF5: a full model, or else (kept with its refusal) weights for an architecture.
  const h5Refusals = new Map<string, AppError>();
  for (const f of files) {
    if (fmt.get(f.name) !== 'keras-h5' || !free(f.name)) continue;
    const r = await tryOpen(files, f.name);
    if ('model' in r) addRun(f.name, null, r.model, r.parts);
    else h5Refusals.set(f.name, r.error);
  }
  // Architectures: paired with every free HDF5 that binds to them (several: checkpoints).
  const tried = new Set<string>();
  for (const a of files) {
    if (fmt.get(a.name) !== 'keras-h5-weights') continue;
    const cands = [...h5Refusals.keys()].filter(free);
    const fails: AppError[] = [];
    let paired = 0;
    for (const w of cands) {
      tried.add(w);
      const r = await tryOpen(files, a.name, w);
      if ('model' in r) {
        addRun(a.name, w, r.model, r.parts);
        paired++;
      } else fails.push(r.error);
    }
    if (paired > 0) continue;
    roles.set(a.name, { kind: 'unused', note: 'no weights file fits it (see the error)' });
    if (cands.length === 0) {
      errors.push({
        name: 'LoadError',
        stage: 'load',
        file: a.name,
        message: `${a.name} is an architecture without weights; expected its weights file too; drop the weights .h5 together with it.`,
      });
    } else errors.push(...fails);
  }
  // Weights for the one full model: replacement weights make more checkpoints of it.
  const full = runs.filter((r) => r.weights === null && fmt.get(r.main) !== 'keras-h5-weights');
  if (full.length === 1 && runs.length === 1) {
    for (const w of [...h5Refusals.keys()].filter(free)) {
      const r = await tryOpen(files, full[0]!.main, w);
      if ('model' in r) addRun(full[0]!.main, w, r.model, r.parts);
    }
  }
  for (const [name, err] of h5Refusals) {
    if (!free(name)) continue;
    const f = files.find((x) => x.name === name)!;
    // An HDF5 file in a folder beside the model (say, saved inputs and outputs) is only listed.
    if (tried.has(name)) roles.set(name, { kind: 'unused', note: 'fits no architecture (see the error)' });
    else if (runs.length > 0 && f.fromFolder) roles.set(name, { kind: 'unused', note: err.message });
    else {
      errors.push(err);
      roles.set(name, { kind: 'unused', note: 'not a model (see the error)' });
    }
  }
  return { runs, roles, errors };
}

/**
 * The refusal when no file is a model: the loader's own message for a single file (what the
 * command line says for it), else one sentence naming what each file is.
 */
export async function noModelError(files: readonly InFile[]): Promise<AppError> {
  if (files.length === 1) {
    const r = await tryOpen(files, files[0]!.name);
    if ('error' in r) return r.error;
  }
  const list = files.map((f) => `${f.name} (${isData(f) ? 'data' : 'neither a model nor data'})`).join(', ');
  return errorOf(
    new LoadError(
      `None of the ${files.length} files is a model rnnscope knows: ${list}; expected a .keras, a Keras .h5, a to_json() architecture with its weights .h5, or a TF.js model.json with its shards; add the model file.`,
    ),
  );
}

/**
 * Runs in checkpoint order, as the command line orders several models: by the epoch and batch
 * numbers in their labels when every label has one, else by modification time (a dropped set has
 * no meaningful order of its own, like a wildcard the command line expands).
 */
export function orderRuns(
  found: FoundModels,
  files: readonly InFile[],
): { found: FoundModels; order: 'name' | 'mtime' } {
  const time = new Map(files.map((f) => [f.name, f.lastModified]));
  const keyed = found.runs.map((r, i) => ({
    i,
    k: { name: r.label, mtimeMs: time.get(r.weights ?? r.main) ?? 0, ...parseCheckpointName(r.label) },
  }));
  const order = orderBy(keyed.map((x) => x.k));
  keyed.sort((a, b) => compareCheckpoints(a.k, b.k, order));
  const where = new Map(keyed.map((x, j) => [x.i, j]));
  const roles = new Map<string, ModelRole>();
  for (const [n, r] of found.roles) roles.set(n, 'run' in r ? { ...r, run: where.get(r.run)! } : r);
  return { found: { runs: keyed.map((x) => found.runs[x.i]!), roles, errors: found.errors }, order };
}
