// Nothing the user owns is lost (issue 10, items 1 and 2): the real command line, as a child
// process in a temporary folder, on corpus models with a few samples. Each case states what
// happened before the output rules (docs/outputs.md) and checks what happens now.

import { spawn } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy, encodeNpz } from '../src/io/npz-write.js';
import {
  EXAMPLE,
  EXAMPLE_SET,
  KERAS3,
  SIMPLE_RNN,
  TFJS_DIR,
  leftovers,
  rnnscope,
  snapshot,
} from './helpers/cli-child.js';

const T = 300_000;
let dir: string;
let n = 0;
/** A fresh folder per case. */
function caseDir(): string {
  const d = path.join(dir, `case${++n}`);
  mkdirSync(d);
  return d;
}
const read = (p: string) => readFileSync(p);
const notABug = (stderr: string) => expect(stderr).not.toMatch(/bug in rnnscope/);

/** A report folder written once by rnnscope; cases copy it (copies keep content, so the manifest still holds). */
let written: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'rnnscope-outsafe-'));
  const r = await rnnscope(['report', EXAMPLE, '--out', 'written', '-q'], { cwd: dir, timeoutMs: T });
  if (r.code !== 0) throw new Error(r.stderr);
  written = path.join(dir, 'written');
}, T);

function copyOfReport(d: string, name = 'out'): string {
  cpSync(written, path.join(d, name), { recursive: true });
  return path.join(d, name);
}
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** x.npy for the SimpleRNN corpus model: 4 samples, 1 step, 1 feature. */
function writeData(d: string): string {
  const x = path.join(d, 'x.npy');
  writeFileSync(x, encodeNpy({ shape: [4, 1, 1], data: Float32Array.from([0.1, -0.2, 0.3, 0.4]) }));
  return x;
}

describe('an output that is an input is refused before any work', () => {
  it(
    '--json model.json next to a TF.js model (before: the model was replaced, exit 0)',
    async () => {
      const d = caseDir();
      cpSync(TFJS_DIR, path.join(d, 'm'), { recursive: true });
      const before = snapshot(d);
      const r = await rnnscope(['analyze', 'm/model.json', '--max-samples', '2', '--json', 'm/model.json'], {
        cwd: d,
        timeoutMs: T,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        'error: The --json file m/model.json is the model m/model.json of this run, and rnnscope never replaces its inputs; expected a new file or an analysis JSON written by rnnscope, so choose another name such as analysis.json, or move it away.\n',
      );
      expect(snapshot(d)).toEqual(before);
    },
    T,
  );

  it(
    '--json on a .keras model, and through a symbolic link and a hard link to it',
    async () => {
      const d = caseDir();
      copyFileSync(KERAS3, path.join(d, 'm.keras'));
      symlinkSync('m.keras', path.join(d, 'soft.json'));
      linkSync(path.join(d, 'm.keras'), path.join(d, 'hard.json'));
      const before = snapshot(d);
      let r = await rnnscope(['analyze', 'm.keras', '--max-samples', '2', '--json', 'm.keras'], {
        cwd: d,
        timeoutMs: T,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('is the model m.keras of this run, and rnnscope never replaces its inputs');
      r = await rnnscope(['analyze', 'm.keras', '--max-samples', '2', '--json', 'soft.json'], { cwd: d, timeoutMs: T });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        'The --json file soft.json is a symbolic link, and rnnscope never writes through links',
      );
      r = await rnnscope(['analyze', 'm.keras', '--max-samples', '2', '--json', 'hard.json'], { cwd: d, timeoutMs: T });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('The --json file hard.json is the model m.keras of this run');
      expect(snapshot(d)).toEqual(before);
    },
    T,
  );

  it(
    '--dump x.npy where x.npy is the --data file (before: the data was replaced)',
    async () => {
      const d = caseDir();
      copyFileSync(SIMPLE_RNN, path.join(d, 'm.h5'));
      writeData(d);
      const before = snapshot(d);
      const r = await rnnscope(['analyze', 'm.h5', '--data', 'x.npy', '--dump', 'x.npy'], { cwd: d, timeoutMs: T });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        'The --dump file x.npy is the --data file x.npy of this run, and rnnscope never replaces its inputs',
      );
      expect(snapshot(d)).toEqual(before);
    },
    T,
  );

  it(
    'report: redrawing DIR/analysis.json into DIR keeps the input as it is; the input as the --out path is refused',
    async () => {
      const d = caseDir();
      copyOfReport(d, 'rep');
      const own = read(path.join(d, 'rep/analysis.json'));
      let r = await rnnscope(['report', 'rep/analysis.json', '--out', 'rep', '-q'], { cwd: d, timeoutMs: T });
      expect(r.code, r.stderr).toBe(0);
      expect(read(path.join(d, 'rep/analysis.json'))).toEqual(own);
      expect(leftovers(d)).toEqual([]);
      r = await rnnscope(['report', 'rep/analysis.json', '--out', 'rep/analysis.json'], { cwd: d, timeoutMs: T });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('The --out folder rep/analysis.json is a file');
    },
    T,
  );
});

describe('into an existing folder rnnscope writes only files it owns', () => {
  it(
    "refuses a folder holding the user's index.html, analysis.json and charts/dh.svg, naming them (before: overwritten, exit 0)",
    async () => {
      const d = caseDir();
      mkdirSync(path.join(d, 'out/charts'), { recursive: true });
      for (const f of ['index.html', 'analysis.json', 'charts/dh.svg'])
        writeFileSync(path.join(d, 'out', f), `my own ${f}\n`);
      const before = snapshot(d);
      const r = await rnnscope(['analyze', SIMPLE_RNN, '--max-samples', '4', '--out', 'out'], { cwd: d, timeoutMs: T });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        "error: The --out folder out holds files that rnnscope did not write (or that changed since): index.html, analysis.json, charts/dh.svg; expected a new folder or one holding only rnnscope's own report, so move them away, delete them, or choose another --out.\n",
      );
      expect(snapshot(d)).toEqual(before);
    },
    T,
  );

  it(
    'keeps foreign files not in the way and replaces its own; refuses its own file once edited',
    async () => {
      const d = caseDir();
      const out = copyOfReport(d);
      writeFileSync(path.join(out, 'notes.txt'), 'mine\n');
      const manifest = JSON.parse(readFileSync(path.join(out, '.rnnscope-manifest.json'), 'utf8'));
      expect(Object.keys(manifest.files)).toContain('index.html');
      // An older report's chart that the new one does not draw: rnnscope's own, so it is removed.
      writeFileSync(path.join(out, 'charts/dh--old.svg'), '<svg/>');
      manifest.files['charts/dh--old.svg'] = { size: 6, sha256: createHash('sha256').update('<svg/>').digest('hex') };
      writeFileSync(path.join(out, '.rnnscope-manifest.json'), JSON.stringify(manifest));
      let r = await rnnscope(['analyze', SIMPLE_RNN, '--max-samples', '2', '--out', 'out', '-q'], {
        cwd: d,
        timeoutMs: T,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(path.join(out, 'notes.txt'), 'utf8')).toBe('mine\n');
      expect(existsSync(path.join(out, 'charts/dh--old.svg'))).toBe(false);
      expect(JSON.parse(readFileSync(path.join(out, 'analysis.json'), 'utf8')).model.name).toBe('sequential');
      expect(
        Object.keys(JSON.parse(readFileSync(path.join(out, '.rnnscope-manifest.json'), 'utf8')).files),
      ).not.toContain('notes.txt');
      writeFileSync(
        path.join(out, 'index.html'),
        `${readFileSync(path.join(out, 'index.html'), 'utf8')}<!-- my edit -->`,
      );
      const before = snapshot(d);
      r = await rnnscope(['analyze', SIMPLE_RNN, '--max-samples', '2', '--out', 'out'], { cwd: d, timeoutMs: T });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('holds a file that rnnscope did not write (or that changed since): index.html;');
      expect(snapshot(d)).toEqual(before);
    },
    T,
  );

  it(
    'a symbolic link planted as out/index.html is not followed (before: its target was overwritten)',
    async () => {
      const d = caseDir();
      const out = copyOfReport(d);
      writeFileSync(path.join(d, 'victim.txt'), 'precious\n');
      rmSync(path.join(out, 'index.html'));
      symlinkSync(path.join(d, 'victim.txt'), path.join(out, 'index.html'));
      const r = await rnnscope(['analyze', SIMPLE_RNN, '--max-samples', '2', '--out', 'out'], { cwd: d, timeoutMs: T });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('did not write (or that changed since): index.html;');
      expect(readFileSync(path.join(d, 'victim.txt'), 'utf8')).toBe('precious\n');
    },
    T,
  );

  it(
    '--json and --dump replace only an earlier rnnscope result (or an empty file), never another file',
    async () => {
      const d = caseDir();
      writeFileSync(path.join(d, 'notes.json'), '{"mine": true}\n');
      writeFileSync(path.join(d, 'data.npz'), encodeNpz(new Map([['x', { shape: [2], data: Float32Array.of(1, 2) }]])));
      writeFileSync(path.join(d, 'empty.json'), '');
      const before = snapshot(d);
      let r = await rnnscope(['analyze', SIMPLE_RNN, '--max-samples', '4', '--json', 'notes.json'], {
        cwd: d,
        timeoutMs: T,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('The --json file notes.json exists and is not an analysis JSON written by rnnscope');
      r = await rnnscope(['analyze', SIMPLE_RNN, '--max-samples', '4', '--dump', 'data.npz'], { cwd: d, timeoutMs: T });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        'The --dump file data.npz exists and is not a gradient dump (.npz) written by rnnscope',
      );
      expect(snapshot(d)).toEqual(before);
      r = await rnnscope(
        ['analyze', SIMPLE_RNN, '--max-samples', '4', '--json', 'empty.json', '--dump', 'g.npz', '-q'],
        { cwd: d, timeoutMs: T },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(path.join(d, 'empty.json'), 'utf8')).toMatch(/^\{"schema":"rnnscope\.analysis\/1"/);
      // Its own results are replaced on a rerun.
      r = await rnnscope(
        ['analyze', SIMPLE_RNN, '--max-samples', '2', '--json', 'empty.json', '--dump', 'g.npz', '-q'],
        { cwd: d, timeoutMs: T },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(readFileSync(path.join(d, 'empty.json'), 'utf8')).objective.samples).toBe(2);
      expect(leftovers(d)).toEqual([]);
    },
    T,
  );

  it(
    'two outputs naming one file are refused (--json into the report folder)',
    async () => {
      const d = caseDir();
      const r = await rnnscope(
        ['analyze', SIMPLE_RNN, '--max-samples', '2', '--out', 'rep', '--json', 'rep/analysis.json'],
        { cwd: d, timeoutMs: T },
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('--json rep/analysis.json is a file of the report folder rep');
      expect(readdirSync(d)).toEqual([]);
    },
    T,
  );
});

describe('a second run on the same output is refused', () => {
  it(
    'while a report is being written into a folder, naming the pid of the run holding it',
    async () => {
      const d = caseDir();
      copyOfReport(d);
      // The first run is paused (SIGSTOP) once it holds the lock, so the second surely meets it.
      let firstPid = 0;
      let paused!: () => void;
      const isPaused = new Promise<void>((res) => {
        paused = res;
      });
      const first = rnnscope(['report', EXAMPLE, '--out', 'out', '-q'], {
        cwd: d,
        timeoutMs: T,
        started: (c) => {
          firstPid = c.pid!;
          const poll = setInterval(() => {
            if (existsSync(path.join(d, 'out/.rnnscope-lock'))) {
              clearInterval(poll);
              c.kill('SIGSTOP');
              paused();
            }
          }, 5);
          c.on('close', () => clearInterval(poll));
        },
      });
      await isPaused;
      const second = await rnnscope(['report', EXAMPLE, '--out', 'out'], { cwd: d, timeoutMs: T });
      process.kill(firstPid, 'SIGCONT');
      const r1 = await first;
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(
        `The --out folder out is being written by another rnnscope run (process ${firstPid} on ${hostname()}, started `,
      );
      expect(r1.code, r1.stderr).toBe(0);
      expect(leftovers(d)).toEqual([]);
    },
    T,
  );

  it(
    'a lock held by a live process refuses; one left by a process that is gone is taken over',
    async () => {
      const d = caseDir();
      const lock = path.join(d, '.a.json.rnnscope-lock');
      writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), started: '2024-01-01T00:00:00.000Z' }));
      let r = await rnnscope(['analyze', SIMPLE_RNN, '--max-samples', '2', '--json', 'a.json'], {
        cwd: d,
        timeoutMs: T,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `error: The --json file a.json is being written by another rnnscope run (process ${process.pid} on ${hostname()}, started 2024-01-01T00:00:00.000Z); expected one run per output, so wait for it to finish, or delete ${lock} if that run is gone.\n`,
      );
      expect(existsSync(path.join(d, 'a.json'))).toBe(false);
      // A finished child's pid is not running any more.
      const child = await new Promise<number>((res) => {
        const c = spawn(process.execPath, ['-e', '']);
        c.on('close', () => res(c.pid!));
      });
      writeFileSync(lock, JSON.stringify({ pid: child, host: hostname(), started: '2024-01-01T00:00:00.000Z' }));
      r = await rnnscope(['analyze', SIMPLE_RNN, '--max-samples', '2', '--json', 'a.json', '-q'], {
        cwd: d,
        timeoutMs: T,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(existsSync(path.join(d, 'a.json'))).toBe(true);
      expect(leftovers(d)).toEqual([]);
    },
    T,
  );
});

describe('writes are atomic', () => {
  it(
    'Ctrl-C while the report is written leaves the earlier report intact and no temporary files (before: a truncated index.html)',
    async () => {
      const d = caseDir();
      const out = copyOfReport(d);
      const before = snapshot(out);
      let sent = false;
      const r = await rnnscope(['report', EXAMPLE_SET, '--out', 'out'], {
        cwd: d,
        timeoutMs: T,
        started: (c) => {
          // Interrupt once the first new chart exists under its temporary name.
          const poll = setInterval(() => {
            if (readdirSync(path.join(out, 'charts')).some((f) => f.includes('.rnnscope-tmp-'))) {
              clearInterval(poll);
              sent = c.kill('SIGINT');
            }
          }, 5);
          c.on('close', () => clearInterval(poll));
        },
      });
      expect(sent).toBe(true);
      expect(r.code).toBe(130);
      expect(r.stderr).toContain(
        'Interrupted (SIGINT) while writing; files not yet complete were not written, and earlier results there were left as they were.',
      );
      expect(snapshot(out)).toEqual(before);
      expect(leftovers(d)).toEqual([]);
    },
    T,
  );
});

describe('places that are not folders', () => {
  it(
    '--out - is refused and makes no folder named "-" (before: it did)',
    async () => {
      const d = caseDir();
      const r = await rnnscope(['analyze', SIMPLE_RNN, '--out', '-'], { cwd: d, timeoutMs: T });
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        "error: --out - would make a folder named '-'; expected a folder for index.html and the charts (the report is several files and cannot go to stdout), so give a folder name, or use --json - for the analysis on stdout.\n",
      );
      expect(readdirSync(d)).toEqual([]);
    },
    T,
  );

  it(
    "--out under /proc fails at once instead of hanging (Node's recursive mkdir loops there)",
    async () => {
      const d = caseDir();
      const r = await rnnscope(['analyze', SIMPLE_RNN, '--max-samples', '2', '--out', '/proc/rnnscope-report'], {
        cwd: d,
        timeoutMs: 60_000,
      });
      expect(r.signal).toBeNull();
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        'error: The --out folder /proc/rnnscope-report is in /proc, a system folder of the kernel that holds no files; expected a folder on a disk, so choose another path.\n',
      );
    },
    T,
  );

  it(
    '--json to a device is refused (it would have been replaced by a rename)',
    async () => {
      const d = caseDir();
      const r = await rnnscope(['analyze', SIMPLE_RNN, '--max-samples', '2', '--json', '/dev/null'], {
        cwd: d,
        timeoutMs: T,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('The --json file /dev/null is in /dev, a system folder of the kernel');
      notABug(r.stderr);
    },
    T,
  );
});
