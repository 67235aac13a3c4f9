// `rnnscope watch` as a user runs it beside training: a child process watching a folder into which
// this test writes real checkpoints (rnnscope's trainer, Keras' .keras layout) while it runs —
// one whole, one slowly in pieces (waited for, never analysed half-written), one deleted before it
// was complete — then Ctrl-C. The live server: loopback only, its own page and data only (no path
// reaches the file system), updates the open page without a reload (Chromium).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Analysis, AnalysisSet } from '../src/analysis/schema.js';
import { snapshotWeights, summarizePoint } from '../src/analysis/timeline.js';
import { loadModelFile } from '../src/io/node.js';
import { series, type Series } from './helpers/train-series.js';
import { launchChromium } from './helpers/browser.js';

const ROOT = path.join(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'rnnscope.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A running `rnnscope watch` whose stderr is collected line by line (args after 'watch', or from it). */
class Watch {
  readonly child: ChildProcess;
  err = '';
  out = '';
  readonly exited: Promise<number | null>;
  constructor(args: string[], cwd: string) {
    this.child = spawn(process.execPath, [BIN, ...(args[0] === 'watch' ? args : ['watch', ...args])], {
      cwd,
      env: { ...process.env, NO_COLOR: '1' },
    });
    this.child.stderr!.on('data', (d) => {
      this.err += d;
    });
    this.child.stdout!.on('data', (d) => {
      this.out += d;
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }
  async until(re: RegExp, ms = 120_000): Promise<RegExpMatchArray> {
    const t0 = Date.now();
    for (;;) {
      const m = this.err.match(re);
      if (m) return m;
      if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${re} in:\n${this.err}`);
      if (this.child.exitCode !== null)
        throw new Error(`watch exited (${this.child.exitCode}) before ${re}:\n${this.err}`);
      await sleep(100);
    }
  }
}

function get(
  url: string,
  opts: { path?: string; method?: string; host?: string } = {},
): Promise<{ status: number; body: string; type: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    // http.request sends the path exactly as given (no normalisation of .. or %2e).
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: opts.path ?? u.pathname,
        method: opts.method ?? 'GET',
        headers: opts.host ? { Host: opts.host } : {},
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type'] ?? '') }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function cli(args: string[], cwd: string): Promise<number> {
  return new Promise((resolve) =>
    execFile(process.execPath, [BIN, ...args], { cwd, maxBuffer: 1 << 28 }, (err) => resolve(err ? 1 : 0)),
  );
}

let dir: string;
let s: Series;
let w: Watch;
let url: string;
const ckpt = (n: string) => path.join(dir, 'ckpt', n);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'rnnscope-watch-'));
  s = series(dir, { steps: 16, units: 6 });
  s.writeData();
  mkdirSync(path.join(dir, 'ckpt'));
  w = new Watch(
    ['ckpt', '--data', 'x.npy', '--targets', 'y.npy', '--out', 'report', '--port', '0', '--settle', '0.3'],
    dir,
  );
  url = (await w.until(/Live page: (http:\/\/\S+\/)/))[1]!;
}, 180_000);

afterAll(async () => {
  if (w.child.exitCode === null) {
    w.child.kill('SIGKILL');
    await w.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('rnnscope watch while training writes checkpoints', () => {
  it('serves a waiting page before the first checkpoint, on 127.0.0.1', async () => {
    expect(new URL(url).hostname).toBe('127.0.0.1');
    const r = await get(url);
    expect(r.status).toBe(200);
    expect(r.body).toContain('Waiting for the first checkpoint');
  });

  it('analyses a checkpoint written whole', async () => {
    writeFileSync(ckpt('epoch001.keras'), await s.next('keras', false));
    await w.until(
      /✓ epoch001\.keras \(epoch 1\): loaded in [\d.]+ s, analysed in [\d.]+ s · loss [\d.]+ · horizon lstm \d+\/16/,
    );
  }, 180_000);

  it('waits for a checkpoint written slowly in pieces and analyses it once complete', async () => {
    const bytes = await s.next('keras');
    const fd = openSync(ckpt('epoch002.keras'), 'w');
    const third = Math.floor(bytes.length / 3);
    writeSync(fd, bytes, 0, third);
    await w.until(/… epoch002\.keras is not complete yet \(\d[\d,]* bytes so far\); waiting for it\./, 60_000);
    writeSync(fd, bytes, third, third);
    await sleep(1500);
    writeSync(fd, bytes, 2 * third, bytes.length - 2 * third);
    closeSync(fd);
    await w.until(/✓ epoch002\.keras \(epoch 2\)/);
    expect(w.err).not.toMatch(/cannot use epoch002/);
  }, 180_000);

  it('skips a checkpoint deleted before it was complete', async () => {
    const bytes = await s.next('keras');
    writeFileSync(ckpt('epoch003.keras'), bytes.subarray(0, bytes.length >> 1));
    await w.until(/… epoch003\.keras is not complete yet/, 60_000);
    unlinkSync(ckpt('epoch003.keras'));
    await w.until(/skipped epoch003\.keras: deleted before it was completely written\./, 60_000);
    writeFileSync(ckpt('epoch004.keras'), await s.next('keras'));
    await w.until(/✓ epoch004\.keras \(epoch 4\)/);
  }, 180_000);

  it('the live JSON holds the three checkpoints; the slowly written one equals `rnnscope analyze` of the finished file alone', async () => {
    const set: AnalysisSet = JSON.parse((await get(`${url}analysis.json`)).body);
    expect(set.timeline!.points.map((p) => p.label)).toEqual(['epoch001.keras', 'epoch002.keras', 'epoch004.keras']);
    expect(
      await cli(
        ['analyze', 'ckpt/epoch002.keras', '--data', 'x.npy', '--targets', 'y.npy', '--json', 'alone.json', '-q'],
        dir,
      ),
    ).toBe(0);
    const alone: Analysis = JSON.parse(readFileSync(path.join(dir, 'alone.json'), 'utf8'));
    const m = await loadModelFile(ckpt('epoch002.keras'));
    const prev = { index: 0, weights: snapshotWeights(await loadModelFile(ckpt('epoch001.keras'))) };
    const p = set.timeline!.points[1]!;
    const want = summarizePoint(alone, snapshotWeights(m), prev, {
      index: 1,
      label: 'epoch002.keras',
      epoch: 2,
      batch: null,
      seconds: p.seconds,
    });
    expect(JSON.parse(JSON.stringify(p))).toEqual(JSON.parse(JSON.stringify(want)));
    expect(set.runs[0]!.run.label).toBe('epoch004.keras');
  }, 180_000);

  it('serves only its own page and data: no request path reaches the file system', async () => {
    writeFileSync(path.join(dir, 'secret.txt'), 'SECRET-42');
    for (const p of [
      '/../../../../etc/passwd',
      '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '//etc/passwd',
      '/secret.txt',
      '/x.npy',
      '/report/index.html',
      '/charts/timeline-heatmap.png',
      '/ckpt/epoch001.keras',
      '/..%2fsecret.txt',
      '/index.html/../secret.txt',
      '/analysis.json/../../secret.txt',
    ]) {
      const r = await get(url, { path: p });
      expect(r.status, p).toBe(404);
      expect(r.body).not.toMatch(/root:|SECRET-42/);
    }
    expect((await get(url, { method: 'POST' })).status).toBe(405);
    expect((await get(url, { method: 'PUT', path: '/secret.txt' })).status).toBe(405);
    // A page of another site reaching this port through DNS rebinding names its own host: refused.
    expect((await get(url, { host: 'attacker.example:80' })).status).toBe(403);
    const page = await get(url);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<h2>Over training</h2>');
    expect((await get(url, { path: '/fragment' })).body).not.toContain('data-bundle=');
  });

  it('listens on loopback only', async () => {
    const port = Number(new URL(url).port);
    const other = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (!other) return; // no non-loopback interface on this machine: nothing else to try
    const err = await new Promise<string>((resolve) => {
      const sock = connect({ host: other, port }, () => {
        sock.destroy();
        resolve('connected');
      });
      sock.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(err).toBe('ECONNREFUSED');
  });

  it('updates an open page without reloading it when a checkpoint arrives', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(String(e)));
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      await page.goto(url);
      await page.waitForFunction(
        () => (window as unknown as { rnnscope?: { ready: Promise<unknown> } }).rnnscope?.ready !== undefined,
      );
      await page.evaluate(() => (window as unknown as { rnnscope: { ready: Promise<unknown> } }).rnnscope.ready);
      await page.evaluate(() => {
        (window as unknown as { marker: number }).marker = 42;
      });
      await page.waitForFunction(() => /live/.test(document.getElementById('live-status')?.textContent ?? ''));
      writeFileSync(ckpt('epoch005.keras'), await s.next('keras'));
      await w.until(/✓ epoch005\.keras/);
      await page.waitForFunction(
        () => /4 checkpoints analysed/.test(document.querySelector('#timeline .lead')?.textContent ?? ''),
        null,
        { timeout: 60_000 },
      );
      await page.evaluate(() => (window as unknown as { rnnscope: { ready: Promise<unknown> } }).rnnscope.ready);
      expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);
      expect(await page.locator('#vis-timeline-heatmap[data-rendered="true"] svg.marks').count()).toBe(1);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 240_000);

  it('stops cleanly on Ctrl-C: exit 0, the last snapshot complete with its charts, no temporary files or lock left', async () => {
    w.child.kill('SIGINT');
    expect(await w.exited).toBe(0);
    expect(w.err).toContain('Ctrl-C: stopping');
    expect(w.err).toMatch(/Wrote the report: report\/index\.html \(4 checkpoints\)\./);
    const html = readFileSync(path.join(dir, 'report', 'index.html'), 'utf8');
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    const set: AnalysisSet = JSON.parse(readFileSync(path.join(dir, 'report', 'analysis.json'), 'utf8'));
    expect(set.timeline!.points.map((p) => p.epoch)).toEqual([1, 2, 4, 5]);
    expect(readdirSync(path.join(dir, 'report', 'charts')).some((n) => n.endsWith('-timeline-heatmap.png'))).toBe(true);
    const left = [...readdirSync(path.join(dir, 'report')), ...readdirSync(path.join(dir, 'report', 'charts'))].filter(
      (n) => n.includes('rnnscope-tmp') || n === '.rnnscope-lock',
    );
    expect(left).toEqual([]);
    expect(existsSync(path.join(dir, 'ckpt', 'epoch003.keras'))).toBe(false);
    expect(w.out).toContain('Over training:');
  }, 180_000);
});

describe('rnnscope watch --once', () => {
  it('weights-only checkpoints with --model, named as tf.keras ModelCheckpoint names them, in epoch order', async () => {
    const d = mkdtempSync(path.join(tmpdir(), 'rnnscope-watch-once-'));
    try {
      const t = series(d, { steps: 10, units: 4, samples: 16, every: 8, seed: 9 });
      t.writeData();
      mkdirSync(path.join(d, 'w'));
      for (const e of [1, 2, 10])
        writeFileSync(
          path.join(d, 'w', `weights.${String(e).padStart(2, '0')}-0.${60 - e}.h5`),
          await t.next('legacy-h5', e > 1),
        );
      const once = new Watch(
        [
          'w',
          '--model',
          'arch.json',
          '--data',
          'x.npy',
          '--targets',
          'y.npy',
          '--once',
          '--no-serve',
          '--settle',
          '0',
          '--out',
          'r',
        ],
        d,
      );
      expect(await once.exited).toBe(0);
      const set: AnalysisSet = JSON.parse(readFileSync(path.join(d, 'r', 'analysis.json'), 'utf8'));
      expect(set.timeline!.points.map((p) => [p.label, p.epoch])).toEqual([
        ['weights.01-0.59.h5', 1],
        ['weights.02-0.58.h5', 2],
        ['weights.10-0.50.h5', 10],
      ]);
      expect(set.timeline!.points[2]!.updates.from).toBe(1);
      expect(once.err).toContain('Watching w for checkpoints (weights for arch.json).');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  }, 300_000);

  it('a diverged checkpoint (NaN weights) is reported with its epoch and does not stop the watch', async () => {
    const d = mkdtempSync(path.join(tmpdir(), 'rnnscope-watch-nan-'));
    try {
      const t = series(d, { steps: 10, units: 4, samples: 16, every: 8, seed: 4 });
      t.writeData();
      mkdirSync(path.join(d, 'ckpt'));
      for (const e of [1, 2]) writeFileSync(path.join(d, 'ckpt', `epoch${e}.keras`), await t.next('keras', e > 1));
      const rk = t.model.weights.get('lstm/recurrent_kernel')!;
      (rk.data as Float64Array)[3] = Number.NaN;
      writeFileSync(path.join(d, 'ckpt', 'epoch3.keras'), await t.next('keras'));
      const once = new Watch(
        ['ckpt', '--data', 'x.npy', '--targets', 'y.npy', '--once', '--no-serve', '--settle', '0', '--out', 'r'],
        d,
      );
      expect(await once.exited).toBe(0);
      // Training went on from the NaN: every weight of the LSTM's kernel (the first tensor bound) is NaN.
      expect(once.err).toContain(
        '✗ epoch3.keras (epoch 3): diverged: 32 NaN/Inf value(s) in lstm/kernel; kept in the timeline, not analysed.',
      );
      expect(once.err).toContain(
        '!! Training diverged: epoch 3 holds 32 NaN/Inf weight value(s) (in lstm/kernel); the last checkpoint before it with finite weights is epoch 2.',
      );
      const set: AnalysisSet = JSON.parse(readFileSync(path.join(d, 'r', 'analysis.json'), 'utf8'));
      expect(set.timeline!.points.map((p) => [p.epoch, p.nonFiniteWeights, p.loss === null])).toEqual([
        [1, 0, false],
        [2, 0, false],
        [3, 32, true],
      ]);
      expect(set.runs.map((a) => a.run.label)).toEqual(['epoch2.keras']);
      expect(set.timeline!.findings[0]!.code).toBe('diverged');
      expect(readFileSync(path.join(d, 'r', 'index.html'), 'utf8')).toContain(
        'Diagnosis of the latest checkpoint with finite weights (epoch2.keras) in detail',
      );
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  }, 300_000);

  it("short flags and the analysis options (loss, batch size, samples) reach each checkpoint's analysis", async () => {
    const d = mkdtempSync(path.join(tmpdir(), 'rnnscope-watch-opts-'));
    try {
      const t = series(d, { steps: 8, units: 3, samples: 16, every: 5, seed: 8 });
      t.writeData();
      mkdirSync(path.join(d, 'w'));
      for (const e of [1, 2])
        writeFileSync(path.join(d, 'w', `ckpt_${e}.weights.h5`), await t.next('weights.h5', e > 1));
      const once = new Watch(
        [
          'watch',
          'w',
          '-m',
          'arch.json',
          '-d',
          'x.npy',
          '-t',
          'y.npy',
          '-o',
          'r',
          '--loss',
          'mae',
          '--batch-size',
          '4',
          '--max-samples',
          '12',
          '--once',
          '--no-serve',
          '--settle',
          '0',
        ],
        d,
      );
      expect(await once.exited).toBe(0);
      const set: AnalysisSet = JSON.parse(readFileSync(path.join(d, 'r', 'analysis.json'), 'utf8'));
      expect(set.timeline!.points.map((p) => p.label)).toEqual(['ckpt_1.weights.h5', 'ckpt_2.weights.h5']);
      expect(set.runs[0]!.objective).toMatchObject({
        loss: 'mae',
        lossSource: 'option',
        samples: 12,
        batchSize: 4,
        batches: 3,
      });
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  }, 300_000);

  it('--host: another loopback address is served as given; a non-loopback one is served with a warning', async () => {
    const d = mkdtempSync(path.join(tmpdir(), 'rnnscope-watch-host-'));
    try {
      mkdirSync(path.join(d, 'ckpt'));
      const alias = new Watch(['watch', 'ckpt', '--host', '127.0.0.2', '--port', '0'], d);
      const u = (await alias.until(/Live page: (http:\/\/\S+\/)/))[1]!;
      expect(new URL(u).hostname).toBe('127.0.0.2');
      expect((await get(u)).body).toContain('Waiting for the first checkpoint');
      expect(alias.err).not.toContain('note: serving on');
      alias.child.kill('SIGINT');
      expect(await alias.exited).toBe(0);
      const all = new Watch(['watch', 'ckpt', '--host', '0.0.0.0', '--port', '0'], d);
      await all.until(
        /note: serving on 0\.0\.0\.0: anyone who can reach this machine on port \d+ can read the page and the analysis\./,
      );
      all.child.kill('SIGINT');
      expect(await all.exited).toBe(0);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  }, 300_000);

  it('a missing folder and a taken --port are refused with what to do', async () => {
    const d = mkdtempSync(path.join(tmpdir(), 'rnnscope-watch-bad-'));
    try {
      const missing = new Watch(['nope', '--once'], d);
      expect(await missing.exited).toBe(1);
      expect(missing.err).toContain(
        'The watched folder nope does not exist; expected the folder your training writes checkpoints to',
      );
      mkdirSync(path.join(d, 'ckpt'));
      const { createServer } = await import('node:net');
      const busy = createServer().listen(0, '127.0.0.1');
      await new Promise((r) => busy.once('listening', r));
      const port = (busy.address() as { port: number }).port;
      const taken = new Watch(['ckpt', '--port', String(port)], d);
      expect(await taken.exited).toBe(2);
      expect(taken.err).toContain(`Cannot serve the live page on 127.0.0.1:${port} (EADDRINUSE)`);
      busy.close();
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  }, 120_000);
});
