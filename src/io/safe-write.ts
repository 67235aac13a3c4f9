// Writing results without losing anything (Node only; the rules are in docs/outputs.md):
//   - every file goes to a temporary name in its own folder, is flushed, then renamed into place,
//     so a failed or interrupted run leaves the earlier file whole;
//   - a lock file per output refuses a second concurrent run (a lock whose process is gone is
//     taken over);
//   - folders are created one level at a time (Node's recursive mkdir loops forever under /proc),
//     and never in a pseudo file system (/proc, /sys, /dev);
//   - temporary files and locks of this process are known, so a Ctrl-C handler can remove them.

import { closeSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import {
  link,
  lstat,
  mkdir,
  open,
  readFile,
  readdir,
  realpath,
  rename,
  rmdir,
  stat,
  statfs,
  unlink,
} from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { OutputError } from '../model/errors.js';
import { errnoCode, fsError } from './fs-errors.js';

const live = { temps: new Set<string>(), locks: new Set<string>(), fds: new Set<number>(), dirs: [] as string[] };

/** Removes this process's temporary files, locks and the empty folders it created (for exit and signal handlers). */
export function cleanupSync(): void {
  for (const fd of live.fds)
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
  for (const f of [...live.temps, ...live.locks])
    try {
      unlinkSync(f);
    } catch {
      /* already gone */
    }
  for (const d of [...live.dirs].reverse()) {
    try {
      if (readdirSync(d).length === 0) rmdirSync(d);
    } catch {
      /* not empty or gone */
    }
  }
  live.temps.clear();
  live.locks.clear();
  live.dirs = [];
}

/** Forget the folders created so far (they now hold results and are kept). */
export function keepCreatedFolders(): void {
  live.dirs = [];
}

const TEMP_RE = /^\.(.+)\.rnnscope-tmp-\d+-[0-9a-f]+$/;

export function tempName(file: string): string {
  const rand = Math.floor(Math.random() * 0x100000000).toString(16);
  return path.join(path.dirname(file), `.${path.basename(file)}.rnnscope-tmp-${process.pid}-${rand}`);
}

/** Registers a temporary file a streaming writer creates itself, so an interrupt removes it. */
export function trackTemp(temp: string): string {
  live.temps.add(temp);
  return temp;
}

/** Removes temporary files of earlier runs for `base` (or all) in `dir`; call while holding the output's lock. */
export async function removeStaleTemps(dir: string, base?: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const m = TEMP_RE.exec(n);
    if (!m || (base !== undefined && m[1] !== base)) continue;
    const p = path.join(dir, n);
    if (live.temps.has(p)) continue;
    try {
      if ((await lstat(p)).isFile()) await unlink(p);
    } catch {
      /* gone */
    }
  }
}

export interface WriteContext {
  /** The path as the user gave it (for messages). */
  shown: string;
  /** E.g. "The --json file". */
  role: string;
}

function writeError(e: unknown, c: WriteContext, expected = 'a writable place on a local disk'): unknown {
  return fsError(e, { file: c.shown, role: c.role, action: 'write', expected });
}

/** Writes `data` to a new temporary file beside `file` (flushed to disk); returns its path. */
export async function writeTemp(file: string, data: string | Uint8Array, c: WriteContext): Promise<string> {
  const temp = tempName(file);
  live.temps.add(temp);
  let fh;
  try {
    fh = await open(temp, 'wx', 0o644);
    live.fds.add(fh.fd);
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    if (fh) {
      live.fds.delete(fh.fd);
      await fh.close().catch(() => undefined);
    }
    await discardTemp(temp);
    throw writeError(e, c);
  }
  live.fds.delete(fh.fd);
  await fh.close();
  return temp;
}

/** Renames a temporary file over `file` (replacing a link or file there, never writing through it). */
export async function commitTemp(temp: string, file: string, c: WriteContext): Promise<void> {
  try {
    await rename(temp, file);
  } catch (e) {
    await discardTemp(temp);
    throw writeError(e, c);
  }
  live.temps.delete(temp);
}

export async function discardTemp(temp: string): Promise<void> {
  await unlink(temp).catch(() => undefined);
  live.temps.delete(temp);
}

/** The whole file or nothing: temporary name, flush, rename. */
export async function atomicWriteFile(file: string, data: string | Uint8Array, c: WriteContext): Promise<void> {
  await commitTemp(await writeTemp(file, data, c), file, c);
}

// statfs magic numbers of kernel pseudo file systems (linux/magic.h): writing there is never a result.
const PSEUDO_FS = new Set([
  0x9fa0, 0x62656572, 0x1cd1, 0x27e0eb, 0x63677270, 0x64626720, 0x73636673, 0xcafe4a11, 0x74726163, 0x62656570,
  0x65735543, 0x6165676c, 0xde5e81e4, 0x42494e4d,
]);
const PSEUDO_ROOTS = ['/proc', '/sys', '/dev'];
/** Real folders under those roots (the shared-memory tmpfs). */
const REAL_UNDER_PSEUDO = ['/dev/shm'];

/** Refuses a folder on a kernel pseudo file system (by its real path and its file-system type). */
export async function checkPlace(dir: string, c: WriteContext): Promise<void> {
  let real = dir;
  try {
    real = await realpath(dir);
  } catch {
    /* checked by the caller */
  }
  const under = (r: string) => real === r || real.startsWith(`${r}/`);
  const pseudo = PSEUDO_ROOTS.some(under) && !REAL_UNDER_PSEUDO.some(under);
  let type = 0;
  try {
    type = Number((await statfs(real)).type);
  } catch {
    /* statfs unsupported: the path check stands */
  }
  if (pseudo || PSEUDO_FS.has(type)) {
    const where = pseudo ? PSEUDO_ROOTS.find(under) : real;
    throw new OutputError(
      `${c.role} ${c.shown} is in ${where}, a system folder of the kernel that holds no files; expected a folder on a disk, so choose another path.`,
      { file: c.shown },
    );
  }
}

/**
 * Creates `dir` and its missing parents one level at a time; returns the folders it created
 * (outermost first). Refuses a path through a file, and pseudo file systems.
 */
export async function mkdirp(dir: string, c: WriteContext): Promise<string[]> {
  const abs = path.resolve(dir);
  const missing: string[] = [];
  let cur = abs;
  for (;;) {
    try {
      const st = await stat(cur);
      if (!st.isDirectory()) {
        throw new OutputError(
          `${c.role} ${c.shown} needs ${cur} to be a folder, but it is a file; expected a path through folders, so choose another path.`,
          { file: c.shown },
        );
      }
      break;
    } catch (e) {
      if (e instanceof OutputError) throw e;
      if (errnoCode(e) !== 'ENOENT') throw writeError(e, c);
      const up = path.dirname(cur);
      if (up === cur) break;
      missing.push(cur);
      cur = up;
    }
  }
  await checkPlace(cur, c);
  const created: string[] = [];
  for (const d of missing.reverse()) {
    try {
      await mkdir(d);
      created.push(d);
      live.dirs.push(d);
    } catch (e) {
      if (errnoCode(e) === 'EEXIST' && (await stat(d).catch(() => null))?.isDirectory()) continue;
      throw writeError(e, c);
    }
  }
  return created;
}

/** Removes the folders `mkdirp` created, innermost first, where they are still empty. */
export async function removeCreated(created: string[]): Promise<void> {
  for (const d of [...created].reverse()) {
    await rmdir(d).catch(() => undefined);
    live.dirs = live.dirs.filter((x) => x !== d);
  }
}

interface LockInfo {
  pid: number;
  host: string;
  started: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === 'EPERM';
  }
}

async function readLock(file: string): Promise<LockInfo | null> {
  try {
    const j = JSON.parse(await readFile(file, 'utf8')) as Partial<LockInfo>;
    if (typeof j.pid === 'number' && typeof j.host === 'string' && typeof j.started === 'string') return j as LockInfo;
  } catch {
    /* unreadable or half-written */
  }
  return null;
}

/**
 * Creates `file` holding `text`, failing with EEXIST when it exists. The text is written to a temporary
 * file first and hard-linked to `file` (link() refuses an existing name atomically), so a second run
 * never reads the lock half-written; where the file system has no hard links, the file is created
 * exclusively and then written.
 */
async function createWithContent(file: string, text: string): Promise<void> {
  const temp = trackTemp(tempName(file));
  try {
    const fh = await open(temp, 'wx', 0o644);
    try {
      await fh.writeFile(text);
    } finally {
      await fh.close();
    }
    try {
      await link(temp, file);
      live.locks.add(file);
      return;
    } catch (e) {
      const code = errnoCode(e);
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
    }
  } finally {
    live.temps.delete(temp);
    await unlink(temp).catch(() => undefined);
  }
  const fh = await open(file, 'wx', 0o644);
  live.locks.add(file);
  try {
    await fh.writeFile(text);
  } finally {
    await fh.close();
  }
}

/** A lock file (created exclusively) that keeps a second rnnscope run away from the same output. */
export class OutputLock {
  private constructor(readonly file: string) {}

  /**
   * Takes the lock at `file`, or refuses naming the run that holds it. A lock left by a process that
   * no longer runs on this machine is taken over; one from another machine is never guessed stale.
   */
  static async acquire(file: string, c: WriteContext): Promise<OutputLock> {
    const info: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await createWithContent(file, `${JSON.stringify(info)}\n`);
        return new OutputLock(file);
      } catch (e) {
        if (errnoCode(e) !== 'EEXIST') {
          // Remove the lock only if this run created it (writing its contents failed), never another's.
          if (live.locks.delete(file)) await unlink(file).catch(() => undefined);
          throw writeError(e, c, 'a folder you can write to');
        }
      }
      const held = await readLock(file);
      let stale: boolean;
      if (held) stale = held.host === info.host && held.pid !== process.pid && !alive(held.pid);
      else {
        // Unreadable: being written this instant, or garbage. Old garbage is stale.
        const st = await lstat(file).catch(() => null);
        stale = st !== null && Date.now() - st.mtimeMs > 10_000;
      }
      if (!stale) {
        const who = held ? `process ${held.pid} on ${held.host}, started ${held.started}` : 'a run that is starting';
        throw new OutputError(
          `${c.role} ${c.shown} is being written by another rnnscope run (${who}); expected one run per output, so wait for it to finish, or delete ${file} if that run is gone.`,
          { file: c.shown },
        );
      }
      // Move the stale lock aside first: of two runs breaking it at once, only one rename succeeds.
      const aside = `${file}.stale-${process.pid}`;
      await rename(file, aside)
        .then(
          () => unlink(aside),
          () => undefined,
        )
        .catch(() => undefined);
    }
    throw new OutputError(
      `${c.role} ${c.shown} could not be locked for writing; expected to create ${file}, so retry, or delete it if no rnnscope run is writing there.`,
      { file: c.shown },
    );
  }

  async release(): Promise<void> {
    if (!live.locks.has(this.file)) return;
    live.locks.delete(this.file);
    await unlink(this.file).catch(() => undefined);
  }
}

export type Existing = 'none' | 'file' | 'folder' | 'link' | 'other';

/** What is at `p` without following a link. */
export async function existing(p: string): Promise<Existing> {
  try {
    const st = await lstat(p);
    return st.isSymbolicLink() ? 'link' : st.isFile() ? 'file' : st.isDirectory() ? 'folder' : 'other';
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return 'none';
    throw e;
  }
}

/** A stable identity of an existing file (follows links): device and inode. */
export async function fileId(p: string): Promise<string | null> {
  try {
    const st = await stat(p, { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}
