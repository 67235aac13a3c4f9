// Chart 1: ‖∂L/∂h_t‖ (and ‖∂L/∂c_t‖ for LSTM) against t, with the effective horizon.

import { COLORS, type ChartOptions, type Input, type VegaLiteSpec } from './common.js';
import { seriesChart } from './series.js';

export function dhChart(input: Input, opts: ChartOptions = {}): VegaLiteSpec {
  return seriesChart(input, opts, {
    title: 'Gradient reaching each step: ‖∂L/∂h_t‖',
    yTitle: 'gradient norm',
    horizon: true,
    quantities: [
      { label: '∂L/∂h_t', color: COLORS.h, pick: (r) => r.dh },
      { label: '∂L/∂c_t', color: COLORS.c, pick: (r) => r.dc },
    ],
  });
}
