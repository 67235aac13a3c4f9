// The cell registry (src/engine/cells) is the one home of what a recurrent cell is, and the kernels a
// run uses are chosen once at its entry point. Checked on the sources:
//   - every registered cell is well-formed (unique kind and classes, the fused Keras layout first,
//     states [h] or [h, c]) and every Keras class it names builds a model with its parameters;
//   - no module outside src/engine/cells compares a cell kind or a recurrent class name to a literal
//     (the stages read the registry instead);
//   - kernels-js.ts (the interface and the JavaScript reference) is a leaf, kernels-wasm.ts does not
//     import kernels.ts (no runtime cycle), and only entry points call the global kernels().
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CELLS, cellOfCellClass, cellOfLayerClass } from '../src/engine/cells/index.js';
import { buildModel } from '../src/model/build.js';

const ROOT = path.join(import.meta.dirname, '..');
const SRC = path.join(ROOT, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}
const rel = (p: string): string => path.relative(ROOT, p).split(path.sep).join('/');
/** Source without comments (a comment may name cells freely). */
const code = (p: string): string =>
  readFileSync(p, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');

describe('cell registry', () => {
  it('every cell is well-formed and its names are its own', () => {
    const kinds = new Set<string>(),
      classes = new Set<string>();
    for (const c of CELLS) {
      expect(kinds.has(c.kind), c.kind).toBe(false);
      kinds.add(c.kind);
      for (const k of [...Object.keys(c.layerClasses), ...c.cellClasses]) {
        expect(classes.has(k), `${k} named by two cells`).toBe(false);
        classes.add(k);
      }
      expect(new Set(c.gates.map((g) => g.name)).size, `${c.kind} gate names`).toBe(c.gates.length);
      expect([['h'], ['h', 'c']].map((s) => s.join())).toContain(c.states.join());
      for (const form of c.forms ?? [{ name: '', options: {} }]) {
        for (const useBias of [true, false]) {
          const spec = { kind: c.kind, units: 3, inputDim: 2, useBias, ...form.options } as Parameters<
            typeof c.params
          >[0];
          const ps = c.params(spec);
          expect(ps.slice(0, useBias ? 3 : 2).map((p) => p.name)).toEqual(
            ['kernel', 'recurrent_kernel', 'bias'].slice(0, useBias ? 3 : 2),
          );
          const cv = spec.conv;
          // A convolutional cell's kernels are (…kernel_size, channels | filters, G·filters).
          expect(ps[0]!.shape).toEqual(
            cv ? [...cv.kernelSize, cv.channels, cv.filters * c.gates.length] : [2, 3 * c.gates.length],
          );
          expect(ps[1]!.shape).toEqual(
            cv ? [...cv.kernelSize, cv.filters, cv.filters * c.gates.length] : [3, 3 * c.gates.length],
          );
          expect(ps.every((p) => p.hint.length > 0)).toBe(true);
        }
      }
    }
  });

  it('every layer class and every RNN(cell) class a cell names builds that cell with its parameters', () => {
    const input = {
      class_name: 'InputLayer',
      config: { batch_input_shape: [null, 5, 2], dtype: 'float32', name: 'x' },
    };
    const seq = (layer: unknown, inp: unknown = input) => ({
      class_name: 'Sequential',
      config: { name: 's', layers: [inp, layer] },
    });
    for (const c of CELLS) {
      // A convolutional cell's layers take frames (rank from the class) and filters instead of units.
      const conv = (cls: string) => ({
        filters: 3,
        kernel_size: 2,
        padding: 'same',
        rank: c.layerClasses[cls]!.convRank!,
      });
      const layers = Object.keys(c.layerClasses).map((cls) => ({
        class_name: cls,
        config: c.convolutional ? { name: 'r', ...conv(cls) } : { name: 'r', units: 3 },
      }));
      const cells = c.cellClasses.map((cls) => ({
        class_name: 'RNN',
        config: { name: 'r', cell: { class_name: cls, config: { name: 'cell', units: 3 } } },
      }));
      for (const l of [...layers, ...cells]) {
        const rank = (l.config as { rank?: number }).rank ?? 0;
        const frame = {
          ...input,
          config: { ...input.config, batch_input_shape: [null, 5, ...Array(rank).fill(4), 2] },
        };
        const m = buildModel(seq(l, frame), { kerasVersion: '2.13.1', format: 'config', source: 'registry test' });
        const r = m.layers.find((x) => x.type === 'Recurrent');
        expect(r?.type === 'Recurrent' && r.rnn.kind, JSON.stringify(l)).toBe(c.kind);
        if (r?.type !== 'Recurrent') continue;
        expect(m.params[m.layers.indexOf(r)]!.map((p) => p.name)).toEqual(c.params(r.rnn).map((p) => p.name));
      }
      for (const cls of Object.keys(c.layerClasses)) expect(cellOfLayerClass(cls)?.cell).toBe(c);
      for (const cls of c.cellClasses) expect(cellOfCellClass(cls)).toBe(c);
    }
  });

  it('no stage outside src/engine/cells switches on a cell kind or recurrent class name', () => {
    const names = [...new Set(CELLS.flatMap((c) => [c.kind, ...Object.keys(c.layerClasses), ...c.cellClasses]))];
    const lit = `'(?:${names.join('|')})'`;
    const pattern = new RegExp(`(?:[=!]==\\s*${lit}|${lit}\\s*[=!]==|case\\s+${lit}\\s*:)`);
    const offenders = files(SRC)
      .filter((f) => !rel(f).startsWith('src/engine/cells/'))
      .flatMap((f) =>
        code(f)
          .split('\n')
          .filter((l) => pattern.test(l))
          .map((l) => `${rel(f)}: ${l.trim()}`),
      );
    expect(offenders).toEqual([]);
  });
});

describe('kernels modules', () => {
  const imports = (f: string): string[] =>
    [...code(path.join(SRC, 'engine', f)).matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]!);

  it('kernels-js.ts is a leaf; kernels-wasm.ts does not import kernels.ts', () => {
    expect(imports('kernels-js.ts')).toEqual(['./tensor.js']);
    expect(imports('kernels-wasm.ts')).not.toContain('./kernels.js');
  });

  it("only entry points call the global kernels(); everything else uses the run's kernels", () => {
    const ENTRY = [
      'src/engine/kernels.ts',
      'src/engine/run.ts',
      'src/analysis/analyze.ts',
      'src/analysis/attention-paths.ts',
      'src/index.ts',
      // A pool worker's task module: the entry point of its thread.
      'src/analyze-range.ts',
    ];
    const noStrings = (t: string): string => t.replace(/'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g, "''");
    const callers = files(SRC)
      .filter((f) => /\bkernels\(\)/.test(noStrings(code(f))))
      .map(rel)
      .filter((f) => !ENTRY.includes(f));
    expect(callers).toEqual([]);
  });
});
