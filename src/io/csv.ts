// CSV / TSV / whitespace-separated text data (layout also in docs/data-formats.md):
//
//   - One row per sample. A row holds that sample's values flattened in C order: for a model
//     input (batch, steps, features), step 0's features, then step 1's, and so on.
//   - Separator detected from the first rows: tab, ';', ',' or runs of spaces (numpy.savetxt's
//     default). With ';', tab or spaces as separator a decimal comma (1,5) is read as 1.5.
//   - Lines whose first non-blank character is '#' are comments (numpy.savetxt writes its
//     header that way). `# shape: 23,210,1` gives the array's full shape: the values of all rows,
//     concatenated, are that array in C order. Without it the shape is (rows, values per row)
//     and data-check reshapes each row to the model's sample shape.
//   - Leading rows that are not all numbers (column names) are skipped with a warning.
//   - Empty lines are skipped. A row with a different number of values than the first data row
//     is an error naming its line. `nan`, `inf`, `-inf` (any case, as numpy.savetxt writes them)
//     are read; data-check reports them.
//   - Fields may be wrapped in double quotes; a separator at the end of a line is ignored.

import { DataError, LoadError, fmtShape } from '../model/errors.js';
import { warn } from '../model/types.js';
import type { NamedArray, DataOptions } from './types.js';
import { baseName, stripExt } from './common.js';

type Sep = '\t' | ';' | ',' | ' ';

const NUMBER = /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)$/;
const SPECIAL = /^([+-]?)(nan|inf|infinity)$/i;
const SHAPE_LINE = /^#\s*shape\s*[:=]\s*\(?\s*(\d+(?:\s*[,x×]\s*\d+)*)\s*,?\s*\)?\s*$/i;

export const name = 'csv';

/** Any text: CSV is what a text file is when nothing before it in the registry (data.ts) claimed it. */
export function match(_bytes: Uint8Array, _fileName: string): boolean {
  return true;
}

/** The array of a CSV/TSV file (registry shape). */
export function read(bytes: Uint8Array, fileName: string, opts: DataOptions = {}): NamedArray[] {
  return [readCsv(bytes, fileName, opts)];
}

export function readCsv(bytes: Uint8Array, label: string, opts: DataOptions = {}): NamedArray {
  let text = new TextDecoder('utf-8').decode(bytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  // Content lines as [start, end) ranges with their 1-based line numbers.
  const starts: number[] = [];
  const ends: number[] = [];
  const lineNos: number[] = [];
  let declared: number[] | null = null;
  let lineNo = 0;
  for (let p = 0; p <= text.length; ) {
    let e = p;
    while (e < text.length && text.charCodeAt(e) !== 10 && text.charCodeAt(e) !== 13) e++;
    lineNo++;
    let a = p;
    let b = e;
    while (a < b && isBlank(text.charCodeAt(a))) a++;
    while (b > a && isBlank(text.charCodeAt(b - 1))) b--;
    if (a < b) {
      if (text.charCodeAt(a) === 35 /* # */) {
        const m = SHAPE_LINE.exec(text.slice(a, b));
        if (m) declared = m[1].split(/[,x×]/).map((s) => Number(s.trim()));
      } else {
        starts.push(a);
        ends.push(b);
        lineNos.push(lineNo);
      }
    }
    if (e >= text.length) break;
    p = e + (text.charCodeAt(e) === 13 && text.charCodeAt(e + 1) === 10 ? 2 : 1);
  }

  const sep = detectSeparator(text, starts, ends);
  let decimalComma = false;
  if (sep !== ',') {
    for (let i = 0; i < Math.min(starts.length, 20) && !decimalComma; i++)
      decimalComma = text.slice(starts[i], ends[i]).includes(',');
  }
  const parser = new RowParser(text, sep, decimalComma);

  // Leading rows that are not all numbers are column headers.
  let first = 0;
  while (first < starts.length && !parser.allNumeric(starts[first], ends[first])) first++;
  if (first === starts.length) {
    const what =
      starts.length === 0
        ? 'no data rows'
        : `no row of numbers (line ${lineNos[0]} reads "${clip(text.slice(starts[0], ends[0]))}")`;
    throw new LoadError(
      `${label} has ${what}; expected one row of numbers per sample, so check that this is the data file.`,
      { file: label },
    );
  }
  if (first > 0 && opts.warnings) {
    warn(
      opts.warnings,
      'csv-header',
      `${label}: skipped ${first} header row(s) that are not numbers ("${clip(text.slice(starts[0], ends[0]))}").`,
    );
  }

  const cols = parser.count(starts[first], ends[first]);
  const rows = starts.length - first;
  const data = new Float64Array(rows * cols);
  let k = 0;
  for (let r = first; r < starts.length; r++) {
    const n = parser.count(starts[r], ends[r]);
    if (n !== cols) {
      throw new DataError(
        `${label} line ${lineNos[r]} has ${n} values but line ${lineNos[first]} has ${cols}; every row must hold one sample's values, so fix or remove that row.`,
        { file: label },
      );
    }
    const bad = parser.fill(starts[r], ends[r], data, k);
    if (bad >= 0) {
      throw new DataError(
        `${label} line ${lineNos[r]}, column ${bad + 1}: "${clip(parser.field(starts[r], ends[r], bad))}" is not a number; every row after the header must hold numbers only, so fix or remove that row.`,
        { file: label },
      );
    }
    k += cols;
  }

  const name = stripExt(baseName(label));
  if (declared) {
    let n = 1;
    for (const d of declared) n *= d;
    if (n !== data.length) {
      throw new DataError(
        `${label} declares shape ${fmtShape(declared)} = ${n} values but holds ${rows} rows × ${cols} values = ${data.length}; fix the '# shape:' line.`,
        { file: label },
      );
    }
    return { name, shape: declared, dtype: 'float64', data, source: label };
  }
  return { name, shape: [rows, cols], dtype: 'float64', data, source: label, layout: 'rows' };
}

/** Picks the separator present on most of the first rows; ties go to tab, then ';', then ','. */
function detectSeparator(text: string, starts: number[], ends: number[]): Sep {
  const n = Math.min(starts.length, 10);
  let best: Sep = ' ';
  let bestLines = 0;
  for (const c of ['\t', ';', ','] as const) {
    const code = c.charCodeAt(0);
    let lines = 0;
    for (let i = 0; i < n; i++) {
      for (let p = starts[i]; p < ends[i]; p++) {
        if (text.charCodeAt(p) === code) {
          lines++;
          break;
        }
      }
    }
    if (lines > bestLines) {
      best = c;
      bestLines = lines;
    }
  }
  return best;
}

class RowParser {
  private readonly sepCode: number;
  constructor(
    private readonly text: string,
    private readonly sep: Sep,
    private readonly decimalComma: boolean,
  ) {
    this.sepCode = sep.charCodeAt(0);
  }

  /** Calls `f(start, end, index)` for each field of the line [a, b) (fields trimmed, quotes stripped). Stops when f
   * returns false. */
  private fields(a: number, b: number, f: (s: number, e: number, i: number) => boolean): number {
    const t = this.text;
    let i = 0;
    let p = a;
    if (this.sep === ' ') {
      while (p < b) {
        while (p < b && isBlank(t.charCodeAt(p))) p++;
        if (p >= b) break;
        let e = p;
        while (e < b && !isBlank(t.charCodeAt(e))) e++;
        if (!this.emit(p, e, i++, f)) return i;
        p = e;
      }
      return i;
    }
    for (;;) {
      let e = p;
      while (e < b && t.charCodeAt(e) !== this.sepCode) e++;
      if (e === b && p === b && i > 0) return i; // separator at the end of the line
      if (!this.emit(p, e, i++, f)) return i;
      if (e >= b) return i;
      p = e + 1;
    }
  }

  private emit(s: number, e: number, i: number, f: (s: number, e: number, i: number) => boolean): boolean {
    const t = this.text;
    while (s < e && isBlank(t.charCodeAt(s))) s++;
    while (e > s && isBlank(t.charCodeAt(e - 1))) e--;
    if (e - s >= 2 && t.charCodeAt(s) === 34 && t.charCodeAt(e - 1) === 34) {
      s++;
      e--;
    }
    return f(s, e, i);
  }

  count(a: number, b: number): number {
    return this.fields(a, b, () => true);
  }

  allNumeric(a: number, b: number): boolean {
    let ok = true;
    this.fields(a, b, (s, e) => (ok = !Number.isNaN(this.value(s, e)) || SPECIAL.test(this.text.slice(s, e))));
    return ok;
  }

  /** Writes the line's values at out[k...]; returns the index of the first field that is not a number, or -1. */
  fill(a: number, b: number, out: Float64Array, k: number): number {
    let bad = -1;
    this.fields(a, b, (s, e, i) => {
      const v = this.value(s, e);
      if (Number.isNaN(v) && !SPECIAL.test(this.text.slice(s, e))) {
        bad = i;
        return false;
      }
      out[k + i] = v;
      return true;
    });
    return bad;
  }

  field(a: number, b: number, index: number): string {
    let out = '';
    this.fields(a, b, (s, e, i) => {
      if (i === index) {
        out = this.text.slice(s, e);
        return false;
      }
      return true;
    });
    return out;
  }

  /** The field's number; NaN when it is not one (or is 'nan'). One slice per value: JS has no parseFloat at an offset.
   * */
  private value(s: number, e: number): number {
    let f = this.text.slice(s, e);
    if (this.decimalComma) f = f.replace(',', '.');
    if (NUMBER.test(f)) return Number(f);
    const m = SPECIAL.exec(f);
    if (m) return m[2].toLowerCase() === 'nan' ? NaN : m[1] === '-' ? -Infinity : Infinity;
    return NaN;
  }
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10 || c === 0xa0;
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
