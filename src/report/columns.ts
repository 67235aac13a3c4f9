// Datasets in the page's JSON as columns, not row objects: field names are written once, and a column
// that repeats values in runs (the run, the layer key, a binned step) as run lengths. The page script
// (COLUMNS_JS) turns them back into the rows Vega reads, just before a chart is embedded.

export interface Columns {
  /** Row count. */
  n: number;
  /** Per field: plain values (`p`); run-length pairs value, count, value, count… (`r`); or, for integers, the
   * first value and the run-length pairs of the differences between neighbours (`d`: 0,1,2,…,31,0,1,… is short). */
  c: Record<string, Col>;
}

type Col = { p: unknown[] } | { r: unknown[] } | { d: [number, ...unknown[]] };

function runLengths(values: unknown[]): unknown[] {
  const runs: unknown[] = [];
  for (let i = 0; i < values.length; ) {
    let j = i + 1;
    while (j < values.length && values[j] === values[i]) j++;
    runs.push(values[i], j - i);
    i = j;
  }
  return runs;
}

function column(values: unknown[]): Col {
  const options: Col[] = [{ p: values }, { r: runLengths(values) }];
  if (values.length > 0 && values.every((v) => Number.isSafeInteger(v))) {
    const v = values as number[];
    options.push({ d: [v[0], ...runLengths(v.slice(1).map((x, i) => x - v[i]))] });
  }
  const size = (c: Col) => JSON.stringify(c).length;
  return options.reduce((best, c) => (size(c) < size(best) ? c : best));
}

export function toColumns(rows: unknown[]): Columns {
  const fields: string[] = [];
  const seen = new Set<string>();
  for (const row of rows)
    for (const k of Object.keys(row as object))
      if (!seen.has(k)) {
        seen.add(k);
        fields.push(k);
      }
  const c: Columns['c'] = {};
  for (const f of fields) c[f] = column(rows.map((r) => (r as Record<string, unknown>)[f] ?? null));
  return { n: rows.length, c };
}

/** The inverse of toColumns: rows again (a field missing from a row comes back as null). */
export function fromColumns(cols: Columns): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = Array.from({ length: cols.n }, () => ({}));
  for (const [f, col] of Object.entries(cols.c)) {
    if ('p' in col) col.p.forEach((v, i) => (rows[i][f] = v));
    else if ('r' in col)
      for (let k = 0, i = 0; k < col.r.length; k += 2)
        for (let m = 0; m < (col.r[k + 1] as number); m++) rows[i++][f] = col.r[k];
    else {
      let x = col.d[0];
      rows[0][f] = x;
      for (let k = 1, i = 1; k < col.d.length; k += 2)
        for (let m = 0; m < (col.d[k + 1] as number); m++) rows[i++][f] = x += col.d[k] as number;
    }
  }
  return rows;
}

/** fromColumns as ES2017 text for the page script (function name `fromColumns`). */
export const COLUMNS_JS = String.raw`
function fromColumns(cols) {
  var rows = new Array(cols.n);
  for (var i = 0; i < cols.n; i++) rows[i] = {};
  Object.keys(cols.c).forEach(function (f) {
    var col = cols.c[f];
    if (col.p) { for (var j = 0; j < col.p.length; j++) rows[j][f] = col.p[j]; return; }
    if (col.r) {
      var at = 0;
      for (var k = 0; k < col.r.length; k += 2)
        for (var m = 0; m < col.r[k + 1]; m++) rows[at++][f] = col.r[k];
      return;
    }
    var x = col.d[0], i2 = 1;
    if (cols.n > 0) rows[0][f] = x;
    for (var q = 1; q < col.d.length; q += 2)
      for (var w = 0; w < col.d[q + 1]; w++) rows[i2++][f] = x += col.d[q];
  });
  return rows;
}
`;
