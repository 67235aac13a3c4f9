// The README's library example runs as written (imports mapped to the sources, 'model.keras' to a
// real corpus model with the (batch, 100, 6) input it shows).
import { readdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openData } from '../src/io/data.js';

const root = path.join(import.meta.dirname, '..');

describe('README', () => {
  it('the library example runs and prints a loss and a kernel-gradient shape', async () => {
    const md = readFileSync(path.join(root, 'README.md'), 'utf8');
    const code = /```ts\n([\s\S]*?)```/
      .exec(md)![1]!
      .replace("'rnnscope/node'", JSON.stringify(pathToFileURL(path.join(root, 'src/node.ts')).href))
      .replace("'rnnscope'", JSON.stringify(pathToFileURL(path.join(root, 'src/index.ts')).href))
      .replace(
        "'model.keras'",
        JSON.stringify(path.join(root, 'test/fixtures/corpus/k3_hatice_har_lstm/lstm_model.keras')),
      );
    const logged: unknown[][] = [];
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'rnnscope-readme-')), 'example.ts');
    const lines = code.split('\n');
    const imports = lines.filter((l) => l.startsWith('import ')).join('\n');
    const body = lines.filter((l) => !l.startsWith('import ')).join('\n');
    writeFileSync(
      file,
      `${imports}\nexport async function run(console: { log: (...a: unknown[]) => void }) {\n${body}\n}\n`,
    );
    const mod = await import(pathToFileURL(file).href);
    await mod.run({ log: (...a: unknown[]) => logged.push(a) });
    // Cross-entropy against uniform targets is at least their entropy, log 6 (Gibbs' inequality).
    expect(logged[0]![0]).toBeGreaterThan(Math.log(6));
    expect(Number.isFinite(logged[0]![0])).toBe(true);
    expect(logged[0]![1]).toEqual([6, 512]); // lstm kernel: (inputs, 4 × 128 units)
    expect(logged[1]![0]).toBe(32 * 100 * 128);
  });
});

// Every fenced block of the README and docs/ is run by a test: which test runs each language.
// Unlabelled blocks are text (a folder tree, a header value), not code.
const DOCS = [
  'README.md',
  ...readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const RUNNERS: Record<string, Record<string, string>> = {
  'README.md': { ts: 'test/readme.test.ts', sh: 'test/cli-docs.test.ts' },
  'docs/data-formats.md': { json: 'test/readme.test.ts' },
  'docs/training.md': {
    sh: 'test/timeline-docs.test.ts',
    python: 'test/timeline-docs.test.ts',
    ts: 'test/timeline-docs.test.ts',
  },
};

function fenced(file: string): { lang: string; body: string }[] {
  const md = readFileSync(path.join(root, file), 'utf8');
  return [...md.matchAll(/^```(\w*)\n([\s\S]*?)^```/gm)].map((m) => ({ lang: m[1]!, body: m[2]! }));
}

describe('code blocks in the README and docs/', () => {
  it('every labelled block has a test that runs it, and that test reads the file it is in', () => {
    const missing: string[] = [];
    for (const file of DOCS) {
      for (const { lang } of fenced(file)) {
        if (lang === '') continue;
        // Shell blocks of every doc are found and run by cli-docs.test.ts (it reads README.md and docs/*.md).
        const runner = RUNNERS[file]?.[lang] ?? (lang === 'sh' ? 'test/cli-docs.test.ts' : undefined);
        if (!runner) {
          missing.push(`${file}: a \`\`\`${lang} block`);
          continue;
        }
        const src = readFileSync(path.join(root, runner), 'utf8');
        const reads =
          runner === 'test/cli-docs.test.ts'
            ? /readdirSync\(path\.join\(ROOT, 'docs'\)\)/.test(src) && src.includes("'README.md'")
            : src.includes(path.basename(file));
        if (!reads) missing.push(`${file}: ${runner} does not read ${file}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("data-formats.md's JSON examples read as documented (the one with '...' is a sketch)", () => {
    const [block] = fenced('docs/data-formats.md').filter((b) => b.lang === 'json');
    const lines = block!.body.trim().split('\n');
    expect(lines).toHaveLength(3);
    const [nested] = openData(Buffer.from(lines[0]!), 'x.json');
    expect(nested!.shape).toEqual([2, 2, 2]);
    expect([...nested!.data]).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
    expect(lines[1]).toContain('...');
    // "Lists of integers of different lengths are token sequences … padded with 0 in front to the longest".
    const [tokens] = openData(Buffer.from(lines[2]!), 'tokens.json');
    expect(tokens!.shape).toEqual([3, 4]);
    expect([...tokens!.data]).toEqual([0, 3, 7, 1, 0, 0, 4, 2, 9, 9, 9, 1]);
  });
});
