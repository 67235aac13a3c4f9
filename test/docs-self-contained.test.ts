// The project explains itself: comments and scripts cite the repository's own docs/, never a
// document outside it, and every "docs/<page>.md, '<section>'" they cite names a page and a
// heading that exist.

import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
const TEXT = /\.(ts|js|mjs|py|md|html|css|json|sh)$/;

function files(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir)) {
    if (n === 'node_modules' || n === 'fixtures' || n.startsWith('.')) continue;
    const p = path.join(dir, n);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (TEXT.test(n)) out.push(p);
  }
  return out;
}

const rel = (f: string) => path.relative(ROOT, f);

/** `grep -rn "§" src web bench scripts`: section signs cite numbered sections of a document outside the repo. */
function sectionSigns(dirs: string[]): string[] {
  const hits: string[] = [];
  for (const d of dirs)
    for (const f of files(path.join(ROOT, d)))
      readFileSync(f, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (line.includes('§')) hits.push(`${rel(f)}:${i + 1}: ${line.trim()}`);
        });
  return hits;
}

/** Every "docs/x.md" with the quoted section names that follow it (comment line breaks joined). */
function docCitations(text: string): { page: string; sections: string[] }[] {
  const joined = text.replace(/\n\s*(?:\/\/|\*|#)\s*/g, ' ');
  const out: { page: string; sections: string[] }[] = [];
  for (const m of joined.matchAll(/docs\/([\w-]+\.md)((?:(?:,\s*|\s*\(|\s+and\s+)'[^'\n]+')*)/g)) {
    out.push({ page: m[1]!, sections: [...m[2]!.matchAll(/'([^'\n]+)'/g)].map((s) => s[1]!) });
  }
  return out;
}

function headings(page: string): string[] {
  return readFileSync(path.join(ROOT, 'docs', page), 'utf8')
    .split('\n')
    .filter((l) => /^#{1,4} /.test(l))
    .map((l) => l.replace(/^#+ /, '').trim());
}

describe('the project explains itself', () => {
  it('grep -rn "§" src web bench scripts finds nothing', () => {
    expect(sectionSigns(['src', 'web', 'bench', 'scripts'])).toEqual([]);
  });

  it('the check sees a section sign', () => {
    const hits = sectionSigns(['test']).filter((h) => h.startsWith('test/helpers/deflate-runs.ts'));
    // RFC 1951's sections, cited in a test helper, are the one upstream standard cited by number.
    expect(hits.length).toBeGreaterThan(0);
  });

  it('nothing cites the reference notes kept outside the repository', () => {
    const bad: string[] = [];
    for (const d of ['src', 'web', 'bench', 'scripts', 'test', 'docs'])
      for (const f of files(path.join(ROOT, d)))
        if (f !== __filename && /keras-formats\.md|shared\/docs/.test(readFileSync(f, 'utf8'))) bad.push(rel(f));
    expect(bad).toEqual([]);
  });

  it('every docs/ page and section a source file cites exists', () => {
    const bad: string[] = [];
    let cited = 0;
    for (const d of ['src', 'web', 'bench', 'scripts', 'test'])
      for (const f of files(path.join(ROOT, d))) {
        if (f === __filename) continue;
        for (const c of docCitations(readFileSync(f, 'utf8'))) {
          cited++;
          if (!existsSync(path.join(ROOT, 'docs', c.page))) {
            bad.push(`${rel(f)}: docs/${c.page} does not exist`);
            continue;
          }
          const hs = headings(c.page);
          for (const s of c.sections)
            if (!hs.some((h) => h === s || h.startsWith(`${s} (`))) bad.push(`${rel(f)}: docs/${c.page} has no '${s}'`);
        }
      }
    expect(bad).toEqual([]);
    expect(cited).toBeGreaterThan(40);
  });

  it('citations are read across wrapped comment lines', () => {
    const src =
      "// see docs/formats.md,\n// 'Legacy HDF5' and 'Keras 3 variable store'; docs/masking.md\nf('docs/x.md', 'y')";
    expect(docCitations(src)).toEqual([
      { page: 'formats.md', sections: ['Legacy HDF5', 'Keras 3 variable store'] },
      { page: 'masking.md', sections: [] },
      { page: 'x.md', sections: [] },
    ]);
  });
});
