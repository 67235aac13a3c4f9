// The report folder as rnnscope owns it (Node only; rules in docs/outputs.md).
//
//   DIR/.rnnscope-manifest.json   what rnnscope wrote here: relative path → size and SHA-256
//   DIR/.rnnscope-lock            held while a run writes here (pid, host, start time)
//
// A file is rnnscope's own when the manifest lists it with its current size and hash; anything
// else in the way (a user's index.html, a link planted as charts/dh.svg, a file edited since) is
// foreign, and the run is refused before any work, naming those files. Foreign files not in the
// way are left alone. New files are staged under temporary names and renamed into place together
// at the end, so an interrupted or failed run leaves the previous report as it was; files of the
// previous report that the new one does not have are then removed (they were rnnscope's).

import { createHash } from 'node:crypto';
import { lstat, readFile, readdir, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { CHART_IDS } from '../analysis/schema.js';
import { OutputError } from '../model/errors.js';
import { CHART_INDEX, chartFilePattern } from './export-names.js';
import { errnoCode, fsError } from '../io/fs-errors.js';
import {
  OutputLock,
  atomicWriteFile,
  checkPlace,
  commitTemp,
  discardTemp,
  existing,
  fileId,
  keepCreatedFolders,
  mkdirp,
  removeCreated,
  removeStaleTemps,
  writeTemp,
  type WriteContext,
} from '../io/safe-write.js';

export const MANIFEST_FILE = '.rnnscope-manifest.json';
export const LOCK_FILE = '.rnnscope-lock';

interface Entry {
  size: number;
  sha256: string;
}
interface Manifest {
  tool: 'rnnscope';
  about: string;
  files: Record<string, Entry>;
  pending?: Record<string, Entry>;
}

const ABOUT = 'Files rnnscope wrote in this folder; it replaces only these (see docs/outputs.md in rnnscope).';
// Any name a chart image may get (export-names.ts), in charts/ or a run's folder charts/<run>/.
const CHART_FILE = chartFilePattern(CHART_IDS);

export interface InputFile {
  /** fileId() of the input. */
  id: string;
  /** How to name it in a message, e.g. "the model file m.h5". */
  what: string;
}

export interface OpenFolderOptions {
  /** The run's inputs: none may be replaced, and the folder may not be one of them. */
  inputs?: InputFile[];
  /** Start of the messages (default "The report folder"). */
  role?: string;
}

type Status = 'absent' | 'owned' | 'foreign' | 'input';

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function emptyManifest(): Manifest {
  return { tool: 'rnnscope', about: ABOUT, files: {} };
}

async function readManifest(file: string): Promise<Manifest> {
  try {
    const j = JSON.parse(await readFile(file, 'utf8')) as Partial<Manifest>;
    if (j && j.tool === 'rnnscope' && typeof j.files === 'object' && j.files !== null) {
      const ok = (r: unknown): r is Record<string, Entry> =>
        typeof r === 'object' &&
        r !== null &&
        Object.values(r).every(
          (e) => typeof (e as Entry)?.size === 'number' && typeof (e as Entry)?.sha256 === 'string',
        );
      if (ok(j.files))
        return { tool: 'rnnscope', about: ABOUT, files: j.files, ...(ok(j.pending) ? { pending: j.pending } : {}) };
    }
  } catch {
    /* missing or unreadable: nothing is known to be rnnscope's */
  }
  return emptyManifest();
}

export class ReportFolder {
  /** Relative paths staged for the commit, with their temporary files. */
  private staged = new Map<string, { temp: string; entry: Entry }>();
  /** Relative paths that are this run's input (the folder's own analysis.json for `rnnscope report`): left as they are.
   * */
  readonly kept = new Set<string>();

  private constructor(
    readonly dir: string,
    private readonly c: WriteContext,
    private manifest: Manifest,
    private readonly lock: OutputLock,
    private readonly created: string[],
    private readonly inputs: Map<string, string>,
  ) {}

  /** Creates (if needed), checks and locks `outDir`; refuses, before any work, when a file in the way is not
   * rnnscope's. */
  static async open(outDir: string, opts: OpenFolderOptions = {}): Promise<ReportFolder> {
    const role = opts.role ?? 'The report folder';
    try {
      return await ReportFolder.openChecked(outDir, { shown: outDir, role }, opts);
    } catch (e) {
      throw fsError(e, { file: outDir, role, action: 'write', expected: 'a folder you can write to' });
    }
  }

  private static async openChecked(outDir: string, c: WriteContext, opts: OpenFolderOptions): Promise<ReportFolder> {
    if (outDir === '' || outDir === '-') {
      throw new OutputError(
        `${c.role} '${outDir}' is not a folder name; expected a folder for index.html and the charts (the report cannot go to stdout), so give a name such as report.`,
        { file: outDir },
      );
    }
    const dir = path.resolve(outDir);
    const inputs = new Map((opts.inputs ?? []).map((i) => [i.id, i.what]));
    const kind = await existing(dir);
    const isFolder =
      kind === 'folder' ||
      (kind === 'link' &&
        (await stat(dir).then(
          (st) => st.isDirectory(),
          () => false,
        )));
    if (kind !== 'none' && !isFolder) {
      const what =
        kind === 'file'
          ? 'a file'
          : kind === 'link'
            ? 'a link to something that is not a folder'
            : 'not a folder (a device, pipe or socket)';
      throw new OutputError(
        `${c.role} ${outDir} is ${what}; expected a folder (new or one rnnscope wrote), so choose another --out.`,
        { file: outDir },
      );
    }
    const created = await mkdirp(dir, c);
    await checkPlace(dir, c);
    const selfId = await fileId(dir);
    if (selfId && inputs.has(selfId)) {
      await removeCreated(created);
      throw new OutputError(
        `${c.role} ${outDir} is ${inputs.get(selfId)}; expected a folder of its own for the report, so choose another --out.`,
        { file: outDir },
      );
    }
    let lock: OutputLock;
    try {
      lock = await OutputLock.acquire(path.join(dir, LOCK_FILE), c);
    } catch (e) {
      await removeCreated(created);
      throw e;
    }
    const folder = new ReportFolder(dir, c, emptyManifest(), lock, created, inputs);
    try {
      await folder.prepare();
    } catch (e) {
      await folder.abort();
      throw e;
    }
    return folder;
  }

  private async prepare(): Promise<void> {
    const mkind = await existing(path.join(this.dir, MANIFEST_FILE));
    if (mkind !== 'none' && mkind !== 'file') this.refuse([MANIFEST_FILE]);
    this.manifest = await readManifest(path.join(this.dir, MANIFEST_FILE));
    await removeStaleTemps(this.dir);
    const charts = await existing(path.join(this.dir, 'charts'));
    if (charts !== 'none' && charts !== 'folder') this.refuse(['charts']);
    if (charts === 'folder') await removeStaleTemps(path.join(this.dir, 'charts'));
    // Every file this run might write: the page, the analysis, the chart index and any chart image name, in
    // charts/ or one level down (a run's folder; the run names are not known before the analysis).
    const candidates = ['index.html', 'analysis.json', CHART_INDEX];
    if (charts === 'folder')
      for (const n of await readdir(path.join(this.dir, 'charts'))) {
        if (CHART_FILE.test(n)) candidates.push(`charts/${n}`);
        const sub = path.join(this.dir, 'charts', n);
        if ((await existing(sub)) !== 'folder') continue;
        await removeStaleTemps(sub);
        for (const m of await readdir(sub)) if (CHART_FILE.test(m)) candidates.push(`charts/${n}/${m}`);
      }
    const blocked: string[] = [];
    for (const rel of candidates) {
      const s = await this.status(rel);
      if (s === 'input') {
        if (rel === 'analysis.json') this.kept.add(rel);
        else
          throw new OutputError(
            `${this.c.role} ${this.c.shown} would replace ${path.join(this.c.shown, rel)}, which is ` +
              `${this.inputs.get((await fileId(path.join(this.dir, rel)))!)}; expected inputs to stay ` +
              `untouched, so choose another --out.`,
            { file: this.c.shown },
          );
      } else if (s === 'foreign') blocked.push(rel);
    }
    if (blocked.length > 0) this.refuse(blocked);
  }

  private refuse(rels: string[]): never {
    const list = rels.length > 8 ? `${rels.slice(0, 8).join(', ')} and ${rels.length - 8} more` : rels.join(', ');
    throw new OutputError(
      `${this.c.role} ${this.c.shown} holds ${rels.length === 1 ? 'a file' : 'files'} that rnnscope did not write (or that changed since): ${list}; expected a new folder or one holding only rnnscope's own report, so move ${rels.length === 1 ? 'it' : 'them'} away, delete ${rels.length === 1 ? 'it' : 'them'}, or choose another --out.`,
      { file: this.c.shown },
    );
  }

  private async status(rel: string): Promise<Status> {
    const p = path.join(this.dir, rel);
    let st;
    try {
      st = await lstat(p);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return 'absent';
      throw e;
    }
    if (!st.isFile()) return 'foreign';
    const id = await fileId(p);
    if (id && this.inputs.has(id)) return 'input';
    const known = [this.manifest.files[rel], this.manifest.pending?.[rel]].filter(
      (e): e is Entry => e !== undefined && e.size === st.size,
    );
    if (known.length === 0) return 'foreign';
    const hash = sha256(await readFile(p));
    return known.some((e) => e.sha256 === hash) ? 'owned' : 'foreign';
  }

  isKept(rel: string): boolean {
    return this.kept.has(rel);
  }

  /** Stages `rel` (e.g. "charts/dh.svg") under a temporary name; nothing visible changes until commit(). */
  async write(rel: string, data: string | Uint8Array): Promise<void> {
    const file = path.join(this.dir, rel);
    const sub = path.dirname(file);
    if (sub !== this.dir) {
      const kind = await existing(sub);
      if (kind === 'none') this.created.push(...(await mkdirp(sub, this.c)));
      else if (kind !== 'folder') this.refuse([path.relative(this.dir, sub)]);
    }
    const prev = this.staged.get(rel);
    if (prev) await discardTemp(prev.temp);
    const temp = await writeTemp(file, data, { shown: path.join(this.c.shown, rel), role: 'The report file' });
    this.staged.set(rel, {
      temp,
      entry: { size: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength, sha256: sha256(data) },
    });
  }

  /** Renames every staged file into place (page last), removes rnnscope's files of the previous report, records the
   * manifest. */
  async commit(): Promise<string[]> {
    const blocked: string[] = [];
    for (const rel of this.staged.keys()) {
      const s = await this.status(rel);
      if (s === 'foreign' || s === 'input') blocked.push(rel);
    }
    if (blocked.length > 0) {
      await this.abort();
      this.refuse(blocked);
    }
    const manifestFile = path.join(this.dir, MANIFEST_FILE);
    const mc = { shown: path.join(this.c.shown, MANIFEST_FILE), role: 'The report manifest' };
    const pending = Object.fromEntries([...this.staged].map(([rel, s]) => [rel, s.entry]));
    await atomicWriteFile(manifestFile, `${JSON.stringify({ ...this.manifest, pending }, null, 1)}\n`, mc);
    const order = [...this.staged.keys()].sort((a, b) => rank(a) - rank(b));
    for (const rel of order)
      await commitTemp(this.staged.get(rel)!.temp, path.join(this.dir, rel), {
        shown: path.join(this.c.shown, rel),
        role: 'The report file',
      });
    const emptied = new Set<string>();
    for (const rel of Object.keys(this.manifest.files)) {
      if (this.staged.has(rel) || this.kept.has(rel)) continue;
      if ((await this.status(rel)) === 'owned') {
        await unlink(path.join(this.dir, rel)).catch(() => undefined);
        if (path.dirname(path.dirname(rel)) === 'charts') emptied.add(path.dirname(rel));
      }
    }
    // A run's chart folder that held only rnnscope's files of the previous report goes with them (rmdir
    // removes only an empty folder, so anything of the user's keeps it).
    for (const sub of emptied) await rmdir(path.join(this.dir, sub)).catch(() => undefined);
    const files: Record<string, Entry> = {};
    for (const rel of this.kept)
      if (this.manifest.files[rel] && (await this.status(rel)) !== 'foreign') files[rel] = this.manifest.files[rel];
    for (const [rel, s] of this.staged) files[rel] = s.entry;
    this.manifest = {
      tool: 'rnnscope',
      about: ABOUT,
      files: Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b))),
    };
    await atomicWriteFile(manifestFile, `${JSON.stringify(this.manifest, null, 1)}\n`, mc);
    const written = order;
    this.staged.clear();
    keepCreatedFolders();
    return written;
  }

  /** Drops the staged files (the previous report stays as it was) and the folders this run created, if empty. */
  async abort(): Promise<void> {
    for (const { temp } of this.staged.values()) await discardTemp(temp);
    this.staged.clear();
    await this.lock.release();
    await removeCreated(this.created);
  }

  /** Releases the lock (after commit or abort). */
  async close(): Promise<void> {
    await this.lock.release();
  }
}

/** Charts first, then the analysis, the page last: a half-renamed report never shows a new page over old charts. */
function rank(rel: string): number {
  return rel === 'index.html' ? 2 : rel === 'analysis.json' ? 1 : 0;
}
