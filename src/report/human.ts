// Numbers as a reader writes them: 0.169, 12.5, 1.2 × 10⁻⁵ (never 1.688e-1). The page script carries
// the same rule for its tooltips (HUMAN_JS), so the server-drawn text and the hover text agree.

const SUP: Record<string, string> = {
  '-': '⁻',
  '0': '⁰',
  '1': '¹',
  '2': '²',
  '3': '³',
  '4': '⁴',
  '5': '⁵',
  '6': '⁶',
  '7': '⁷',
  '8': '⁸',
  '9': '⁹',
};

/** 10 to an integer power with a superscript exponent: 10⁻⁵. */
export function pow10(e: number): string {
  return `10${String(e)
    .split('')
    .map((c) => SUP[c] ?? c)
    .join('')}`;
}

/** Up to `digits` significant digits; a power of ten outside [0.001, 10⁵); "n/a" when missing or not finite. */
export function human(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e5) {
    const s = String(Number(x.toPrecision(digits)));
    return a >= 1e4 ? Number(s).toLocaleString('en-US') : s;
  }
  const [m, e] = x.toExponential(Math.max(0, digits - 2)).split('e');
  const mant = String(Number(m));
  const p = pow10(Number(e));
  return mant === '1' ? p : mant === '-1' ? `−${p}` : `${mant.replace('-', '−')} × ${p}`;
}

/** The same rule as `human`, as ES2017 text for the page script (function name `human`). */
export const HUMAN_JS = String.raw`
function human(x, digits) {
  digits = digits || 3;
  if (x === null || x === undefined || typeof x !== 'number' || !isFinite(x)) return 'n/a';
  if (x === 0) return '0';
  var a = Math.abs(x);
  if (a >= 1e-3 && a < 1e5) {
    var s = String(Number(x.toPrecision(digits)));
    return a >= 1e4 ? Number(s).toLocaleString('en-US') : s;
  }
  var parts = x.toExponential(Math.max(0, digits - 2)).split('e');
  var mant = String(Number(parts[0]));
  var sup = { '-': '\u207b', '0': '\u2070', '1': '\u00b9', '2': '\u00b2', '3': '\u00b3', '4': '\u2074',
    '5': '\u2075', '6': '\u2076', '7': '\u2077', '8': '\u2078', '9': '\u2079' };
  var p = '10' + String(Number(parts[1])).split('').map(function (c) { return sup[c] || c; }).join('');
  return mant === '1' ? p : mant === '-1' ? '\u2212' + p : mant.replace('-', '\u2212') + ' \u00d7 ' + p;
}
`;
