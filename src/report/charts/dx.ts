// Chart 8: input sensitivity ‖∂L/∂x_t‖ per step.

import { COLORS, type ChartOptions, type Input, type VegaLiteSpec } from './common.js';
import { seriesChart } from './series.js';

export function dxChart(input: Input, opts: ChartOptions = {}): VegaLiteSpec {
  return seriesChart(input, opts, {
    title: 'Input sensitivity: ‖∂L/∂x_t‖',
    yTitle: 'gradient norm',
    horizon: false,
    quantities: [{ label: '∂L/∂x_t', color: COLORS.x, pick: (r) => r.dx }],
  });
}
