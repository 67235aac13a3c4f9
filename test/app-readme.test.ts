// The README's "In the browser" commands, run as written: `npm run build:web` (through /bin/sh in
// the repository; it writes dist-web/, which .gitignore keeps out of git), the page it writes
// opened from disk in Chromium and used, and `npx rnnscope serve` (as `node bin/rnnscope.js serve`:
// npx inside this repository would look the name up in the registry) serving that same page.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { launchChromium, spawnServe } from './helpers/browser.js';
import { CORPUS, ROOT, USERDATA, analyse, pick } from './helpers/app-page.js';

const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const section = README.slice(
  README.indexOf('## In the browser'),
  README.indexOf('\n## ', README.indexOf('## In the browser') + 3),
);
const commands = [.../```sh\n([\s\S]*?)```/.exec(section)![1]!.matchAll(/^(.*?)\s+#/gm)].map((m) => m[1]!);

function sh(cmd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      '/bin/sh',
      ['-c', cmd],
      { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 1 << 24 },
      (err, stdout, stderr) => {
        resolve({
          code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0,
          out: stdout + stderr,
        });
      },
    );
  });
}

// dist-web/ is what the documented command writes; a run that created it removes it again.
const hadBuild = existsSync(path.join(ROOT, 'dist-web'));
afterAll(() => {
  if (!hadBuild) rmSync(path.join(ROOT, 'dist-web'), { recursive: true, force: true });
});

describe('README: In the browser', { timeout: 300_000 }, () => {
  it('documents these two commands', () => {
    expect(commands).toEqual(['npm run build:web', 'npx rnnscope serve']);
  });

  it('npm run build:web writes the page, which opened from disk analyses a .keras with its data', async () => {
    const r = await sh(commands[0]!);
    expect(r.code, r.out).toBe(0);
    for (const f of ['app.html', 'app.js', 'app.css']) expect(existsSync(path.join(ROOT, 'dist-web', f)), f).toBe(true);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('request', (q) => {
        if (!/^(file|blob|data):/.test(q.url())) problems.push(`network: ${q.url()}`);
      });
      await page.goto(pathToFileURL(path.join(ROOT, 'dist-web', 'app.html')).href);
      await page.waitForFunction(() => document.body.dataset['ready'] === 'true');
      await pick(page, [
        path.join(CORPUS, 'k3_hatice_har_lstm/lstm_model.keras'),
        path.join(USERDATA, 'har/x.npy'),
        path.join(USERDATA, 'har/y.npy'),
      ]);
      expect((await analyse(page)).state).toBe('done');
      await page.waitForFunction(() => document.body.dataset['report'] === 'drawn', undefined, { timeout: 60_000 });
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('npx rnnscope serve serves that page on 127.0.0.1 and stops on Ctrl-C', async () => {
    expect(commands[1]).toBe('npx rnnscope serve');
    const sc = spawnServe(['serve']);
    const child = sc.child;
    const url = await sc.url;
    // The documented port, unless something else holds it (then any free one, as the help says).
    if (url !== 'http://127.0.0.1:6071/') console.log(`port 6071 was taken; rnnscope serve chose ${url}`);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await res.text()).toBe(readFileSync(path.join(ROOT, 'dist-web', 'app.html'), 'utf8'));
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGINT');
    expect(await exit).toBe(0);
  });

  it('shows a screenshot of the page, small enough for the repository', () => {
    expect(section).toContain('](docs/img/app.png)');
    expect(statSync(path.join(ROOT, 'docs/img/app.png')).size).toBeLessThan(150 * 1024);
  });
});
