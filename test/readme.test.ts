// The README's library example runs as written (imports mapped to the sources, 'model.keras' to a
// real corpus model with the (batch, 100, 6) input it shows).
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.join(import.meta.dirname, '..');

describe('README', () => {
  it('the library example runs and prints a loss and a kernel-gradient shape', async () => {
    const md = readFileSync(path.join(root, 'README.md'), 'utf8');
    const code = /```ts\n([\s\S]*?)```/.exec(md)![1]!
      .replace("'rnnscope/node'", JSON.stringify(pathToFileURL(path.join(root, 'src/node.ts')).href))
      .replace("'rnnscope'", JSON.stringify(pathToFileURL(path.join(root, 'src/index.ts')).href))
      .replace("'model.keras'", JSON.stringify(path.join(root, 'test/fixtures/corpus/k3_hatice_har_lstm/lstm_model.keras')));
    const logged: unknown[][] = [];
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'rnnscope-readme-')), 'example.ts');
    const lines = code.split('\n');
    const imports = lines.filter((l) => l.startsWith('import ')).join('\n');
    const body = lines.filter((l) => !l.startsWith('import ')).join('\n');
    writeFileSync(file, `${imports}\nexport async function run(console: { log: (...a: unknown[]) => void }) {\n${body}\n}\n`);
    const mod = await import(pathToFileURL(file).href);
    await mod.run({ log: (...a: unknown[]) => logged.push(a) });
    // Cross-entropy against uniform targets is at least their entropy, log 6 (Gibbs' inequality).
    expect(logged[0]![0]).toBeGreaterThan(Math.log(6));
    expect(Number.isFinite(logged[0]![0])).toBe(true);
    expect(logged[0]![1]).toEqual([6, 512]);                      // lstm kernel: (inputs, 4 × 128 units)
    expect(logged[1]![0]).toBe(32 * 100 * 128);
  });
});
