// The watched folder: which entries are checkpoints, and when one is completely written.
//
// A checkpoint is a file ending in .keras, .h5 or .hdf5 (Keras' ModelCheckpoint, full model or
// weights only), or a folder holding model.json (TensorFlow.js, model.save('file://…')) or
// config.json (an unzipped .keras). Hidden names (temporary files, ours and others') are skipped.
// An entry is *settled* when its size and modification time (for a folder: of every file in it)
// have not changed for `settleMs`; it is *complete* when it also loads (the caller tries). Polling
// rather than fs.watch: it behaves the same on every platform, network drive and container mount.

import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

const FILE = /\.(keras|h5|hdf5)$/i;
const FOLDER_MARKERS = ['model.json', 'config.json'];

export interface Entry {
  /** Name inside the watched folder. */
  name: string;
  path: string;
  kind: 'file' | 'folder';
  /** Size and mtime of the file, or of every file in the folder: changes whenever anything is written. */
  signature: string;
  /** Latest modification time (ms). */
  mtimeMs: number;
  bytes: number;
}

/** Checkpoint entries of `dir` now; entries that vanish while being listed are left out. */
export async function listCheckpoints(dir: string): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const d of await readdir(dir, { withFileTypes: true })) {
    if (d.name.startsWith('.')) continue;
    const p = path.join(dir, d.name);
    try {
      if (d.isFile() && FILE.test(d.name)) {
        const s = await stat(p);
        out.push({
          name: d.name,
          path: p,
          kind: 'file',
          signature: `${s.size}:${s.mtimeMs}`,
          mtimeMs: s.mtimeMs,
          bytes: s.size,
        });
      } else if (d.isDirectory()) {
        const inner = (await readdir(p, { withFileTypes: true })).filter((x) => x.isFile() && !x.name.startsWith('.'));
        if (!inner.some((x) => FOLDER_MARKERS.includes(x.name))) continue;
        const parts: string[] = [];
        let mtimeMs = 0,
          bytes = 0;
        for (const x of inner.sort((a, b) => a.name.localeCompare(b.name))) {
          const s = await stat(path.join(p, x.name));
          parts.push(`${x.name}=${s.size}:${s.mtimeMs}`);
          mtimeMs = Math.max(mtimeMs, s.mtimeMs);
          bytes += s.size;
        }
        out.push({ name: d.name, path: p, kind: 'folder', signature: parts.join('|'), mtimeMs, bytes });
      }
    } catch {
      // Deleted or replaced between readdir and stat: seen (or not) on the next poll.
    }
  }
  return out;
}

export type State =
  | { status: 'settling'; since: number; signature: string }
  | { status: 'incomplete'; signature: string; reason: string; retryAt: number; tries: number }
  | { status: 'done'; signature: string }
  | { status: 'failed'; signature: string; reason: string };

/**
 * Tracks each entry across polls and says which are settled and due for a (re)try. A changed
 * signature starts settling again, also after a failed load (a half-written file is waited for);
 * a settled entry that does not load is retried with back-off (1, 2, 4 … 30 s) until it loads or changes.
 */
export class Settler {
  readonly states = new Map<string, State>();
  constructor(private readonly settleMs: number) {}

  /** Updates from a listing at time `now`; returns names that vanished (were known and are not done). */
  observe(entries: Entry[], now: number): string[] {
    const seen = new Set(entries.map((e) => e.name));
    const gone: string[] = [];
    for (const [name, st] of this.states) {
      if (!seen.has(name)) {
        this.states.delete(name);
        if (st.status !== 'done') gone.push(name);
      }
    }
    for (const e of entries) {
      const st = this.states.get(e.name);
      if (!st || st.signature !== e.signature)
        this.states.set(e.name, { status: 'settling', since: now, signature: e.signature });
    }
    return gone;
  }

  /** Entries ready to be loaded at `now`: settled, or incomplete and due for a retry. */
  due(entries: Entry[], now: number): Entry[] {
    return entries.filter((e) => {
      const st = this.states.get(e.name);
      if (!st || st.signature !== e.signature) return false;
      if (st.status === 'settling') return now - st.since >= this.settleMs;
      if (st.status === 'incomplete') return now >= st.retryAt;
      return false;
    });
  }

  done(e: Entry): void {
    this.states.set(e.name, { status: 'done', signature: e.signature });
  }

  /** The entry did not load: wait (it may still be written), retry later, or sooner if it changes. */
  incomplete(e: Entry, reason: string, now: number): State {
    const prev = this.states.get(e.name);
    const tries = prev?.status === 'incomplete' && prev.signature === e.signature ? prev.tries + 1 : 1;
    const st: State = {
      status: 'incomplete',
      signature: e.signature,
      reason,
      tries,
      retryAt: now + Math.min(30_000, 1000 * 2 ** (tries - 1)),
    };
    this.states.set(e.name, st);
    return st;
  }

  /** Loaded but unusable (another architecture, bad data fit): not retried unless it changes. */
  failed(e: Entry, reason: string): void {
    this.states.set(e.name, { status: 'failed', signature: e.signature, reason });
  }

  forget(name: string): void {
    this.states.delete(name);
  }

  pending(): { name: string; state: State }[] {
    return [...this.states]
      .filter(([, s]) => s.status === 'settling' || s.status === 'incomplete')
      .map(([name, state]) => ({ name, state }));
  }
}
