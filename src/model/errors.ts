// One error class per pipeline stage. Each message is one sentence: what was
// found, what was expected, and what to do. Message builders that tests assert
// on live beside the code that throws them.

export type Stage = 'load' | 'model' | 'data' | 'engine' | 'usage' | 'output';

export class RnnscopeError extends Error {
  readonly stage: Stage;
  /** The file being processed, when there is one. */
  readonly file: string | undefined;
  constructor(stage: Stage, message: string, options?: { file?: string; cause?: unknown }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.stage = stage;
    this.file = options?.file;
    this.name = new.target.name;
  }
}

/** Reading a file failed: truncated, corrupted, wrong kind, hostile. */
export class LoadError extends RnnscopeError {
  constructor(message: string, options?: { file?: string; cause?: unknown }) {
    super('load', message, options);
  }
}

/** The model is not supported or inconsistent: unknown layer, unsupported option, weight shape mismatch. */
export class ModelError extends RnnscopeError {
  constructor(message: string, options?: { file?: string; cause?: unknown }) {
    super('model', message, options);
  }
}

/**
 * A weight holds NaN or ±Infinity (a model diverged in training). Which tensor and how many of its
 * values travel as the `cause` ({key, count, size}), so a copy that adds the file name keeps them.
 * To callers it is a ModelError (its name too); the training timeline tells it apart to record the
 * checkpoint as diverged.
 */
export class NonFiniteWeightsError extends ModelError {
  override name = 'ModelError';

  get weight(): { key: string; count: number; size: number } {
    return this.cause as { key: string; count: number; size: number };
  }
}

/** User data does not fit the model: shapes, dtypes, token ids, NaN. */
export class DataError extends RnnscopeError {
  constructor(message: string, options?: { file?: string; cause?: unknown }) {
    super('data', message, options);
  }
}

/** Writing a result failed or was refused: an output that would replace a file rnnscope did not write, a full disk, a
 * locked folder. */
export class OutputError extends RnnscopeError {
  constructor(message: string, options?: { file?: string; cause?: unknown }) {
    super('output', message, options);
  }
}

/** Numerical failure inside the engine (e.g. a loss that needs targets it did not get). */
export class EngineError extends RnnscopeError {
  constructor(message: string, options?: { file?: string; cause?: unknown }) {
    super('engine', message, options);
  }
}

/** An argument or option of the library or the command line is invalid: unknown key, wrong type, out of range. */
export class UsageError extends RnnscopeError {
  constructor(message: string, options?: { file?: string; cause?: unknown }) {
    super('usage', message, options);
  }
}

/** At most this many problems are spelled out in one message; the rest are counted. */
const MAX_LISTED = 12;

/**
 * Several problems found at once as one sentence: "<subject> has 3 problems: a; b; c; <hint>."
 * (one problem: "<subject>: a; <hint>."; no subject when each problem names its own). Problems
 * must not contain semicolons.
 */
export function listProblems(subject: string | null, problems: readonly string[], hint: string): string {
  const shown = problems.slice(0, MAX_LISTED);
  const more = problems.length > MAX_LISTED ? [`and ${problems.length - MAX_LISTED} more`] : [];
  const head =
    subject === null ? '' : problems.length === 1 ? `${subject}: ` : `${subject} has ${problems.length} problems: `;
  return `${head}${[...shown, ...more].join('; ')}; ${hint}.`;
}

/** Formats a shape the way Keras prints it: (None, 100, 6). */
export function fmtShape(shape: readonly (number | null)[]): string {
  return `(${shape.map((d) => (d === null ? 'None' : String(d))).join(', ')}${shape.length === 1 ? ',' : ''})`;
}

/** A flat row-major index as numpy's multi-index: [3, 5, 2]. */
export function fmtIndex(flat: number, shape: readonly number[]): string {
  const idx = new Array<number>(shape.length);
  let rest = flat;
  for (let k = shape.length - 1; k >= 0; k--) {
    const d = shape[k] || 1;
    idx[k] = rest % d;
    rest = Math.floor(rest / d);
  }
  return `[${idx.join(', ')}]`;
}
