// The commands of docs/training.md and of the README's "Watch training" section run as written
// (`npx rnnscope` → `node bin/rnnscope.js`, through /bin/sh) on real checkpoints written by
// rnnscope's trainer in the documented ModelCheckpoint layouts; the documented filepath patterns
// are formatted by Python's own str.format and parsed back; the TF.js example runs.
import { chartIndex } from './helpers/report-files.js';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { AnalysisSet } from '../src/analysis/schema.js';
import { parseCheckpointName } from '../src/analysis/checkpoint-names.js';
import { series } from './helpers/train-series.js';

const ROOT = path.join(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'rnnscope.js');
const tmp = mkdtempSync(path.join(tmpdir(), 'rnnscope-tldocs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const training = readFileSync(path.join(ROOT, 'docs', 'training.md'), 'utf8');
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const section = readme.slice(
  readme.indexOf('## Watch training'),
  readme.indexOf('\n## ', readme.indexOf('## Watch training') + 5),
);
const blocks = (md: string, lang: string) =>
  [...md.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]!);
const commands = (md: string) =>
  blocks(md, 'sh')
    .flatMap((b) => b.split('\n'))
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l.startsWith('npx rnnscope'));

const WATCH = 'npx rnnscope watch ckpt --data x.npy --targets y.npy --out timeline';
const WATCH_MODEL = 'npx rnnscope watch ckpt --model arch.json --data x.npy --targets y.npy --out timeline';
const ANALYZE = "npx rnnscope analyze 'ckpt/*.keras' --data x.npy --targets y.npy --out timeline";
const ONCE = 'npx rnnscope watch ckpt --data x.npy --targets y.npy --once --out timeline';

/** A folder with x.npy, y.npy, arch.json and `n` checkpoints in `ckpt/` named by the documented pattern. */
async function setUp(name: string, format: 'keras' | 'weights.h5', n: number) {
  const dir = path.join(tmp, name);
  const s = series(dir, { steps: 12, units: 5, samples: 16, every: 10, seed: 3 });
  s.writeData();
  mkdirSync(path.join(dir, 'ckpt'));
  const write = async (e: number) => {
    const file =
      format === 'keras'
        ? `epoch${String(e).padStart(3, '0')}.keras`
        : `weights.${String(e).padStart(2, '0')}-0.${50 - e}.weights.h5`;
    writeFileSync(path.join(dir, 'ckpt', file), await s.next(format, e > 1));
  };
  for (let e = 1; e <= n; e++) await write(e);
  return { dir, write };
}

function sh(command: string, cwd: string) {
  const child = spawn(
    '/bin/sh',
    ['-c', command.replace(/^npx rnnscope/, `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)}`)],
    { cwd, env: { ...process.env, NO_COLOR: '1' } },
  );
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
  });
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  const until = async (re: RegExp) => {
    const t0 = Date.now();
    while (!re.test(err)) {
      if (Date.now() - t0 > 180_000 || child.exitCode !== null) throw new Error(`no ${re} in:\n${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { child, exited, until, err: () => err };
}

const timelineOf = (dir: string): AnalysisSet =>
  JSON.parse(readFileSync(path.join(dir, 'timeline', 'analysis.json'), 'utf8'));

describe('docs/training.md and the README section', () => {
  it('document exactly the commands run below', () => {
    expect(new Set([...commands(training), ...commands(section)])).toEqual(
      new Set([WATCH, WATCH_MODEL, ANALYZE, ONCE]),
    );
    expect(commands(section)).toEqual([WATCH, ANALYZE]);
  });

  it('the ModelCheckpoint filepath patterns, formatted by Python, give back their epochs', () => {
    const patterns = [
      ...training.matchAll(/ModelCheckpoint\(\s*"([^"]+)"/g),
      ...readme.matchAll(/ModelCheckpoint\('([^']+)'\)/g),
      ...training.matchAll(/writes `([^`]*\{epoch[^`]*)`/g),
    ].map((m) => m[1]!);
    expect(patterns.length).toBeGreaterThanOrEqual(3);
    for (const p of patterns) {
      const r = spawnSync(
        '/usr/bin/python3',
        ['-c', `import sys; print(sys.argv[1].format(epoch=7, batch=300, val_loss=0.4567))`, p],
        { encoding: 'utf8' },
      );
      if (r.status !== 0) return; // no python3 here: the patterns are checked where it exists
      expect(parseCheckpointName(r.stdout.trim()).epoch, p).toBe(7);
    }
  });

  it(`${WATCH}: beside training, until Ctrl-C`, async () => {
    const { dir, write } = await setUp('watch', 'keras', 2);
    const w = sh(WATCH, dir);
    await w.until(/✓ epoch002\.keras/);
    await write(3);
    await w.until(/✓ epoch003\.keras/);
    w.child.kill('SIGINT');
    expect(await w.exited).toBe(0);
    expect(timelineOf(dir).timeline!.points.map((p) => p.epoch)).toEqual([1, 2, 3]);
    expect(chartIndex(path.join(dir, 'timeline')).charts.map((c) => c.chart)).toContain('timeline-heatmap');
    expect(w.err()).toMatch(/Live page: http:\/\/127\.0\.0\.1:\d+\//);
  }, 400_000);

  it(`${WATCH_MODEL}: weights-only checkpoints`, async () => {
    const { dir } = await setUp('weights', 'weights.h5', 2);
    const w = sh(WATCH_MODEL, dir);
    await w.until(/✓ weights\.02-0\.48\.weights\.h5 \(epoch 2\)/);
    w.child.kill('SIGINT');
    expect(await w.exited).toBe(0);
    expect(timelineOf(dir).timeline!.points.map((p) => p.label)).toEqual([
      'weights.01-0.49.weights.h5',
      'weights.02-0.48.weights.h5',
    ]);
  }, 400_000);

  it(`${ANALYZE} and ${ONCE}: a finished run, the same timeline`, async () => {
    const { dir } = await setUp('finished', 'keras', 3);
    const a = sh(ANALYZE, dir);
    expect(await a.exited).toBe(0);
    const viaAnalyze = timelineOf(dir);
    rmSync(path.join(dir, 'timeline'), { recursive: true });
    const o = sh(ONCE, dir);
    expect(await o.exited).toBe(0);
    const viaWatch = timelineOf(dir);
    expect(viaAnalyze.timeline!.points).toHaveLength(3);
    const strip = (s: AnalysisSet) => s.timeline!.points.map(({ seconds: _s, ...p }) => p);
    expect(strip(viaWatch)).toEqual(strip(viaAnalyze));
    expect(existsSync(path.join(dir, 'timeline', 'index.html'))).toBe(true);
  }, 400_000);

  it('the TF.js example runs: three epochs and the one before, written to the out folder', async () => {
    const code = blocks(training, 'ts')[0]!
      .replace("'rnnscope/tfjs'", JSON.stringify(pathToFileURL(path.join(ROOT, 'src/tfjs-callback.ts')).href))
      .replace("out: 'timeline'", `out: ${JSON.stringify(path.join(tmp, 'tfjs-timeline'))}`);
    const lines = code.split('\n');
    const file = path.join(tmp, 'example.ts');
    writeFileSync(
      file,
      `${lines.filter((l) => l.startsWith('import ')).join('\n')}\nexport async function run(console: { log: (...a: unknown[]) => void }) {\n${lines.filter((l) => !l.startsWith('import ')).join('\n')}\n}\n`,
    );
    const logged: unknown[][] = [];
    await (await import(pathToFileURL(file).href)).run({ log: (...a: unknown[]) => logged.push(a) });
    expect(Array.isArray(logged[0]![0])).toBe(true);
    const set: AnalysisSet = JSON.parse(readFileSync(path.join(tmp, 'tfjs-timeline', 'analysis.json'), 'utf8'));
    expect(set.timeline!.points.map((p) => p.label)).toEqual(['epoch 0', 'epoch 1', 'epoch 2', 'epoch 3']);
  }, 400_000);
});
