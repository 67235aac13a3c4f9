// The .npz writer against numpy itself (python3-numpy), when available.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpz } from '../src/io/npz-write.js';

let numpy = false;
try {
  execFileSync('/usr/bin/python3', ['-c', 'import numpy'], { stdio: 'ignore' });
  numpy = true;
} catch {
  /* numpy absent */
}

describe.runIf(numpy)('npz writer', () => {
  it('numpy.load reads names, shapes, dtypes and values', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnnscope-npz-'));
    const f = join(dir, 'a.npz');
    writeFileSync(
      f,
      encodeNpz(
        new Map([
          ['grad/lstm/kernel', { shape: [2, 3], data: Float64Array.from([1, 2, 3, 4, 5, 6.5]) }],
          ['dh/lstm', { shape: [1, 2, 2], data: Float32Array.from([0.25, -1, 3, 1e-30]) }],
          ['loss', { shape: [], data: Float64Array.of(0.125) }],
        ]),
      ),
    );
    const out = execFileSync('/usr/bin/python3', [
      '-c',
      `import numpy as np, json
z = np.load(${JSON.stringify(f)})
print(json.dumps({k: [str(z[k].dtype), list(z[k].shape), z[k].ravel().tolist()] for k in sorted(z.files)}))`,
    ]).toString();
    expect(JSON.parse(out)).toEqual({
      'dh/lstm': ['float32', [1, 2, 2], [0.25, -1, 3, Math.fround(1e-30)]],
      'grad/lstm/kernel': ['float64', [2, 3], [1, 2, 3, 4, 5, 6.5]],
      loss: ['float64', [], [0.125]],
    });
  });
});
