// Powers of ten as people write them: an axis or legend label that d3-format wrote in exponent
// notation ("1e-14", "2e+3", "1.5e-7") becomes 10⁻¹⁴, 2×10³, 1.5×10⁻⁷; every other label is kept.
// A Vega expression (labelExpr), so the page and the static SVG/PNG draw the same text.

const SUPERSCRIPT: [string, string][] = [
  ['-', '⁻'],
  ['0', '⁰'],
  ['1', '¹'],
  ['2', '²'],
  ['3', '³'],
  ['4', '⁴'],
  ['5', '⁵'],
  ['6', '⁶'],
  ['7', '⁷'],
  ['8', '⁸'],
  ['9', '⁹'],
];

function pow10Expr(label: string): string {
  const at = `indexof(${label}, 'e')`;
  const mantissa = `substring(${label}, 0, ${at})`;
  let exponent = `replace(substring(${label}, ${at} + 1), '+', '')`;
  for (const [digit, sup] of SUPERSCRIPT) exponent = `replace(${exponent}, /${digit}/g, '${sup}')`;
  const lead = `(${mantissa} === '1' ? '' : ${mantissa} === '-1' ? '−' : ${mantissa} + '×')`;
  return `test(/^-?[0-9.]+e[-+]?[0-9]+$/, ${label}) ? ${lead} + '10' + ${exponent} : ${label}`;
}

/** labelExpr for axes and legends: exponent notation as a power of ten with a superscript exponent. */
export const POW10_LABEL = pow10Expr('datum.label');

const LEGEND_CHANNELS = ['color', 'fill', 'stroke', 'opacity', 'fillOpacity', 'strokeOpacity', 'size'];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * A copy of a Vega-Lite spec whose axes and quantitative legends write powers of ten with POW10_LABEL,
 * unless they have a labelExpr of their own: axes through the config, legends (which Vega-Lite's config
 * cannot give a labelExpr) on each encoding. Data are not copied.
 */
export function withPow10Labels<T>(spec: T): T {
  const legend = (def: Obj): Obj => {
    const g = def.legend;
    if (g === null || g === false) return def; // no guide
    if (g !== undefined && !isObj(g)) return def;
    if (isObj(g) && g.labelExpr !== undefined) return def;
    return { ...def, legend: { ...(g ?? {}), labelExpr: POW10_LABEL } };
  };
  const walk = (v: unknown, key: string | null): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, null));
    if (!isObj(v)) return v;
    const o: Obj = {};
    for (const [k, x] of Object.entries(v)) o[k] = k === 'datasets' || k === 'data' || k === 'config' ? x : walk(x, k);
    if (key === 'encoding')
      for (const ch of LEGEND_CHANNELS) if (isObj(o[ch]) && o[ch].type === 'quantitative') o[ch] = legend(o[ch]);
    return o;
  };
  const out = walk(spec, null) as Obj;
  const config = isObj(out.config) ? out.config : {};
  const axis = isObj(config.axis) ? config.axis : {};
  if (axis.labelExpr === undefined) out.config = { ...config, axis: { ...axis, labelExpr: POW10_LABEL } };
  return out as T;
}
