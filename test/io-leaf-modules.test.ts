// The io format modules are leaves: each imports only shared io modules (and the model stage),
// never another format module or the registries that list them; and src/ has no import cycles.
// Both read the import statements of the sources, so a new format or a new cycle is caught here.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formats } from '../src/io/index.js';
import { dataFormats } from '../src/io/data.js';

const SRC = path.resolve(__dirname, '../src');
const IO = path.join(SRC, 'io');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir)) {
    const p = path.join(dir, n);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

interface Import {
  target: string;
  typeOnly: boolean;
}

/** Static relative imports and re-exports of a module, resolved to .ts paths. */
function importsOf(file: string): Import[] {
  const src = readFileSync(file, 'utf8');
  const out: Import[] = [];
  const re = /^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?'(\.{1,2}\/[^']+)'/gm;
  for (const m of src.matchAll(re)) {
    out.push({ target: path.resolve(path.dirname(file), m[2]!).replace(/\.js$/, '.ts'), typeOnly: !!m[1] });
  }
  return out;
}

/** src/io modules that export match() and open() or read(): the format modules. */
function formatModules(): string[] {
  return readdirSync(IO)
    .filter((n) => n.endsWith('.ts'))
    .map((n) => path.join(IO, n))
    .filter((f) => {
      const s = readFileSync(f, 'utf8');
      return /^export function match\(/m.test(s) && /^export (async )?function (open|read)\(/m.test(s);
    });
}

describe('format modules are leaves', () => {
  const mods = formatModules();
  const names = mods.map((f) => path.basename(f, '.ts')).sort();

  it('finds every registered format as a module exporting match and open/read', () => {
    // Names as the registries know them: the module of each registered format exports that `name`.
    const exported = new Map(
      mods.map((f) => [/^export const name = '([^']+)'/m.exec(readFileSync(f, 'utf8'))?.[1], f]),
    );
    for (const f of formats) expect(exported.has(f.name), `model format ${f.name}`).toBe(true);
    const dataModules = dataFormats.filter((f) => exported.has(f.name));
    expect(dataModules.map((f) => f.name).sort()).toEqual(['csv', 'json', 'npy', 'npz']);
    expect(names).toEqual(['csv', 'json-data', 'keras-h5', 'keras-v3', 'keras-weights', 'npy', 'npz', 'tfjs-layers']);
  });

  it('no format module imports another format module or a registry', () => {
    const forbidden = new Set([...mods, path.join(IO, 'index.ts'), path.join(IO, 'data.ts')]);
    const bad: string[] = [];
    for (const f of mods)
      for (const imp of importsOf(f))
        if (forbidden.has(imp.target) && imp.target !== f)
          bad.push(`${path.relative(SRC, f)} imports ${path.relative(SRC, imp.target)}`);
    expect(bad).toEqual([]);
  });

  it('src/io and src/model load nothing with a dynamic import() (except the h5wasm package, loaded lazily)', () => {
    const bad: string[] = [];
    for (const f of [...sourceFiles(IO), ...sourceFiles(path.join(SRC, 'model'))]) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\bimport\(\s*'([^']+)'\s*\)/g))
        if (m[1] !== 'h5wasm') bad.push(`${path.relative(SRC, f)}: import('${m[1]}')`);
    }
    expect(bad).toEqual([]);
  });

  it('the check sees an import from one format to another (a planted one)', () => {
    const planted = path.join(IO, 'keras-weights.ts');
    const fake = `import { open } from './keras-h5.js';\nexport type { X } from './npy.js';\n`;
    const re = /^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?'(\.{1,2}\/[^']+)'/gm;
    const targets = [...fake.matchAll(re)].map((m) =>
      path.resolve(path.dirname(planted), m[2]!).replace(/\.js$/, '.ts'),
    );
    expect(targets.filter((t) => mods.includes(t)).map((t) => path.basename(t))).toEqual(['keras-h5.ts', 'npy.ts']);
  });
});

/** Cycles among the runtime imports of src/ (type-only imports vanish when compiled). */

function cycles(files: string[], imports: (f: string) => Import[] = importsOf): string[] {
  const graph = new Map(
    files.map((f) => [
      f,
      imports(f)
        .filter((i) => !i.typeOnly)
        .map((i) => i.target),
    ]),
  );
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const found: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 1);
    stack.push(f);
    for (const d of graph.get(f) ?? []) {
      if (!graph.has(d)) continue;
      if (state.get(d) === 1) {
        const loop = stack.slice(stack.indexOf(d)).map((x) => path.relative(SRC, x));
        // Start at the alphabetically first module, so that a cycle is named the same whatever the walk order.
        const k = loop.indexOf([...loop].sort()[0]!);
        const turned = [...loop.slice(k), ...loop.slice(0, k)];
        found.push([...turned, turned[0]].join(' -> '));
      } else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(f, 2);
  };
  for (const f of [...files].sort()) if (!state.has(f)) visit(f);
  return found;
}

describe('src/ has no import cycles', () => {
  it('no runtime import cycle', () => {
    expect(cycles(sourceFiles(SRC))).toEqual([]);
  });

  it('the check finds a cycle (the format registry planted into a format module), and not a type-only one', () => {
    const files = sourceFiles(SRC);
    const h5 = path.join(IO, 'keras-h5.ts');
    const plant = (typeOnly: boolean) => (f: string) =>
      f === h5 ? [...importsOf(f), { target: path.join(IO, 'index.ts'), typeOnly }] : importsOf(f);
    expect(cycles(files, plant(false))).toContain('io/index.ts -> io/keras-h5.ts -> io/index.ts');
    expect(cycles(files, plant(true))).not.toContain('io/index.ts -> io/keras-h5.ts -> io/index.ts');
  });
});
