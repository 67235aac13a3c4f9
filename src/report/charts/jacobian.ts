// Chart 6: the measured per-step factor ‖∂ℓ_n/∂h_prev‖ / ‖∂ℓ_n/∂h_t‖ (median and 10–90 % band over samples)
// with the line at 1, and σ_max of the step Jacobian beside it as what it is: an upper bound. A product of
// bounds is not drawn (it is no measurement).

import {
  BY_LAYER,
  COLORS,
  zoom,
  base,
  HOVER_PARAM,
  hoverRule,
  STEP_TARGET_WIDTH,
  selectionParams,
  eachLayer,
  magnitudeFormat,
  r4,
  resolve,
  valid,
  type ChartOptions,
  type Input,
  type VegaLiteSpec,
  vl,
} from './common.js';

export function jacobianChart(input: Input, opts: ChartOptions = {}): VegaLiteSpec {
  const o = resolve(input, opts);
  const rows: Record<string, unknown>[] = [];
  for (const { run, r, key } of eachLayer(o.runs)) {
    const j = r.jacobian;
    const m = r.stepRatio;
    if (!j && !m) continue;
    for (let t = 0; t < r.steps; t++)
      rows.push({
        run,
        key,
        t,
        p10: m ? r4(m.p10[t]) : null,
        p50: m ? r4(m.p50[t]) : null,
        p90: m ? r4(m.p90[t]) : null,
        bound: j ? r4(j.median[t]) : null,
      });
  }
  const x = { field: 't', type: 'quantitative', title: 'step t (input position)', scale: { nice: false } };
  // Log scale that always shows the line at 1 (the data alone could leave it outside the domain).
  const y = {
    type: 'quantitative',
    scale: o.scale === 'log' ? { type: 'log', domain: { unionWith: [0.5, 2] } } : { type: 'linear', zero: true },
    axis: { format: o.scale === 'log' ? '.2~g' : magnitudeFormat(o.scale) },
  };
  const tooltip = [
    { field: 't', title: 'step' },
    { field: 'p50', title: 'measured ratio, median over samples', format: '.4~g' },
    { field: 'p10', title: 'measured ratio, p10', format: '.4~g' },
    { field: 'p90', title: 'measured ratio, p90', format: '.4~g' },
    { field: 'bound', title: 'upper bound σ_max (median)', format: '.4~g' },
  ];
  const label = (field: string, text: string, color: string, dy: number) => ({
    data: { name: 'rows' },
    transform: [
      BY_LAYER,
      valid(field, o.scale),
      { joinaggregate: [{ op: 'max', field: 't', as: 'tmax' }] },
      { filter: 'datum.t === datum.tmax' },
    ],
    mark: { type: 'text', align: 'right', dx: -2, fontSize: 11, fontWeight: 'bold', color, text, dy, clip: false },
    encoding: { x, y: { type: 'quantitative', title: 'factor per step (below 1: shrinks)', field } },
  });
  // Layers only for series some layer has (old files have no measured ratio); the y scale (with its domain) is
  // declared once, on the first of them.
  const has = (f: string) => rows.some((row) => row[f] !== null && row[f] !== undefined);
  const yFirst = { ...y, title: 'factor per step (below 1: shrinks)' };
  const yRest = { type: 'quantitative', title: yFirst.title };
  const layers: unknown[] = [];
  if (has('p50'))
    layers.push(
      {
        data: { name: 'rows' },
        transform: [BY_LAYER, valid('p10', o.scale), valid('p90', o.scale)],
        params: zoom(o),
        mark: { type: 'area', opacity: 0.2, color: COLORS.h },
        encoding: { x, y: { ...yFirst, field: 'p10' }, y2: { field: 'p90' } },
      },
      {
        data: { name: 'rows' },
        transform: [BY_LAYER, valid('p50', o.scale)],
        mark: { type: 'line', strokeWidth: 1.8, color: COLORS.h },
        encoding: { x, y: { ...yRest, field: 'p50' } },
      },
      label('p50', 'measured (median)', COLORS.h, 12),
    );
  if (has('bound'))
    layers.push(
      {
        data: { name: 'rows' },
        transform: [BY_LAYER, valid('bound', o.scale)],
        ...(layers.length === 0 ? { params: zoom(o) } : {}),
        mark: { type: 'line', strokeWidth: 1.2, strokeDash: [5, 3], color: COLORS.muted },
        encoding: { x, y: { ...(layers.length === 0 ? yFirst : yRest), field: 'bound' } },
      },
      label('bound', 'upper bound σ_max', '#666666', -10),
    );
  layers.push({
    data: { name: 'one' },
    mark: { type: 'rule', color: COLORS.accent, strokeDash: [4, 3] },
    encoding: { y: { field: 'y', type: 'quantitative', title: yFirst.title } },
  });
  if (o.interactive)
    layers.push(hoverRule(x), {
      // Nearest-step hover target listing every series.
      data: { name: 'rows' },
      transform: [BY_LAYER],
      mark: { type: 'rule', strokeWidth: STEP_TARGET_WIDTH, opacity: 0 },
      encoding: { x, tooltip },
    });
  return vl({
    ...base(o, o.runs, { rows, one: [{ y: 1 }] }),
    title: {
      text: 'Per-step gradient ratio ‖∂ℓ/∂h_t−1‖ ÷ ‖∂ℓ/∂h_t‖',
      subtitle: { expr: 'labels[sel]' },
    },
    params: [...selectionParams(o, o.runs), ...(o.interactive ? [HOVER_PARAM] : [])],
    width: o.width,
    height: 220,
    layer: layers,
  });
}
