// Wildcards the shell did not expand: `--weights 'ckpt/*.h5'` in quotes, or a shell without
// globbing (cmd.exe). `*`, `?` and `[...]` are matched one path segment at a time (no `**`);
// hidden names match only a pattern that starts with a dot. A path that exists as written is
// taken literally, so a file really named `a*.h5` still works.

import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { RnnscopeError } from '../model/errors.js';

const MAGIC = /[*?[]/;

function segmentRegex(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const j = seg.indexOf(']', i + 2);
      if (j < 0) {
        re += '\\[';
        continue;
      }
      let body = seg.slice(i + 1, j);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = j;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

async function expandOne(pattern: string): Promise<string[]> {
  const abs = path.isAbsolute(pattern);
  const parts = pattern.split(/[\\/]+/).filter((s, i) => s !== '' || i === 0);
  let bases = [abs ? parts.shift()! || path.sep : '.'];
  if (abs && bases[0] === '') bases = [path.sep];
  for (const seg of parts) {
    const next: string[] = [];
    for (const b of bases) {
      if (!MAGIC.test(seg)) {
        const p = b === '.' && !abs ? seg : path.join(b, seg);
        if (await exists(p)) next.push(p);
        continue;
      }
      let names: string[];
      try {
        names = await readdir(b);
      } catch {
        continue;
      }
      const re = segmentRegex(seg);
      for (const n of names.sort())
        if ((!n.startsWith('.') || seg.startsWith('.')) && re.test(n))
          next.push(b === '.' && !abs ? n : path.join(b, n));
    }
    bases = next;
  }
  return bases;
}

/** Each argument with wildcards that is not itself a path, replaced by the paths it matches (sorted). */
export async function expandGlobs(args: string[], role: string): Promise<{ files: string[]; expanded: boolean }> {
  const files: string[] = [];
  let expanded = false;
  for (const a of args) {
    if (!MAGIC.test(a) || (await exists(a))) {
      files.push(a);
      continue;
    }
    const m = await expandOne(a);
    if (m.length === 0)
      throw new RnnscopeError(
        'usage',
        `No file matches ${role} '${a}'; expected the pattern to name existing files, so check the folder and the pattern.`,
      );
    files.push(...m);
    expanded = true;
  }
  return { files, expanded };
}
