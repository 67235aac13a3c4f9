// Ordinary mistakes are one sentence and exit code 1, never "a bug in rnnscope" (issue 10, item 7
// and the command-line parts of item 9): the real command line as a child process in a temporary
// folder, plus the pieces (errno mapping, progress units and ETA, terminal-safe text) in-process.

import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../src/io/npz-write.js';
import { fsError, fsErrorFromNode } from '../src/io/fs-errors.js';
import { OutputError, LoadError } from '../src/model/errors.js';
import {
  ANALYSIS_PHASES,
  etaSeconds,
  fmtDuration,
  progress,
  terminalSafe,
  terminalSafeDeep,
} from '../src/cli/output.js';
import { EXAMPLE, SIMPLE_RNN, TFJS_DIR, leftovers, rnnscope, snapshot } from './helpers/cli-child.js';

const T = 300_000;
const NOBODY = 65534;
let dir: string;
let n = 0;
function caseDir(mode?: number): string {
  const d = path.join(dir, `case${++n}`);
  mkdirSync(d);
  if (mode !== undefined) chmodSync(d, mode);
  return d;
}
const DATA = 'a .npy, .npz, CSV/TSV or JSON data file';

/** One sentence on stderr, "error: " first, exit 1, and not called a bug. */
function ordinary(r: { code: number | null; stderr: string }): string {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toMatch(/^error: [^\n]+\n$/);
  expect(r.stderr).not.toMatch(/bug in rnnscope/);
  return r.stderr.slice('error: '.length, -1);
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'rnnscope-errors-'));
  chmodSync(dir, 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeX(d: string): void {
  writeFileSync(path.join(d, 'x.npy'), encodeNpy({ shape: [4, 1, 1], data: Float32Array.from([0.1, -0.2, 0.3, 0.4]) }));
}

describe('missing, folder, device and oversized inputs', () => {
  it(
    'a missing --data file (before: raw ENOENT and "a bug")',
    async () => {
      const d = caseDir();
      const r = await rnnscope(['analyze', SIMPLE_RNN, '--data', 'nope.npy'], { cwd: d, timeoutMs: T });
      expect(ordinary(r)).toBe(`The --data file nope.npy does not exist; expected ${DATA}, so check the path.`);
    },
    T,
  );

  it(
    'a folder as --data and as --targets, a missing model and --weights: every problem in one message (before: EISDIR and "a bug")',
    async () => {
      const d = caseDir();
      mkdirSync(path.join(d, 'x'));
      writeX(d);
      let r = await rnnscope(['analyze', SIMPLE_RNN, '--data', 'x'], { cwd: d, timeoutMs: T });
      expect(ordinary(r)).toBe(`The --data file x is a folder; expected ${DATA}, so pass the file itself.`);
      r = await rnnscope(['analyze', 'gone.json', '--weights', 'gone.h5', '--data', 'x.npy', '--targets', 'x'], {
        cwd: d,
        timeoutMs: T,
      });
      expect(ordinary(r)).toBe(
        '3 input files cannot be used: the model gone.json does not exist; the --weights file gone.h5 does not exist; the --targets file x is a folder; ' +
          `expected a .keras, .h5 or TF.js model.json file (or its folder), and a Keras .h5 weights file, and ${DATA}, so check the path, and pass the file itself.`,
      );
    },
    T,
  );

  it(
    'a device as --data (before: /dev/zero grew past 11 GB)',
    async () => {
      const d = caseDir();
      const r = await rnnscope(['analyze', SIMPLE_RNN, '--data', '/dev/zero'], { cwd: d, timeoutMs: T });
      expect(ordinary(r)).toBe(
        `The --data file /dev/zero is not a regular file (a device, pipe or socket); expected ${DATA}, so pass a file saved on disk.`,
      );
    },
    T,
  );

  it(
    'data over 2 GiB (a sparse 3 GiB file; before: a raw Node RangeError)',
    async () => {
      const d = caseDir();
      const big = path.join(d, 'big.npy');
      writeFileSync(big, '');
      spawnSync('truncate', ['-s', '3G', big]);
      expect(statSync(big).size).toBe(3 * 2 ** 30);
      const r = await rnnscope(['analyze', SIMPLE_RNN, '--data', 'big.npy'], { cwd: d, timeoutMs: T });
      expect(ordinary(r)).toBe(
        `The --data file big.npy is 3221225472 bytes, larger than the 2147483647 bytes (2 GiB) rnnscope reads at once; expected ${DATA}, so pass a smaller file, for example fewer samples.`,
      );
    },
    T,
  );

  it(
    '--out pointing at a file (before: ENOTDIR/EEXIST and "a bug")',
    async () => {
      const d = caseDir();
      writeFileSync(path.join(d, 'report.txt'), 'mine\n');
      const r = await rnnscope(['report', EXAMPLE, '--out', 'report.txt'], { cwd: d, timeoutMs: T });
      expect(ordinary(r)).toBe(
        'The --out folder report.txt is a file; expected a folder (new or one rnnscope wrote), so choose another --out.',
      );
      expect(readFileSync(path.join(d, 'report.txt'), 'utf8')).toBe('mine\n');
      const r2 = await rnnscope(['analyze', SIMPLE_RNN, '--json', 'report.txt/a.json'], { cwd: d, timeoutMs: T });
      expect(ordinary(r2)).toContain('The --json file report.txt/a.json needs');
    },
    T,
  );
});

// Permission problems need a process the permissions apply to. Root reads and writes anything,
// so as root the child runs without the capabilities that override file permissions (setpriv),
// and the files are owned by another user.
const perms = (() => {
  if (process.getuid?.() !== 0)
    return {
      ok: true,
      why: '',
      wrap: [] as string[],
      deny: (p: string, dirMode: boolean) => chmodSync(p, dirMode ? 0o555 : 0o000),
    };
  const wrap = [
    'setpriv',
    '--inh-caps=-dac_override,-dac_read_search',
    '--bounding-set=-dac_override,-dac_read_search',
  ];
  const ok = spawnSync(wrap[0]!, [...wrap.slice(1), 'true']).status === 0;
  return {
    ok,
    why: ok ? '' : '(skipped: running as root without setpriv to drop the capabilities that override file permissions)',
    wrap,
    deny: (p: string, dirMode: boolean) => {
      chownSync(p, NOBODY, NOBODY);
      chmodSync(p, dirMode ? 0o755 : 0o600);
    },
  };
})();

describe.skipIf(!perms.ok)(`unreadable and unwritable paths ${perms.why}`, () => {
  const as = { wrap: perms.wrap };

  it(
    'an unreadable --data file and an unreadable model (before: EACCES and "a bug")',
    async () => {
      const d = caseDir();
      writeX(d);
      perms.deny(path.join(d, 'x.npy'), false);
      copyFileSync(SIMPLE_RNN, path.join(d, 'm.h5'));
      perms.deny(path.join(d, 'm.h5'), false);
      let r = await rnnscope(['analyze', SIMPLE_RNN, '--data', 'x.npy'], { cwd: d, timeoutMs: T, ...as });
      expect(ordinary(r)).toBe(
        `The --data file x.npy cannot be read (permission denied); expected ${DATA}, so check its permissions.`,
      );
      r = await rnnscope(['inspect', 'm.h5'], { cwd: d, timeoutMs: T, ...as });
      expect(ordinary(r)).toBe(
        'The model m.h5 cannot be read (permission denied); expected a .keras, .h5 or TF.js model.json file (or its folder), so check its permissions.',
      );
    },
    T,
  );

  it(
    'an unwritable output fails before any work, in under a second more than a usage error (before: after the whole analysis)',
    async () => {
      const d = caseDir();
      const locked = path.join(d, 'locked');
      mkdirSync(locked);
      perms.deny(locked, true);
      for (const args of [
        ['--json', 'locked/a.json'],
        ['--out', 'locked/report'],
        ['--dump', 'locked/g.npz'],
      ]) {
        const what =
          args[0] === '--json'
            ? 'The --json file locked/a.json'
            : args[0] === '--dump'
              ? 'The --dump file locked/g.npz'
              : 'The --out folder locked/report';
        // Against a run with the same start-up that is refused at argument checking, just before; the
        // least difference of up to three tries, since a shared machine adds its own jitter.
        const diffs: number[] = [];
        for (let attempt = 0; attempt < 3 && !diffs.some((x) => x < 1000); attempt++) {
          const base = await rnnscope(['analyze', SIMPLE_RNN, '--out', '-'], { cwd: d, timeoutMs: T, ...as });
          expect(base.code).toBe(2);
          const r = await rnnscope(['analyze', SIMPLE_RNN, '--max-samples', '100000', ...args], {
            cwd: d,
            timeoutMs: T,
            ...as,
          });
          expect(ordinary(r)).toBe(
            `${what} cannot be written (permission denied); expected ${args[0] === '--out' ? 'a writable place on a local disk' : 'a folder you can write to'}, so choose another place or fix the permissions.`,
          );
          diffs.push(r.ms - base.ms);
          console.log(
            `unwritable ${args[0]}: refused after ${r.ms.toFixed(0)} ms; a usage error after ${base.ms.toFixed(0)} ms`,
          );
        }
        expect(
          Math.min(...diffs),
          `extra time of the refusal over a usage error: ${diffs.map((x) => x.toFixed(0)).join(', ')} ms`,
        ).toBeLessThan(1000);
      }
      expect(readdirSync(locked)).toEqual([]);
    },
    T,
  );
});

/** A tiny tmpfs (root only): a real full disk and a real read-only file system. */
function mountTmpfs(at: string, opts: string): boolean {
  mkdirSync(at, { recursive: true });
  return spawnSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', at]).status === 0;
}
const canMount = (() => {
  if (process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(path.join(tmpdir(), 'rnnscope-mount-'));
  const ok = mountTmpfs(probe, 'size=64k');
  if (ok) spawnSync('umount', [probe]);
  rmSync(probe, { recursive: true, force: true });
  return ok;
})();

describe.skipIf(!canMount)(
  'a full disk and a read-only file system (tmpfs mounts; skipped when mount is not permitted)',
  () => {
    const mounts: string[] = [];
    afterAll(() => {
      for (const m of mounts) spawnSync('umount', [m]);
    });

    it(
      'a full disk keeps the earlier --json whole and leaves no temporary file (before: a truncated file, exit 0)',
      async () => {
        const d = caseDir();
        let r = await rnnscope(['analyze', SIMPLE_RNN, '--max-samples', '4', '--json', 'good.json', '-q'], {
          cwd: d,
          timeoutMs: T,
        });
        expect(r.code, r.stderr).toBe(0);
        const good = readFileSync(path.join(d, 'good.json'));
        // Room for the earlier file and the lock, not for a second copy.
        const full = path.join(d, 'full');
        expect(mountTmpfs(full, `size=${Math.ceil(good.length / 4096) * 4096 + 8192}`)).toBe(true);
        mounts.push(full);
        copyFileSync(path.join(d, 'good.json'), path.join(full, 'a.json'));
        r = await rnnscope(['analyze', SIMPLE_RNN, '--max-samples', '4', '--json', 'full/a.json'], {
          cwd: d,
          timeoutMs: T,
        });
        expect(ordinary(r)).toBe(
          'The --json file full/a.json could not be written because the disk is full; expected a writable place on a local disk, so free some space or choose another place; any earlier result there was left as it was.',
        );
        expect(readFileSync(path.join(full, 'a.json'))).toEqual(good);
        expect(readdirSync(full)).toEqual(['a.json']);
      },
      T,
    );

    it(
      'a full disk while writing a report keeps the earlier report whole',
      async () => {
        const d = caseDir();
        let r = await rnnscope(['report', EXAMPLE, '--out', 'rep', '-q'], { cwd: d, timeoutMs: T });
        expect(r.code, r.stderr).toBe(0);
        const used = Object.keys(snapshot(path.join(d, 'rep'))).reduce(
          (s, f) => s + Math.ceil(statSync(path.join(d, 'rep', f)).size / 4096) * 4096,
          0,
        );
        const full = path.join(d, 'full');
        expect(mountTmpfs(full, `size=${used + 64 * 1024}`)).toBe(true);
        mounts.push(full);
        cpSync(path.join(d, 'rep'), path.join(full, 'rep'), { recursive: true });
        const before = snapshot(path.join(full, 'rep'));
        r = await rnnscope(['report', EXAMPLE, '--out', 'full/rep'], { cwd: d, timeoutMs: T });
        expect(ordinary(r)).toMatch(
          /^The report file full\/rep\/\S+ could not be written because the disk is full; .* any earlier result there was left as it was\.$/,
        );
        expect(snapshot(path.join(full, 'rep'))).toEqual(before);
        expect(leftovers(full)).toEqual([]);
      },
      T,
    );

    it(
      'a read-only file system',
      async () => {
        const d = caseDir();
        const ro = path.join(d, 'ro');
        expect(mountTmpfs(ro, 'ro,size=64k')).toBe(true);
        mounts.push(ro);
        const r = await rnnscope(['analyze', SIMPLE_RNN, '--json', 'ro/a.json'], { cwd: d, timeoutMs: T });
        expect(ordinary(r)).toBe(
          'The --json file ro/a.json is on a read-only file system; expected a folder you can write to, so choose a writable place.',
        );
      },
      T,
    );
  },
);

describe('names from files are printed safely; option mistakes are refused', () => {
  it(
    'terminal escape sequences in model and layer names are shown escaped, not sent raw (before: printed raw)',
    async () => {
      const d = caseDir();
      cpSync(TFJS_DIR, path.join(d, 'm'), { recursive: true });
      const file = path.join(d, 'm/model.json');
      // Rename the LSTM layer lstm_2 (its config name and its weight names) to carry a colour code and a window-title
      // sequence.
      const evil = 'lstm\u001b[31mRED\u001b]0;owned\u0007';
      const text = readFileSync(file, 'utf8');
      expect(text.split('"lstm_2').length - 1).toBe(4); // the name and three weights
      writeFileSync(file, text.split('"lstm_2').join(`"${JSON.stringify(evil).slice(1, -1)}`));
      const inspect = await rnnscope(['inspect', 'm/model.json'], { cwd: d, timeoutMs: T });
      expect(inspect.code, inspect.stderr).toBe(0);
      expect(inspect.stdout).toContain('lstm\\x1b[31mRED\\x1b]0;owned\\x07');
      expect(inspect.stdout).not.toMatch(/[\u001b\u0007]/);
      const analyze = await rnnscope(['analyze', 'm/model.json', '--max-samples', '2'], { cwd: d, timeoutMs: T });
      expect(analyze.code, analyze.stderr).toBe(0);
      expect(analyze.stdout).toContain('lstm\\x1b[31mRED');
      expect(analyze.stdout + analyze.stderr).not.toMatch(/[\u001b\u0007]/);
    },
    T,
  );

  it(
    '--loss "" is refused (before: silently ignored)',
    async () => {
      const r = await rnnscope(['analyze', SIMPLE_RNN, '--loss', ''], { cwd: caseDir(), timeoutMs: T });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        '--loss was given an empty value; expected a name, so give one or leave the option out.',
      );
    },
    T,
  );
});

describe('in-process pieces', () => {
  it('maps Node errno errors to typed errors naming the file, and leaves other errors alone', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
      syscall: 'write',
      path: '/x/a.json',
    });
    const e = fsError(enospc, {
      file: 'a.json',
      role: 'The --json file',
      action: 'write',
      expected: 'a writable place',
    });
    expect(e).toBeInstanceOf(OutputError);
    expect((e as OutputError).stage).toBe('output');
    expect((e as Error).message).toBe(
      'The --json file a.json could not be written because the disk is full; expected a writable place, so free some space or choose another place; any earlier result there was left as it was.',
    );
    const loop = Object.assign(new Error('ELOOP'), { code: 'ELOOP', syscall: 'open', path: '/x/m.h5' });
    expect(fsError(loop, { file: 'm.h5', role: 'The model', action: 'read', expected: 'a model file' })).toBeInstanceOf(
      LoadError,
    );
    expect(
      fsErrorFromNode(Object.assign(new Error('x'), { code: 'EROFS', syscall: 'rename', path: '/ro/a' }))?.message,
    ).toBe('The file /ro/a is on a read-only file system; expected a writable place, so choose a writable place.');
    const bug = new TypeError('x is not a function');
    expect(fsError(bug, { file: 'a', role: 'The file', action: 'read', expected: 'a file' })).toBe(bug);
    expect(fsErrorFromNode(bug)).toBeNull();
  });

  it('the progress bar counts samples (not "steps") and shows a real ETA (before: "ETA NFs")', async () => {
    let out = '';
    const tty = {
      write: (s: string) => {
        out += s;
        return true;
      },
      isTTY: true,
      columns: 120,
    };
    const bar = progress({ stdout: tty, stderr: tty, env: {} }, { quiet: false, verbose: false }, ANALYSIS_PHASES);
    bar.update({ phase: 'gradients', done: 0, total: 64 });
    await new Promise((r) => setTimeout(r, 700));
    bar.update({ phase: 'gradients', done: 32, total: 64 });
    await new Promise((r) => setTimeout(r, 300));
    bar.update({ phase: 'gradients', done: 48, total: 64 });
    await new Promise((r) => setTimeout(r, 300));
    bar.stop();
    expect(out).toContain('Gradients [');
    expect(out).toMatch(/\d+\/64 samples \| ETA \d+s/);
    expect(out).not.toMatch(/steps|NF|INF|NULL|NaN/);
    expect(etaSeconds(0, 0, 0, 64, 5000)).toBeNull();
    expect(etaSeconds(0, 0, 16, 64, 4000)).toBe(12);
    expect(fmtDuration(125)).toBe('2m05s');
    expect(fmtDuration(3720)).toBe('1h02m');
  });

  it('terminal-safe text keeps newlines and tabs and shows every other control character', () => {
    expect(terminalSafe('a\tb\nc\u001b[2J\u009b\u202e\u0000')).toBe('a\tb\nc\\x1b[2J\\x9b\\u202e\\x00');
    const a = { name: 'x\u001b', nums: [1, null, 2], nested: [{ k: '\u0007' }] };
    const safe = terminalSafeDeep(a);
    expect(safe).toEqual({ name: 'x\\x1b', nums: [1, null, 2], nested: [{ k: '\\x07' }] });
    expect(safe.nums).toBe(a.nums);
  });
});
