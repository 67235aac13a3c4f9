// Epoch and batch numbers from checkpoint file names, and the order of a checkpoint series.
//
// Keras' ModelCheckpoint fills `filepath` with str.format fields: `{epoch}` (1-based) and, with
// save_freq in batches, `{batch}`, plus any logged metric (`{val_loss:.2f}`). Names seen in
// practice: epoch003.keras, weights.02-0.45.h5, model-e05-b0100.keras, ckpt_10.weights.h5,
// epoch=3-step=120.ckpt. A named number (epoch / ep / e, batch / step / iter / it / b / s) wins;
// otherwise the first whole number that is neither glued to a letter (lstm2) nor part of a
// decimal (0.45) is the epoch. Names without one are ordered by modification time.

export interface CheckpointName {
  epoch: number | null;
  batch: number | null;
}

const EXTENSIONS = /(\.weights)?\.(keras|h5|hdf5|json|ckpt|pt)$/i;
// A word, then an optional separator, then a whole number (not the start of a decimal); the word
// must not follow a letter or digit (so `lr1e-3` and `weights` give nothing). Longer words first.
const word = (w: string): RegExp => new RegExp(`(?:^|[^a-z0-9])(?:${w})[_\\-=.:]?(\\d+)(?![\\d.]*\\d)`, 'i');
const EPOCH_WORDS = [word('epochs?'), word('ep|e')];
const BATCH_WORDS = [word('batch|steps?|iter(?:ation)?'), word('it|b|s')];

function named(stem: string, words: RegExp[]): number | null {
  for (const w of words) {
    const m = w.exec(stem);
    if (m) return Number(m[1]);
  }
  return null;
}

/** Epoch and batch parsed from a file name (a path's directories are ignored). */
export function parseCheckpointName(fileName: string): CheckpointName {
  const base = fileName.split(/[\\/]/).filter(Boolean).pop() ?? fileName;
  const stem = base.replace(EXTENSIONS, '');
  const epoch = named(stem, EPOCH_WORDS),
    batch = named(stem, BATCH_WORDS);
  if (epoch !== null || batch !== null) return { epoch, batch };
  for (const m of stem.matchAll(/\d+/g)) {
    const i = m.index,
      j = i + m[0].length;
    const before = stem[i - 1] ?? '',
      after = stem.slice(j, j + 2);
    if (/[A-Za-z]/.test(before)) continue;
    if (/^\.\d/.test(after) || (before === '.' && /\d/.test(stem[i - 2] ?? ''))) continue;
    return { epoch: Number(m[0]), batch: null };
  }
  return { epoch: null, batch: null };
}

export interface OrderedFile extends CheckpointName {
  name: string;
  /** Modification time in ms (used when some name carries no epoch). */
  mtimeMs: number;
}

/** How a series is ordered: by the numbers in the names when every name has one, else by modification time. */
export function orderBy(files: readonly { name: string }[]): 'name' | 'mtime' {
  return files.every((f) => parseCheckpointName(f.name).epoch !== null || parseCheckpointName(f.name).batch !== null)
    ? 'name'
    : 'mtime';
}

/** Sort key comparison: epoch, then batch (a checkpoint without a batch number comes after that epoch's batches), then
 * name. */
export function compareCheckpoints(a: OrderedFile, b: OrderedFile, by: 'name' | 'mtime'): number {
  if (by === 'mtime') return a.mtimeMs - b.mtimeMs || a.name.localeCompare(b.name);
  const ea = a.epoch ?? -1,
    eb = b.epoch ?? -1;
  const ba = a.batch ?? Infinity,
    bb = b.batch ?? Infinity;
  return ea - eb || (ba === bb ? 0 : ba < bb ? -1 : 1) || a.name.localeCompare(b.name);
}

/** Files in timeline order (see orderBy). */
export function orderCheckpoints<T extends { name: string; mtimeMs: number }>(
  files: readonly T[],
): (T & CheckpointName)[] {
  const parsed = files.map((f) => ({ ...f, ...parseCheckpointName(f.name) }));
  const by = orderBy(parsed);
  return parsed.sort((a, b) => compareCheckpoints(a, b, by));
}

/** "epoch 3", "epoch 3 batch 200", "batch 200", or the label when the name carries no number. */
export function describeCheckpoint(p: { epoch: number | null; batch: number | null; label: string }): string {
  if (p.epoch !== null) return p.batch !== null ? `epoch ${p.epoch} batch ${p.batch}` : `epoch ${p.epoch}`;
  if (p.batch !== null) return `batch ${p.batch}`;
  return p.label;
}
