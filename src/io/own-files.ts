// Whether an existing single output file (--json, --dump) is one rnnscope wrote, judged by its
// content, so that a rerun may replace it while anything else of the user's is refused:
//   - analysis JSON: starts with rnnscope's schema tag ({"schema":"rnnscope.analysis/…");
//   - gradient dump: a zip (.npz) whose members are .npy arrays including loss.npy and grad/….npy
//     (read from the zip's central directory at the end of the file, not the whole file);
//   - an empty file holds nothing to lose (mktemp makes those), so it may be replaced too.

import { open, stat } from 'node:fs/promises';

const ANALYSIS_HEAD = /^\s*\{\s*"schema"\s*:\s*"rnnscope\.analysis(-set)?\/\d+"/;

async function readAt(file: string, position: number, length: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, position);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export async function isEmptyFile(file: string): Promise<boolean> {
  return (await stat(file)).size === 0;
}

export async function looksLikeAnalysisJson(file: string): Promise<boolean> {
  if (await isEmptyFile(file)) return true;
  return ANALYSIS_HEAD.test((await readAt(file, 0, 256)).toString('utf8'));
}

/** Member names of a zip file from its central directory, or null when it is not a readable zip. */
export async function zipMemberNames(file: string, maxDirectoryBytes = 64 * 2 ** 20): Promise<string[] | null> {
  const size = (await stat(file)).size;
  if (size < 22) return null;
  const tailLen = Math.min(size, 22 + 0xffff);
  const tail = await readAt(file, size - tailLen, tailLen);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return null;
  let entries = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (cdSize === 0xffffffff || cdOffset === 0xffffffff || entries === 0xffff) {
    // Zip64: the locator (20 bytes before the end record) points at the zip64 end record.
    if (eocd < 20 || tail.readUInt32LE(eocd - 20) !== 0x07064b50) return null;
    const at = Number(tail.readBigUInt64LE(eocd - 20 + 8));
    const z = await readAt(file, at, 56);
    if (z.length < 56 || z.readUInt32LE(0) !== 0x06064b50) return null;
    entries = Number(z.readBigUInt64LE(32));
    cdSize = Number(z.readBigUInt64LE(40));
    cdOffset = Number(z.readBigUInt64LE(48));
  }
  if (cdSize > maxDirectoryBytes || cdOffset + cdSize > size) return null;
  const cd = await readAt(file, cdOffset, cdSize);
  const names: string[] = [];
  let p = 0;
  for (let i = 0; i < entries; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50) return null;
    const n = cd.readUInt16LE(p + 28),
      x = cd.readUInt16LE(p + 30),
      c = cd.readUInt16LE(p + 32);
    names.push(cd.subarray(p + 46, p + 46 + n).toString('utf8'));
    p += 46 + n + x + c;
  }
  return names;
}

export async function looksLikeDump(file: string): Promise<boolean> {
  if (await isEmptyFile(file)) return true;
  const names = await zipMemberNames(file);
  if (!names || names.length === 0) return false;
  return (
    names.every((n) => n.endsWith('.npy')) &&
    names.some((n) => /^(run\d+\/)?loss\.npy$/.test(n)) &&
    names.some((n) => /^(run\d+\/)?grad\/.+\.npy$/.test(n))
  );
}
