// Where a command writes (--json, --dump, --out), checked and locked before any work, so that a
// path that would replace an input or a user's file, an unwritable place or a busy output fails
// in well under a second instead of after the analysis. Rules in docs/outputs.md.

import path from 'node:path';
import { realpath } from 'node:fs/promises';
import { OutputError, RnnscopeError } from '../model/errors.js';
import { fsError } from '../io/fs-errors.js';
import { looksLikeAnalysisJson, looksLikeDump } from '../io/own-files.js';
import {
  OutputLock,
  atomicWriteFile,
  commitTemp,
  discardTemp,
  existing,
  fileId,
  mkdirp,
  removeCreated,
  removeStaleTemps,
  tempName,
  trackTemp,
  type WriteContext,
} from '../io/safe-write.js';
import { LOCK_FILE, MANIFEST_FILE, ReportFolder, type InputFile } from '../report/out-folder.js';

export interface OutputFlags {
  json?: string;
  dump?: string;
  out?: string;
}

type Kind = 'json' | 'dump';

const KINDS: Record<Kind, { role: string; what: string; example: string; owned: (f: string) => Promise<boolean> }> = {
  json: {
    role: 'The --json file',
    what: 'an analysis JSON written by rnnscope',
    example: 'analysis.json',
    owned: looksLikeAnalysisJson,
  },
  dump: {
    role: 'The --dump file',
    what: 'a gradient dump (.npz) written by rnnscope',
    example: 'grads.npz',
    owned: looksLikeDump,
  },
};

/** One output file: checked, its folder created and locked; written whole or not at all. */
export class OutputFile {
  private constructor(
    readonly shown: string,
    readonly file: string,
    private readonly kind: Kind,
    private readonly lock: OutputLock,
    private readonly created: string[],
    private readonly inputs: Map<string, string>,
  ) {}

  private get c(): WriteContext {
    return { shown: this.shown, role: KINDS[this.kind].role };
  }

  static async prepare(shown: string, kind: Kind, inputs: Map<string, string>): Promise<OutputFile> {
    const file = path.resolve(shown);
    const c = { shown, role: KINDS[kind].role };
    const created = await mkdirp(path.dirname(file), c);
    const lockFile = path.join(path.dirname(file), `.${path.basename(file)}.rnnscope-lock`);
    let lock: OutputLock | undefined;
    try {
      await checkTarget(file, kind, c, inputs);
      lock = await OutputLock.acquire(lockFile, c);
      await removeStaleTemps(path.dirname(file), path.basename(file));
    } catch (e) {
      await lock?.release();
      await removeCreated(created);
      throw e;
    }
    return new OutputFile(shown, file, kind, lock, created, inputs);
  }

  /** Writes `data` under a temporary name, then renames it into place (the target is checked again first). */
  async write(data: string | Uint8Array): Promise<void> {
    await checkTarget(this.file, this.kind, this.c, this.inputs);
    await atomicWriteFile(this.file, data, this.c);
  }

  /**
   * For a writer that streams: a fresh temporary path beside the target, to be finished with
   * commit(temp) (checks the target again and renames) or discard(temp).
   */
  tempPath(): string {
    return trackTemp(tempName(this.file));
  }

  async commit(temp: string): Promise<void> {
    try {
      await checkTarget(this.file, this.kind, this.c, this.inputs);
    } catch (e) {
      await discardTemp(temp);
      throw e;
    }
    await commitTemp(temp, this.file, this.c);
  }

  async discard(temp: string): Promise<void> {
    await discardTemp(temp);
  }

  async close(): Promise<void> {
    await this.lock.release();
  }

  /** After a failure: release, and remove the folders made for this file if still empty. */
  async abort(): Promise<void> {
    await this.lock.release();
    await removeCreated(this.created);
  }
}

/** Refuses a target that is a link, a folder, a device, an input, or a file rnnscope did not write. */
async function checkTarget(file: string, kind: Kind, c: WriteContext, inputs: Map<string, string>): Promise<void> {
  const k = KINDS[kind];
  let what: Awaited<ReturnType<typeof existing>>;
  try {
    what = await existing(file);
  } catch (e) {
    throw fsError(e, { file: c.shown, role: c.role, action: 'write', expected: 'a writable place' });
  }
  if (what === 'none') return;
  const refuse = (found: string, todo = `choose another name such as ${k.example}, or move it away`) => {
    throw new OutputError(`${c.role} ${c.shown} ${found}; expected a new file or ${k.what}, so ${todo}.`, {
      file: c.shown,
    });
  };
  if (what === 'link')
    refuse(
      'is a symbolic link, and rnnscope never writes through links',
      `remove the link or choose another name such as ${k.example}`,
    );
  if (what === 'folder') refuse('is a folder', `give a file name such as ${path.join(c.shown, k.example)}`);
  if (what === 'other') refuse('is not a regular file (a device, pipe or socket)');
  const id = await fileId(file);
  if (id && inputs.has(id)) refuse(`is ${inputs.get(id)} of this run, and rnnscope never replaces its inputs`);
  let own: boolean;
  try {
    own = await k.owned(file);
  } catch (e) {
    throw fsError(e, { file: c.shown, role: c.role, action: 'read', expected: k.what });
  }
  if (!own) refuse(`exists and is not ${k.what}`);
}

export interface OutputPlan {
  json: OutputFile | null;
  dump: OutputFile | null;
  folder: ReportFolder | null;
  /** Releases the locks (after the writes). */
  close(): Promise<void>;
  /** After a failure: drops staged files and locks, removes folders made for this run if empty. */
  abort(): Promise<void>;
}

async function realOrResolved(p: string): Promise<string> {
  const abs = path.resolve(p);
  try {
    return path.join(await realpath(path.dirname(abs)), path.basename(abs));
  } catch {
    return abs;
  }
}

/** Refuses two outputs of one run that are the same file (one of them inside the report folder, say). */
async function checkDistinct(f: OutputFlags): Promise<void> {
  const json = f.json !== undefined && f.json !== '-' ? await realOrResolved(f.json) : null;
  const dump = f.dump !== undefined ? await realOrResolved(f.dump) : null;
  if (json !== null && json === dump) {
    throw new OutputError(
      `--json and --dump both name ${f.json}; expected two different files, so give them different names.`,
      { file: f.json },
    );
  }
  if (f.out === undefined) return;
  const out = await realOrResolved(f.out);
  for (const [flag, p, shown] of [
    ['--json', json, f.json],
    ['--dump', dump, f.dump],
  ] as const) {
    if (p === null) continue;
    const rel = path.relative(out, p);
    if (rel === '')
      throw new OutputError(
        `${flag} ${shown} is the --out folder itself; expected a file name of its own, so choose another.`,
        { file: shown },
      );
    if (
      ['index.html', 'analysis.json', MANIFEST_FILE, LOCK_FILE].includes(rel) ||
      rel.split(path.sep)[0] === 'charts'
    ) {
      throw new OutputError(
        `${flag} ${shown} is a file of the report folder ${f.out}; expected a file outside the report's own files, so choose another name${flag === '--json' ? ' (the report folder already holds analysis.json)' : ''}.`,
        { file: shown },
      );
    }
  }
}

/** Checks, creates and locks every output of a run before its work starts. */
export async function prepareOutputs(f: OutputFlags, inputs: InputFile[]): Promise<OutputPlan> {
  const ids = new Map(inputs.map((i) => [i.id, i.what]));
  await checkDistinct(f);
  const opened: { json: OutputFile | null; dump: OutputFile | null; folder: ReportFolder | null } = {
    json: null,
    dump: null,
    folder: null,
  };
  const abort = async () => {
    await opened.json?.abort();
    await opened.dump?.abort();
    await opened.folder?.abort();
  };
  try {
    if (f.json !== undefined && f.json !== '-') opened.json = await OutputFile.prepare(f.json, 'json', ids);
    if (f.dump !== undefined) opened.dump = await OutputFile.prepare(f.dump, 'dump', ids);
    if (f.out !== undefined) opened.folder = await ReportFolder.open(f.out, { inputs, role: 'The --out folder' });
  } catch (e) {
    await abort();
    throw e instanceof RnnscopeError
      ? e
      : fsError(e, {
          file: f.out ?? f.json ?? f.dump ?? '',
          role: 'The output',
          action: 'write',
          expected: 'a writable place',
        });
  }
  return {
    ...opened,
    close: async () => {
      await opened.json?.close();
      await opened.dump?.close();
      await opened.folder?.close();
    },
    abort,
  };
}
