// Every flag `rnnscope --help` and `rnnscope <command> --help` list is used by some CLI test.
//
// The commands and flags come from the help text itself (so a new flag or command is covered
// automatically). A flag of command S counts as used when some line of a test file (lines joined
// while a [ is open, as the formatter wraps argument arrays) names S (as a
// quoted 'S', as `rnnscope S`, or as `npm run S` for the package script of that name) together with the flag as its own
// token ('--flag', or --flag
// inside a command string), in its long and, where it has one, its short form. Global flags
// (--version, --quiet, --verbose) count on any line. -h/--help and the `help` command are run here.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, rnnscope } from './helpers/cli-run.js';

interface Flag {
  short?: string;
  long: string;
}

/** The flags listed under "Options:" and the commands under "Commands:" of one help text. */
function parseHelp(text: string): { flags: Flag[]; commands: string[] } {
  const section = (name: string) => {
    const m = new RegExp(`^${name}:\\n((?:  .*\\n|\\s*\\n)*)`, 'm').exec(`${text}\n`);
    return m ? m[1]!.split('\n') : [];
  };
  const flags: Flag[] = [];
  for (const line of section('Options')) {
    const m = /^ {2}(?:(-\w), )?(--[\w-]+)/.exec(line);
    if (m) flags.push({ short: m[1], long: m[2]! });
  }
  const commands = section('Commands')
    .map((l) => /^ {2}([\w-]+)/.exec(l)?.[1])
    .filter((c): c is string => !!c);
  return { flags, commands };
}

function testLines(): { file: string; line: string }[] {
  const dir = path.join(ROOT, 'test');
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter(
    (f) => f.endsWith('.ts') && !f.includes('fixtures'),
  );
  return files.flatMap((f) => logicalLines(readFileSync(path.join(dir, f), 'utf8')).map((line) => ({ file: f, line })));
}

/** Lines joined while a [ is open, so an argument array the formatter wrapped is one line again. */
function logicalLines(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const raw of text.split('\n')) {
    cur += (cur ? ' ' : '') + raw.trim();
    for (const ch of raw) depth += ch === '[' ? 1 : ch === ']' ? -1 : 0;
    if (depth <= 0 || cur.length > 1000) {
      out.push(cur);
      cur = '';
      depth = 0;
    }
  }
  if (cur) out.push(cur);
  return out;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const token = (flag: string) => new RegExp(`(^|['"\`\\s])${esc(flag)}(?=$|['"\`\\s=])`);
// `npm run demo` is the package script that runs `rnnscope demo`.
const names = (cmd: string) => new RegExp(`(['"\`])${esc(cmd)}\\1|rnnscope ${esc(cmd)}\\b|npm run ${esc(cmd)}\\b`);

describe('CLI flags', () => {
  it('every flag in --help of every command is exercised by a test', async () => {
    const top = await rnnscope(['--help']);
    expect(top.code).toBe(0);
    const root = parseHelp(top.stdout);
    const commands = root.commands.filter((c) => c !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['analyze', 'report', 'inspect', 'demo']));
    const lines = testLines().filter((l) => l.file !== 'cli-flags.test.ts');
    const missing: string[] = [];
    for (const f of root.flags) {
      if (f.long === '--help') continue; // run below
      for (const form of [f.long, f.short].filter((x): x is string => !!x)) {
        if (!lines.some((l) => token(form).test(l.line))) missing.push(`rnnscope ${form}`);
      }
    }
    for (const cmd of commands) {
      const help = await rnnscope([cmd, '--help']);
      expect(help.code, `${cmd} --help`).toBe(0);
      const { flags } = parseHelp(help.stdout);
      expect(flags.length, `${cmd} --help lists its options`).toBeGreaterThan(0);
      for (const f of flags) {
        if (f.long === '--help') continue;
        for (const form of [f.long, f.short].filter((x): x is string => !!x)) {
          if (!lines.some((l) => names(cmd).test(l.line) && token(form).test(l.line)))
            missing.push(`rnnscope ${cmd} ${form}`);
        }
      }
    }
    expect(missing, 'flags no test line uses (with their command on the same line)').toEqual([]);
  }, 300_000);

  it("-h, --help and 'help <command>' print the same help", async () => {
    const [long, short, viaHelp] = await Promise.all([
      rnnscope(['analyze', '--help']),
      rnnscope(['analyze', '-h']),
      rnnscope(['help', 'analyze']),
    ]);
    for (const r of [long, short, viaHelp]) expect(r.code).toBe(0);
    expect(short.stdout).toBe(long.stdout);
    expect(viaHelp.stdout).toBe(long.stdout);
    expect(long.stdout).toMatch(/^Usage: rnnscope analyze/);
    const [top, topShort] = await Promise.all([rnnscope(['--help']), rnnscope(['-h'])]);
    expect(topShort.stdout).toBe(top.stdout);
  }, 300_000);

  it('the help parser reads commander’s layout', () => {
    const h = parseHelp(
      'Usage: x\n\nOptions:\n  -w, --weights <file>  a\n                        wrapped\n  --all-charts  b\n  -h, --help  c\n\nCommands:\n  analyze [options]  d\n  help [command]  e\n',
    );
    expect(h.flags).toEqual([
      { short: '-w', long: '--weights' },
      { short: undefined, long: '--all-charts' },
      { short: '-h', long: '--help' },
    ]);
    expect(h.commands).toEqual(['analyze', 'help']);
    expect(token('--json').test("['analyze', m, '--json', '-']")).toBe(true);
    expect(token('--json').test("'--json-x'")).toBe(false);
    expect(names('report').test("'npx rnnscope report analysis.json --out report/'")).toBe(true);
    expect(names('report').test("const reportDir = 'x'")).toBe(false);
  });
});
