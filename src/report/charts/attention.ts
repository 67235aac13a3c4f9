// ∂L/∂h_t split by path (RecurrentAnalysis.attention): what reaches each step through the attention
// layers that read h, through the recurrence, and through h's other readers (the total is chart 'dh';
// its line would sit on the attention line where the recurrence carries little, hiding both labels).

import { COLORS, type ChartOptions, type Input, type VegaLiteSpec } from './common.js';
import { OKABE_ITO } from './palette.js';
import { seriesChart } from './series.js';

export function attentionChart(input: Input, opts: ChartOptions = {}): VegaLiteSpec {
  return seriesChart(input, opts, {
    title: 'Gradient reaching each step, by path',
    yTitle: 'gradient norm',
    horizon: false,
    quantities: [
      { label: 'through attention', color: OKABE_ITO[1]!, pick: (r) => r.attention?.viaAttention ?? null },
      { label: 'through the recurrence', color: COLORS.h, pick: (r) => r.attention?.viaRecurrence ?? null },
      {
        label: 'through other layers',
        color: OKABE_ITO[2]!,
        // Drawn only when h has readers besides attention.
        pick: (r) => (r.attention?.viaOther.norm.some((v) => v !== null && v > 0) ? r.attention.viaOther : null),
      },
    ],
  });
}
