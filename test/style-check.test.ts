// The line-length check that `npm run lint` runs: literals and URLs are set aside, code and comments count.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { codeWidths, longLines, MAX_LINE } from '../scripts/check-line-length.js';

const long = (n: number) => 'x'.repeat(n);

describe('line-length check', () => {
  it('counts code and comments', () => {
    expect(longLines(`const a = ${long(MAX_LINE)};`)).toEqual([1]);
    expect(longLines(`ok();\n// ${long(MAX_LINE)}`)).toEqual([2]);
  });
  it('sets aside strings, template text, regex literals and URLs', () => {
    expect(longLines(`f('${long(200)}');`)).toEqual([]);
    expect(longLines(`f(\`a\n${long(200)}\nb\`);`)).toEqual([]);
    expect(longLines(`const r = /${long(200)}/;`)).toEqual([]);
    expect(longLines(`// see https://example.com/${long(200)}`)).toEqual([]);
  });
  it('counts the code parts of a template as code', () => {
    expect(longLines(`f(\`\${${long(MAX_LINE)}}\`);`)).toEqual([1]);
    expect(codeWidths('a / b / c')).toEqual([9]);
  });
});

describe('npm run lint and npm run format (docs/contributing.md)', () => {
  const ROOT = fileURLToPath(new URL('..', import.meta.url));
  const npm = (cwd: string, script: string) =>
    spawnSync('npm', ['run', '--silent', script], { cwd, encoding: 'utf8', timeout: 120_000 });

  it('lint passes on the repository', () => {
    const r = npm(ROOT, 'lint');
    expect(r.stderr + r.stdout).not.toMatch(/error|longer than/i);
    expect(r.status).toBe(0);
  }, 150_000);

  it('format rewrites a badly formatted file, and lint fails on it before', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rnnscope-style-'));
    try {
      for (const f of ['biome.jsonc', 'package.json']) copyFileSync(path.join(ROOT, f), path.join(dir, f));
      mkdirSync(path.join(dir, 'scripts'));
      copyFileSync(path.join(ROOT, 'scripts/check-line-length.ts'), path.join(dir, 'scripts/check-line-length.ts'));
      symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
      spawnSync('git', ['init', '-q'], { cwd: dir });
      writeFileSync(path.join(dir, 'a.ts'), 'export const a = {x:1,\n  "y" : [1,2,3]}\n');
      spawnSync('git', ['add', '.'], { cwd: dir });
      expect(npm(dir, 'lint').status).not.toBe(0);
      expect(npm(dir, 'format').status).toBe(0);
      expect(readFileSync(path.join(dir, 'a.ts'), 'utf8')).toBe('export const a = { x: 1, y: [1, 2, 3] };\n');
      expect(npm(dir, 'lint').status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
