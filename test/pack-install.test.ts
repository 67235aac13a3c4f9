// The installed package works: `npm pack` (its prepack builds dist/ with tsc) in a copy of the
// repository, `npm install <tarball>` into an empty folder (runtime dependencies only: no
// devDependencies, no tsx), then the README's `npx rnnscope analyze` there on a corpus model with
// numpy-written data. The installed build's JSON must equal the library's (run from the sources
// here) on the same files, and the installed library entry points must load.
//
// The copy keeps /work/main free of dist/ (bin/rnnscope.js would prefer a stale build). It holds the
// repository's files as git lists them (tracked, and untracked but not ignored), so it builds what
// a checkout would; node_modules is linked from the repository for the build only.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateAnalysis } from '../src/analysis/validate.js';
import { CORPUS, ROOT, USERDATA, libraryAnalysis, runProcess, withoutObjectiveWarnings } from './helpers/cli-run.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'rnnscope-pack-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const repo = path.join(tmp, 'repo');
const app = path.join(tmp, 'app');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const HAR = path.join(CORPUS, 'k3_hatice_har_lstm/lstm_model.keras');

/** The environment of a user's shell: no switch that makes bin/ run the sources. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.RNNSCOPE_FROM_SOURCE;
  delete env.NODE_OPTIONS; // vitest's loader hooks must not leak into the user's node
  return env;
}

function sh(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, env: userEnv(), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

let tarball = '';
let packed: string[] = [];
beforeAll(() => {
  mkdirSync(repo);
  let files: string[];
  try {
    files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    })
      .split('\0')
      .filter(Boolean);
  } catch {
    files = readdirSync(ROOT, { recursive: true, encoding: 'utf8' }).filter(
      (f) => !/^(node_modules|\.git|dist)(\/|$)/.test(f),
    );
  }
  for (const f of files) {
    const from = path.join(ROOT, f);
    if (!existsSync(from)) continue; // deleted in the work tree
    mkdirSync(path.dirname(path.join(repo, f)), { recursive: true });
    cpSync(from, path.join(repo, f), { recursive: true });
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(repo, 'node_modules'), 'dir');
  const out = JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', tmp], repo)) as {
    filename: string;
    files: { path: string }[];
  }[];
  tarball = path.join(tmp, out[0]!.filename);
  packed = out[0]!.files.map((f) => f.path);
  mkdirSync(app);
  sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], app);
}, 600_000);

describe('the packed and installed package', () => {
  it('packs the build, bin and docs, and no sources, tests or fixtures', () => {
    expect(packed).toContain('bin/rnnscope.js');
    expect(packed).toContain('dist/src/cli/main.js');
    expect(packed).toContain('dist/src/index.d.ts');
    expect(packed).toContain('README.md');
    expect(packed).toContain('dist-web/app.html');
    expect(packed.filter((f) => /^(src|test|bench|scripts|web)\//.test(f) || /\.test\.|fixtures/.test(f))).toEqual([]);
    expect(existsSync(path.join(ROOT, 'dist')), 'the repository itself stays without dist/').toBe(false);
  });

  it('installs only the runtime dependencies: no devDependencies, no tsx', () => {
    for (const dev of Object.keys(pkg.devDependencies))
      expect(existsSync(path.join(app, 'node_modules', dev)), dev).toBe(false);
    for (const dep of Object.keys(pkg.dependencies))
      expect(existsSync(path.join(app, 'node_modules', dep)), dep).toBe(true);
    expect(existsSync(path.join(app, 'node_modules', '.bin', 'rnnscope'))).toBe(true);
  });

  it('npx rnnscope analyze model.keras --data x.npy --targets y.npy --json out.json equals the library', async () => {
    copyFileSync(HAR, path.join(app, 'model.keras'));
    copyFileSync(path.join(USERDATA, 'har/x.npy'), path.join(app, 'x.npy'));
    copyFileSync(path.join(USERDATA, 'har/y.npy'), path.join(app, 'y.npy'));
    // .bin/rnnscope exists (checked above), so npx runs the installed package and asks no registry.
    const r = await runProcess(
      'npx',
      ['rnnscope', 'analyze', 'model.keras', '--data', 'x.npy', '--targets', 'y.npy', '--json', 'out.json'],
      { cwd: app, env: userEnv() },
    );
    expect(r.stderr).not.toMatch(/error:|bug in rnnscope/);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Recurrent layers:');
    const got = validateAnalysis(JSON.parse(readFileSync(path.join(app, 'out.json'), 'utf8')));
    expect(got.objective.samples).toBe(32);
    expect(got.recurrent.map((x) => x.layer)).toEqual(['lstm_2', 'lstm_3']);
    const lib = await libraryAnalysis(
      [{ file: path.join(app, 'model.keras') }],
      { inputs: [path.join(app, 'x.npy')], targets: [path.join(app, 'y.npy')], dataSource: 'x.npy, y.npy' },
      {},
    );
    expect(withoutObjectiveWarnings(got).rest).toEqual(withoutObjectiveWarnings(lib.json).rest);
  }, 600_000);

  it('the installed rnnscope writes a report with PNG charts, and -V prints the version', async () => {
    const r = await runProcess(
      'npx',
      ['rnnscope', 'analyze', 'model.keras', '-d', 'x.npy', '-t', 'y.npy', '--max-samples', '4', '--out', 'report'],
      { cwd: app, env: userEnv() },
    );
    expect(r.code, r.stderr).toBe(0);
    const charts = readdirSync(path.join(app, 'report', 'charts'));
    const dh = charts.find((n) => n.endsWith('-dh.png')); // <layer>-dh.png (docs/outputs.md)
    expect(dh, charts.join(' ')).toBeDefined();
    expect(
      readFileSync(path.join(app, 'report', 'charts', dh!))
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    const v = await runProcess('npx', ['rnnscope', '-V'], { cwd: app, env: userEnv() });
    expect(v.stdout.trim()).toBe(pkg.version);
  }, 600_000);

  it('the installed rnnscope serve serves the page on 127.0.0.1 and stops on Ctrl-C', async () => {
    // The installed bin itself (not npx, which would sit between the signal and the server).
    const bin = path.join(app, 'node_modules', '.bin', 'rnnscope');
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], { cwd: app, env: userEnv() });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /http:\/\/127\.0\.0\.1:\d+\/\S*/.exec(out);
          if (m) resolve(m[0]);
        });
        child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}${err}`)));
      });
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<title>[^<]*rnnscope/i);
    } finally {
      const exited = new Promise((r) => child.on('exit', r));
      child.kill('SIGINT');
      await exited;
    }
  }, 600_000);

  it("the installed library entry points load: 'rnnscope' and 'rnnscope/node'", async () => {
    const script = `
      const lib = await import('rnnscope');
      const node = await import('rnnscope/node');
      const m = await node.loadModelFile('model.keras');
      const x = { shape: [2, 100, 6], data: new Float32Array(2 * 100 * 6).fill(0.1) };
      const { result } = await lib.analyze([m], { inputs: [x], targets: null }, {});
      console.log(JSON.stringify({ fns: [typeof lib.lossAndGrads, typeof node.analyzeParallel, typeof node.writeReport], layers: result.recurrent.map((r) => r.layer) }));`;
    const r = await runProcess(process.execPath, ['--input-type=module', '-e', script], { cwd: app, env: userEnv() });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ fns: ['function', 'function', 'function'], layers: ['lstm_2', 'lstm_3'] });
  }, 600_000);
});
