// Files from a drop, a file picker or a folder picker, with the names the loaders look siblings up
// by, and the size check made before anything is read.
//
// A drop of real files carries FileSystemEntry objects (webkitGetAsEntry), which also walk a
// dropped folder; a DataTransfer made by a script (or a browser without entries) has only its
// flat file list. A folder picker names each file by its path inside the folder.

import { MAX_FILE_BYTES, MAX_TOTAL_BYTES, type AppError } from './app-protocol.js';

export interface Dropped {
  file: File;
  /** "model.keras", or "folder/sub/file" inside a dropped folder. */
  name: string;
  fromFolder: boolean;
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function readDir(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  // readEntries hands out a folder's entries in batches (100 in Chromium) until an empty one.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

async function walk(entry: FileSystemEntry, out: Dropped[]): Promise<void> {
  if (entry.isFile) {
    const name = entry.fullPath.replace(/^\/+/, '') || entry.name;
    out.push({ file: await fileOf(entry as FileSystemFileEntry), name, fromFolder: name.includes('/') });
  } else if (entry.isDirectory) {
    for (const e of await readDir(entry as FileSystemDirectoryEntry)) await walk(e, out);
  }
}

/** Every file of a drop, folders walked. */
export async function filesOfDrop(dt: DataTransfer): Promise<Dropped[]> {
  const entries = Array.from(dt.items ?? [])
    .filter((i) => i.kind === 'file')
    .map((i) => (typeof i.webkitGetAsEntry === 'function' ? i.webkitGetAsEntry() : null));
  if (entries.length > 0 && entries.every((e) => e !== null)) {
    const out: Dropped[] = [];
    for (const e of entries) await walk(e!, out);
    return out;
  }
  return Array.from(dt.files, (file) => ({ file, name: file.name, fromFolder: false }));
}

/** The files of a file or folder <input>. */
export function filesOfInput(list: FileList): Dropped[] {
  return Array.from(list, (file) => {
    const path = file.webkitRelativePath;
    return { file, name: path || file.name, fromFolder: !!path };
  });
}

const size = (n: number): string =>
  n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${n} bytes`;

/**
 * Refusals of files too large for the tab, decided on File.size before any byte is read: each
 * file at most MAX_FILE_BYTES, all together at most MAX_TOTAL_BYTES.
 */
export function sizeRefusals(files: readonly Dropped[]): AppError[] {
  const out: AppError[] = [];
  for (const f of files) {
    if (f.file.size > MAX_FILE_BYTES) {
      out.push({
        name: 'LoadError',
        stage: 'load',
        file: f.name,
        message: `${f.name} is ${f.file.size} bytes (${size(f.file.size)}), more than the ${MAX_FILE_BYTES} bytes (${size(MAX_FILE_BYTES)}) this page reads into a browser tab; expected a smaller file, so analyse it with the command line (rnnscope analyze reads files up to 2 GiB) or pass fewer samples.`,
      });
    }
  }
  const total = files.reduce((n, f) => n + f.file.size, 0);
  if (out.length === 0 && total > MAX_TOTAL_BYTES) {
    out.push({
      name: 'LoadError',
      stage: 'load',
      message: `The ${files.length} files hold ${total} bytes (${size(total)}) together, more than the ${MAX_TOTAL_BYTES} bytes (${size(MAX_TOTAL_BYTES)}) this page reads into a browser tab at once; expected fewer or smaller files, so remove some or use the command line.`,
    });
  }
  return out;
}
