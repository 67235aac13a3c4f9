// The Python literals numpy writes in .npy headers, parsed without evaluating anything: dict,
// tuple, list, str (u/b prefixes allowed), int, True/False/None. numpy itself reads the header
// with ast.literal_eval (numpy/lib/format.py _read_array_header); a header needs nothing more,
// so floats and other literals are refused, and string escapes other than \n and \t keep the
// escaped character. Nesting is capped at 16 levels. Checking the header's keys is npy-header.ts's job.

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
export type PyValue = string | number | boolean | null | PyValue[] | PyTuple | Map<string, PyValue>;

/** Python's repr of a value, for messages (dicts abbreviated). */
export function pyRepr(v: PyValue | undefined): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'None';
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  if (v instanceof PyTuple) return `(${v.items.map(pyRepr).join(', ')}${v.items.length === 1 ? ',' : ''})`;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  return '{…}';
}

const MAX_DEPTH = 16;

/**
 * Parse `text` as one Python literal; throws SyntaxError ("expected ':' at character 12").
 * `dropLongSuffix` accepts Python 2 long literals (3L) as numpy's _filter_header does.
 */
export function parsePyLiteral(text: string, dropLongSuffix: boolean): PyValue {
  return new LiteralParser(text, dropLongSuffix).parseAll();
}

class LiteralParser {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly dropLongSuffix: boolean,
  ) {}

  parseAll(): PyValue {
    const v = this.value(0);
    this.ws();
    if (this.i < this.s.length) this.fail('trailing text');
    return v;
  }

  private fail(what: string): never {
    throw new SyntaxError(`${what} at character ${this.i}`);
  }

  private ws(): void {
    const s = this.s;
    while (this.i < s.length && (s[this.i] === ' ' || s[this.i] === '\n' || s[this.i] === '\t' || s[this.i] === '\r'))
      this.i++;
  }

  private value(depth: number): PyValue {
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.dict(depth);
    if (c === '(' || c === '[') return this.seq(depth, c);
    if (c === "'" || c === '"') return this.str();
    if ((c === 'u' || c === 'b') && (this.s[this.i + 1] === "'" || this.s[this.i + 1] === '"')) {
      this.i++;
      return this.str();
    }
    if (c === '-' || c === '+' || (c >= '0' && c <= '9')) return this.int();
    for (const [word, v] of [
      ['True', true],
      ['False', false],
      ['None', null],
    ] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    return this.fail(c === undefined ? 'unexpected end' : `unexpected '${c}'`);
  }

  private dict(depth: number): Map<string, PyValue> {
    const m = new Map<string, PyValue>();
    this.i++;
    for (;;) {
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return m;
      }
      const k = this.value(depth + 1);
      if (typeof k !== 'string') this.fail('non-string key');
      this.ws();
      if (this.s[this.i] !== ':') this.fail("expected ':'");
      this.i++;
      m.set(k, this.value(depth + 1));
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') this.fail("expected ',' or '}'");
    }
  }

  private seq(depth: number, open: string): PyValue {
    const close = open === '(' ? ')' : ']';
    const items: PyValue[] = [];
    let sawComma = false;
    this.i++;
    for (;;) {
      this.ws();
      if (this.s[this.i] === close) {
        this.i++;
        break;
      }
      items.push(this.value(depth + 1));
      this.ws();
      if (this.s[this.i] === ',') {
        this.i++;
        sawComma = true;
      } else if (this.s[this.i] !== close) this.fail(`expected ',' or '${close}'`);
    }
    if (open === '[') return items;
    // Python: (3) is the int 3, (3,) a tuple.
    return items.length === 1 && !sawComma ? items[0] : new PyTuple(items);
  }

  private str(): string {
    const q = this.s[this.i++];
    let out = '';
    for (;;) {
      const c = this.s[this.i++];
      if (c === undefined) this.fail('unterminated string');
      if (c === q) return out;
      if (c === '\\') {
        const e = this.s[this.i++];
        if (e === undefined) this.fail('unterminated string');
        out += e === 'n' ? '\n' : e === 't' ? '\t' : e;
      } else out += c;
    }
  }

  private int(): number {
    const start = this.i;
    if (this.s[this.i] === '-' || this.s[this.i] === '+') this.i++;
    const digits = this.i;
    while (this.i < this.s.length && this.s[this.i] >= '0' && this.s[this.i] <= '9') this.i++;
    if (this.i === digits) this.fail('expected a digit');
    const v = Number(this.s.slice(start, this.i));
    if (this.dropLongSuffix && this.s[this.i] === 'L') this.i++;
    const c = this.s[this.i];
    if (c === '.' || c === 'e' || c === 'E' || c === 'j') this.fail('expected an integer');
    return v;
  }
}
