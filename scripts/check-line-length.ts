// Line-length check run by `npm test` (after Biome, whose formatter wraps code at 120 columns but never
// splits a string or a comment). Like ESLint's `max-len` with ignoreStrings/ignoreTemplateLiterals/ignoreUrls:
// a line fails when it is longer than the limit once its string literals and URLs are set aside, so long
// comments are reflowed by hand and long messages stay greppable in one piece.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const MAX_LINE = 120;

/**
 * For each line, how many of its characters lie outside string and template literal text (a template's
 * `${…}` parts count as code) and outside URLs. A small lexer, because literals span lines: the HTML and CSS
 * of the report's page live in template literals.
 */
export function codeWidths(text: string): number[] {
  const widths: number[] = [0];
  // Stack of open contexts: 'code' inside a template's ${…} (with its brace depth), 'tpl' inside template text.
  const stack: { kind: 'code' | 'tpl'; depth: number }[] = [{ kind: 'code', depth: 0 }];
  let quote = ''; // inside a '…' or "…" string
  let comment: '' | 'line' | 'block' = '';
  let regex = false; // inside a /…/ regular expression literal (its [ ] class too)
  let regexClass = false;
  let prev = '\n'; // last non-space code character, to tell a regex literal from a division
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const top = stack[stack.length - 1]!;
    if (ch === '\n') {
      widths.push(0);
      if (comment === 'line') comment = '';
      quote = '';
      continue;
    }
    let literal = false;
    if (comment === 'line') {
      if (text.startsWith('http://', i) || text.startsWith('https://', i)) {
        while (i + 1 < text.length && !/\s/.test(text[i + 1]!)) i++;
        continue;
      }
    } else if (comment === 'block') {
      if (ch === '*' && text[i + 1] === '/') comment = '';
    } else if (regex) {
      literal = true;
      if (ch === '\\') i++;
      else if (ch === '[') regexClass = true;
      else if (ch === ']') regexClass = false;
      else if (ch === '/' && !regexClass) regex = false;
    } else if (quote) {
      literal = true;
      if (ch === '\\') i++;
      else if (ch === quote) quote = '';
    } else if (top.kind === 'tpl') {
      literal = true;
      if (ch === '\\') i++;
      else if (ch === '`') stack.pop();
      else if (ch === '$' && text[i + 1] === '{') {
        stack.push({ kind: 'code', depth: 0 });
        i++;
      }
    } else if (ch === '/' && text[i + 1] === '/') comment = 'line';
    else if (ch === '/' && text[i + 1] === '*') comment = 'block';
    else if (ch === '/' && /[\n(,=:[!&|?{};]/.test(prev)) regex = true;
    else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '`') stack.push({ kind: 'tpl', depth: 0 });
    else if (ch === '{') top.depth++;
    else if (ch === '}') {
      if (top.depth === 0 && stack.length > 1) stack.pop();
      else top.depth--;
    }
    if (!literal) widths[widths.length - 1]! += 1;
    if (!comment && !literal && !/\s/.test(ch)) prev = ch;
  }
  return widths;
}

export function longLines(text: string, max = MAX_LINE): number[] {
  const lines = text.split('\n');
  const widths = codeWidths(text);
  const out: number[] = [];
  lines.forEach((line, i) => {
    if (line.length > max && widths[i]! > max) out.push(i + 1);
  });
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' })
    .split('\n')
    .filter((f) => /\.(ts|js|mjs)$/.test(f) && !f.startsWith('test/fixtures/'));
  const bad: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const n of longLines(text)) bad.push(`${f}:${n}`);
  }
  if (bad.length > 0) {
    console.error(`${bad.length} lines are longer than ${MAX_LINE} characters outside string literals and URLs:`);
    console.error(bad.join('\n'));
    process.exit(1);
  }
}
