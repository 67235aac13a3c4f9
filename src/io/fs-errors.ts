// Node file-system failures (errno codes) as typed rnnscope errors: one sentence naming the file,
// what went wrong in plain words, what was expected and what to do. Pure: it only reads `code`,
// so the browser build can include it. Anything without a known code is returned unchanged, so
// a real internal error still reaches the "this looks like a bug" path.

import { LoadError, OutputError, RnnscopeError } from '../model/errors.js';

export interface FsContext {
  /** The path as the user gave it. */
  file: string;
  /** What the file is for, e.g. "The --data file", "The report folder". Starts the sentence. */
  role: string;
  /** Reading an input, writing an output, or not known (a leftover error at the top level). */
  action: 'read' | 'write' | 'access';
  /** What a good path would be, e.g. "a .npy, .npz, CSV or JSON file". */
  expected: string;
}

/** Largest file Node reads into one buffer (readFile's limit), bytes. */
export const MAX_READ_BYTES = 2 ** 31 - 1;

export interface FsProblem {
  problem: string;
  hint: string;
}

/** The plain words for an errno code ("does not exist", "check the path"), or null for codes not known here. */
export function fsProblem(code: string, c: Pick<FsContext, 'action'>): FsProblem | null {
  const reading = c.action !== 'write';
  switch (code) {
    case 'ENOENT':
      return c.action === 'write'
        ? { problem: 'is in a folder that does not exist or vanished while writing', hint: 'check the path' }
        : { problem: 'does not exist', hint: 'check the path' };
    case 'EACCES':
    case 'EPERM':
      return c.action === 'read'
        ? { problem: 'cannot be read (permission denied)', hint: 'check its permissions' }
        : c.action === 'write'
          ? { problem: 'cannot be written (permission denied)', hint: 'choose another place or fix the permissions' }
          : { problem: 'cannot be accessed (permission denied)', hint: 'check its permissions' };
    case 'EISDIR':
      return { problem: 'is a folder', hint: reading ? 'pass the file inside it' : 'choose a file name, not a folder' };
    case 'ENOTDIR':
      return { problem: 'has a part that is a file where a folder was expected', hint: 'check the path' };
    case 'ENOSPC':
    case 'EDQUOT':
      return {
        problem:
          code === 'ENOSPC'
            ? 'could not be written because the disk is full'
            : 'could not be written because the disk quota is exhausted',
        hint: 'free some space or choose another place; any earlier result there was left as it was',
      };
    case 'EROFS':
      return { problem: 'is on a read-only file system', hint: 'choose a writable place' };
    case 'ELOOP':
      return { problem: 'goes through a loop of symbolic links', hint: 'fix the links or give the real path' };
    case 'ENAMETOOLONG':
      return { problem: 'has a name too long for the file system', hint: 'choose a shorter path' };
    case 'EMFILE':
    case 'ENFILE':
      return {
        problem: 'could not be opened because too many files are open',
        hint: 'close other programs or raise the limit (ulimit -n), then retry',
      };
    case 'EIO':
      return {
        problem: 'could not be accessed because of an input/output error of the device',
        hint: 'check the disk',
      };
    case 'EBUSY':
    case 'ETXTBSY':
      return { problem: 'is busy (in use by the system)', hint: 'choose another path' };
    case 'EXDEV':
      return { problem: 'could not be moved into place across file systems', hint: 'choose a path on one file system' };
    case 'EFBIG':
    case 'ERR_FS_FILE_TOO_LARGE':
      return reading
        ? {
            problem: `is larger than ${MAX_READ_BYTES} bytes (2 GiB), more than rnnscope can read at once`,
            hint: 'pass a smaller file, for example fewer samples',
          }
        : { problem: 'is too large for the file system', hint: 'choose another place' };
    case 'ENXIO':
    case 'ENODEV':
      return { problem: 'is a device, not a file', hint: 'give a regular file' };
    case 'EINVAL':
      return reading
        ? null
        : {
            problem: 'cannot be written there (the file system refused the operation)',
            hint: 'choose a regular folder on a local disk',
          };
    default:
      return null;
  }
}

/** The errno code of a Node system error, or undefined. */
export function errnoCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A typed error for a file-system failure, or `e` itself when it is not one (or already typed). */
export function fsError(e: unknown, c: FsContext): unknown {
  if (e instanceof RnnscopeError) return e;
  const code = errnoCode(e);
  const k = code ? fsProblem(code, c) : null;
  if (!k) return e;
  const message = `${c.role} ${c.file} ${k.problem}; expected ${c.expected}, so ${k.hint}.`;
  return c.action === 'write'
    ? new OutputError(message, { file: c.file, cause: e })
    : new LoadError(message, { file: c.file, cause: e });
}

const WRITE_CALLS = new Set([
  'write',
  'mkdir',
  'rename',
  'unlink',
  'rmdir',
  'link',
  'symlink',
  'copyfile',
  'fsync',
  'ftruncate',
  'utime',
  'chmod',
  'close',
]);

/** Any leftover Node system error at the top level: one sentence from its own code and path, or null. */
export function fsErrorFromNode(e: unknown): RnnscopeError | null {
  const code = errnoCode(e);
  const path = (e as { path?: unknown } | null)?.path;
  const syscall = (e as { syscall?: unknown } | null)?.syscall;
  if (!code || typeof path !== 'string') return null;
  const action =
    typeof syscall === 'string' && WRITE_CALLS.has(syscall) ? 'write' : syscall === 'read' ? 'read' : 'access';
  const r = fsError(e, {
    file: path,
    role: 'The file',
    action,
    expected: action === 'write' ? 'a writable place' : 'a readable file',
  });
  return r instanceof RnnscopeError ? r : null;
}
