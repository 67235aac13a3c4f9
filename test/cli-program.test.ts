// The command line in-process (run(argv, io)) and once through bin/rnnscope.js.

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../src/cli/program.js';
import { expectDhChart } from './helpers/report-files.js';
import { pairModels } from '../src/cli/analyze.js';
import type { Io } from '../src/cli/output.js';
import { validateAnalysis } from '../src/analysis/validate.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = join(ROOT, 'test/fixtures/analysis/example.json');
const SIMPLE_RNN = join(ROOT, 'test/fixtures/corpus/h5_dl4j_simplernn_k2/simple_rnn_tf_keras_2_model.h5');
const dir = mkdtempSync(join(tmpdir(), 'rnnscope-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function memIo(tty = false, env: Record<string, string> = {}): Io & { out: () => string; err: () => string } {
  let out = '',
    err = '';
  return {
    stdout: {
      write: (s: string) => {
        out += s;
      },
      isTTY: tty,
    },
    stderr: {
      write: (s: string) => {
        err += s;
      },
      isTTY: tty,
    },
    env,
    out: () => out,
    err: () => err,
  };
}

describe('rnnscope CLI', () => {
  it('--help lists the commands; each command has examples', async () => {
    const io = memIo();
    expect(await run(['--help'], io)).toBe(0);
    for (const c of ['analyze', 'report', 'inspect', 'demo']) expect(io.out()).toContain(c);
    for (const c of ['analyze', 'report', 'inspect', 'demo']) {
      const io2 = memIo();
      expect(await run([c, '--help'], io2)).toBe(0);
      expect(io2.out()).toContain('Examples:');
      expect(io2.out()).toContain(`$ rnnscope ${c}`);
    }
  });

  it('usage errors exit 2 with the problem on stderr', async () => {
    for (const argv of [
      ['bogus'],
      ['analyze'],
      ['analyze', 'm.h5', '--batch-size', '0'],
      ['report'],
      ['analyze', 'm.h5', '--frobnicate'],
    ]) {
      const io = memIo();
      expect(await run(argv, io), argv.join(' ')).toBe(2);
      expect(io.err()).toMatch(/^error: /);
      expect(io.out()).toBe('');
    }
  });

  it('report: draws a report from an analysis JSON and prints the diagnosis', async () => {
    const io = memIo();
    const out = join(dir, 'report');
    expect(await run(['report', FIXTURE, '--out', out], io)).toBe(0);
    expect(existsSync(join(out, 'index.html'))).toBe(true);
    expectDhChart(out);
    expect(JSON.parse(readFileSync(join(out, 'analysis.json'), 'utf8'))).toEqual(
      JSON.parse(readFileSync(FIXTURE, 'utf8')),
    );
    expect(io.out()).toContain('WARNING [vanishing] bidirectional_1 (forward)');
    expect(io.out()).not.toContain('\u001b['); // not a terminal: no colour codes
    expect(io.err()).toContain(`Wrote the report: ${out}/index.html`);
  }, 120_000);

  it('bad input exits 1 with the typed error message, the stack only with --verbose', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ schema: 'rnnscope.analysis/9' }));
    let io = memIo();
    expect(await run(['report', bad, '--out', join(dir, 'x')], io)).toBe(1);
    expect(io.err()).toBe(
      'error: The file has schema "rnnscope.analysis/9", newer than "rnnscope.analysis/1" which this rnnscope reads; upgrade rnnscope to draw it.\n',
    );
    writeFileSync(bad, '{not json');
    io = memIo();
    expect(await run(['report', bad, '--verbose'], io)).toBe(1);
    expect(io.err()).toMatch(
      /^error: .*bad\.json is not JSON .*; expected the file written by 'rnnscope analyze --json', so pass that file\.\n/,
    );
    expect(io.err()).toMatch(/\n\s+at /); // stack
    io = memIo();
    expect(await run(['report', join(dir, 'missing.json')], io)).toBe(1);
    expect(io.err()).toContain('missing.json does not exist');
    expect(io.err()).not.toMatch(/\n\s+at /);
  });

  it('colours only on a terminal, and never with NO_COLOR; --quiet still reports errors', async () => {
    const bad = join(dir, 'bad2.json');
    writeFileSync(bad, '[]');
    const quiet = memIo(true);
    expect(await run(['report', bad, '--quiet'], quiet)).toBe(1);
    expect(quiet.out()).toBe('');
    expect(quiet.err()).toContain("Analysis JSON field '$' is an array of length 0");
    const tty = memIo(true);
    await run(['report', bad], tty);
    expect(tty.err()).toContain('\u001b[');
    const noColor = memIo(true, { NO_COLOR: '1' });
    await run(['report', bad], noColor);
    expect(noColor.err()).not.toContain('\u001b[');
  });

  it('inspect prints the Keras-like summary', async () => {
    const io = memIo();
    expect(await run(['inspect', SIMPLE_RNN], io)).toBe(0);
    expect(io.out()).toContain('simple_rnn_1 (SimpleRNN)');
    expect(io.out()).toContain('Total params: 2,651');
  });

  it('analyze: a missing model file is bad input (exit 1), not a crash', async () => {
    const io = memIo();
    expect(await run(['analyze', join(dir, 'nope.h5')], io)).toBe(1);
    expect(io.err()).toMatch(/^error: /);
    expect(io.err()).not.toContain('bug');
  });

  it('analyze --json - writes only the validated JSON to stdout; the summary goes to stderr; --dump writes an .npz', async () => {
    const io = memIo();
    const dump = join(dir, 'out', 'g.npz');
    expect(await run(['analyze', SIMPLE_RNN, '--max-samples', '8', '--json', '-', '--dump', dump], io)).toBe(0);
    const a = validateAnalysis(JSON.parse(io.out()));
    expect(a.recurrent.map((r) => r.layer)).toEqual(['simple_rnn_1']);
    expect(a.objective.samples).toBe(8);
    expect(io.err()).toContain('Recurrent layers:');
    expect(io.err()).toContain(`Wrote ${dump}`);
    const bytes = readFileSync(dump);
    expect([...bytes.subarray(0, 4)]).toEqual([0x50, 0x4b, 0x03, 0x04]); // zip
    expect(bytes.includes(Buffer.from('loss.npy'))).toBe(true);
  }, 60_000);

  it('pairs models and weights: one per model, or checkpoints of one model', () => {
    expect(pairModels(['a.json'], ['w1.h5', 'w2.h5'])).toEqual([
      { model: 'a.json', weights: 'w1.h5', label: 'w1.h5' },
      { model: 'a.json', weights: 'w2.h5', label: 'w2.h5' },
    ]);
    expect(pairModels(['a.h5', 'dir/b.h5'], [])).toEqual([
      { model: 'a.h5', label: 'a.h5' },
      { model: 'dir/b.h5', label: 'b.h5' },
    ]);
    expect(() => pairModels(['a', 'b'], ['w1', 'w2', 'w3'])).toThrow('Got 2 models and 3 --weights files');
  });

  it('bin/rnnscope.js runs from the sources without a build', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'bin/rnnscope.js'), '--version'], {
      env: { ...process.env, RNNSCOPE_FROM_SOURCE: '1' },
    });
    expect(stdout.trim()).toBe('0.1.0');
    const r = await promisify(execFile)(process.execPath, [join(ROOT, 'bin/rnnscope.js'), 'bogus'], {
      env: { ...process.env, RNNSCOPE_FROM_SOURCE: '1' },
    }).catch((e: { code: number; stderr: string }) => e);
    expect((r as { code: number }).code).toBe(2);
  }, 60_000);
});
