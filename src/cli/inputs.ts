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

interface Problem {
  ref: InputRef;
  text: string;
  hint: string;
}

async function problemOf(r: InputRef): Promise<Problem | null> {
  const fromErrno = (e: unknown): Problem => {
    const p = fsProblem(errnoCode(e) ?? '', { action: 'read' });
    if (!p) throw e;
    return { ref: r, text: `${r.role} ${r.file} ${p.problem}`, hint: p.hint };
  };
  let st;
  try {
    st = await stat(r.file);
  } catch (e) {
    return fromErrno(e);
  }
  if (st.isDirectory())
    return r.folderOk ? null : { ref: r, text: `${r.role} ${r.file} is a folder`, hint: 'pass the file itself' };
  if (!st.isFile())
    return {
      ref: r,
      text: `${r.role} ${r.file} is not a regular file (a device, pipe or socket)`,
      hint: 'pass a file saved on disk',
    };
  if (st.size > MAX_READ_BYTES) {
    return {
      ref: r,
      text: `${r.role} ${r.file} is ${st.size} bytes, larger than the ${MAX_READ_BYTES} bytes (2 GiB) rnnscope reads at once`,
      hint: 'pass a smaller file, for example fewer samples',
    };
  }
  try {
    await access(r.file, constants.R_OK);
  } catch (e) {
    return fromErrno(e);
  }
  return null;
}

function message(problems: Problem[]): string {
  const expected = [...new Set(problems.map((p) => p.ref.expected))].join(', and ');
  if (problems.length === 1) return `${cap(problems[0]!.text)}; expected ${expected}, so ${problems[0]!.hint}.`;
  const hints = [...new Set(problems.map((p) => p.hint))].join(', and ');
  return `${problems.length} input files cannot be used: ${problems.map((p) => p.text).join('; ')}; expected ${expected}, so ${hints}.`;
}

/** Refuses, in one message listing each, the inputs that are missing, unreadable, folders, devices or too large. */
export async function checkInputs(refs: InputRef[]): Promise<void> {
  const problems: Problem[] = [];
  for (const r of refs) {
    const p = await problemOf(r);
    if (p) problems.push(p);
  }
  if (problems.length > 0) throw new LoadError(message(problems), { file: problems[0]!.ref.file });
}

/** Reads an input file whole, mapping a file-system failure to a typed error. */
export async function readInput(r: InputRef): Promise<Uint8Array> {
  const problem = await problemOf(r);
  if (problem) throw new LoadError(message([problem]), { file: r.file });
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
