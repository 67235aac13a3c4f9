// The files a command reads, checked before any work: each must exist, be readable, be a regular
// file (or a model folder) and fit in memory; every problem is listed in one message. Reading
// maps what can still go wrong (a file removed meanwhile, a disk error) to one typed sentence.

import { access, constants, readFile, stat } from 'node:fs/promises';
import { LoadError } from '../model/errors.js';
import { MAX_READ_BYTES, errnoCode, fsError, fsProblem } from '../io/fs-errors.js';
import { fileId } from '../io/safe-write.js';
import type { InputFile } from '../report/out-folder.js';

export interface InputRef {
  file: string;
  /** Lower-case name of its role, e.g. "the --data file", "the model". */
  role: string;
  /** What a good one is, e.g. "a .npy, .npz, CSV or JSON file". */
  expected: string;
  /** A folder is accepted (an unzipped .keras or a TF.js model folder). */
  folderOk?: boolean;
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

async function problemOf(r: InputRef): Promise<string | null> {
  let st;
  try {
    st = await stat(r.file);
  } catch (e) {
    const p = fsProblem(errnoCode(e) ?? '', { action: 'read' });
    if (p) return `${r.role} ${r.file} ${p.problem}`;
    throw e;
  }
  if (st.isDirectory()) return r.folderOk ? null : `${r.role} ${r.file} is a folder, not ${r.expected}`;
  if (!st.isFile()) return `${r.role} ${r.file} is not a regular file (a device, pipe or socket), not ${r.expected}`;
  if (st.size > MAX_READ_BYTES) return `${r.role} ${r.file} is ${st.size} bytes, larger than the ${MAX_READ_BYTES} bytes (2 GiB) rnnscope reads at once`;
  try {
    await access(r.file, constants.R_OK);
  } catch (e) {
    const p = fsProblem(errnoCode(e) ?? '', { action: 'read' });
    if (p) return `${r.role} ${r.file} ${p.problem}`;
    throw e;
  }
  return null;
}

/** Refuses, in one message listing each, the inputs that are missing, unreadable, folders, devices or too large. */
export async function checkInputs(refs: InputRef[]): Promise<void> {
  const problems: string[] = [];
  for (const r of refs) {
    const p = await problemOf(r);
    if (p) problems.push(p);
  }
  if (problems.length === 0) return;
  const expected = [...new Set(refs.filter((r) => problems.some((p) => p.startsWith(`${r.role} ${r.file} `))).map((r) => r.expected))].join(' and ');
  const head = problems.length === 1 ? cap(problems[0]!) : `${problems.length} input files cannot be used: ${problems.join('; ')}`;
  const first = refs.find((r) => problems[0]!.startsWith(`${r.role} ${r.file} `));
  throw new LoadError(`${head}; expected ${expected}, so check the path${problems.length === 1 ? '' : 's'}.`, { file: first?.file });
}

/** Reads an input file whole, mapping a file-system failure to a typed error. */
export async function readInput(r: InputRef): Promise<Uint8Array> {
  const problem = await problemOf(r);
  if (problem) throw new LoadError(`${cap(problem)}; expected ${r.expected}, so check the path.`, { file: r.file });
  try {
    const b = await readFile(r.file);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    throw fsError(e, { file: r.file, role: cap(r.role), action: 'read', expected: r.expected });
  }
}

/** Identities of the inputs (files and folders) that outputs may not replace. */
export async function inputIds(refs: InputRef[]): Promise<InputFile[]> {
  const out: InputFile[] = [];
  for (const r of refs) {
    const id = await fileId(r.file);
    if (id) out.push({ id, what: `${r.role} ${r.file}` });
  }
  return out;
}
