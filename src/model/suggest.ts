// "Did you mean …?" for mistyped names (losses, options): the closest known spellings by
// edit distance (insertions, deletions, substitutions and swaps of neighbours each cost 1).

/** Optimal-string-alignment distance between a and b. */
export function editDistance(a: string, b: string): number {
  const n = a.length;
  const m = b.length;
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  for (let i = 1; i <= n; i++) {
    const cur = new Array<number>(m + 1);
    cur[0] = i;
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur[j] = d;
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[m]!;
}

/**
 * The known names nearest to `word`, if within a quarter of its length (at least 1, at most 3
 * edits); all those at that distance, in candidate order, at most `limit`. `key` normalises both sides before comparing
 * (e.g. case and underscores);
 * `label` is what to show for a candidate.
 */
export function closest(
  word: string,
  candidates: Iterable<string>,
  opts: { key?: (s: string) => string; label?: (s: string) => string; limit?: number } = {},
): string[] {
  const key = opts.key ?? ((s: string) => s);
  const label = opts.label ?? ((s: string) => s);
  const w = key(word);
  const max = Math.min(3, Math.max(1, Math.floor(w.length / 4)));
  const found = new Map<string, number>();
  for (const c of candidates) {
    const d = editDistance(w, key(c));
    if (d > max) continue;
    const l = label(c);
    if (!found.has(l) || found.get(l)! > d) found.set(l, d);
  }
  const best = Math.min(...found.values());
  return [...found]
    .filter(([, d]) => d === best)
    .slice(0, opts.limit ?? 3)
    .map(([l]) => l);
}

/** " (did you mean 'a' or 'b'?)" or "" — for the end of a "… is not …" clause. */
export function didYouMean(names: readonly string[]): string {
  if (names.length === 0) return '';
  const q = names.map((n) => `'${n}'`);
  return ` (did you mean ${q.length === 1 ? q[0] : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`}?)`;
}
