// The timeline charts' registry entries (first on the page when the input has a timeline).

import type { ChartDef } from './index.js';
import { hasTimeline } from './timeline-common.js';
import { timelineBandsChart } from './timeline-bands.js';
import { timelineGatesChart } from './timeline-gates.js';
import { timelineHeatmapChart } from './timeline-heatmap.js';
import { timelineScalarsChart } from './timeline-scalars.js';
import { timelineUpdatesChart } from './timeline-updates.js';

const applies = (_runs: unknown, input?: Parameters<ChartDef['applies']>[1]): boolean => hasTimeline(input);

export const TIMELINE_CHARTS: ChartDef[] = [
  {
    id: 'timeline-heatmap',
    title: 'Gradient reach over training',
    scope: 'layer',
    scaleToggle: false,
    applies,
    build: timelineHeatmapChart,
    howToRead:
      "One row per checkpoint (training goes down), one column per step of the sequence. The colour is ‖∂L/∂h_t‖ relative to that checkpoint's own peak, on a log scale: bright is near the peak, dark is gradient that has died out. The white line is the horizon: the earliest step still within 1/100 of the peak. A line moving left means the gradient reaches further back as training goes on; moving right means the model is losing its long-range gradient.",
  },
  {
    id: 'timeline-scalars',
    title: 'Horizon, loss and gradient norm',
    scope: 'set',
    scaleToggle: false,
    applies,
    build: timelineScalarsChart,
    howToRead:
      'Per checkpoint, on the same fixed data: the horizon of each recurrent layer (in steps), the loss, and the norm of the whole gradient. A sudden rise of the gradient norm is where training became unstable; red dashes mark checkpoints whose weights hold NaN or Inf.',
  },
  {
    id: 'timeline-gates',
    title: 'Gates over training',
    scope: 'layer',
    scaleToggle: false,
    applies,
    build: timelineGatesChart,
    howToRead:
      "Per gate of the selected layer: its share of the layer's gradient (squared norm of its kernel, recurrent kernel and bias blocks), its mean activation over steps and samples, and the fraction of activations saturated (sigmoid below 0.05 or above 0.95, tanh beyond ±0.95). A gate drifting into saturation stops passing gradient.",
  },
  {
    id: 'timeline-updates',
    title: 'Update ratios',
    scope: 'layer',
    scaleToggle: false,
    applies,
    build: timelineUpdatesChart,
    howToRead:
      'How far each gate block of the weights moved between two checkpoints, relative to its size: ‖W_k − W_k−1‖ / ‖W_k−1‖. The interval between the checkpoints is in the subtitle. Blocks that barely move (far below the others) are not learning; ratios near or above 1 mean the weights are being rewritten, usually a too-high learning rate.',
  },
  {
    id: 'timeline-bands',
    title: 'Gradient distributions',
    scope: 'set',
    scaleToggle: false,
    applies,
    build: timelineBandsChart,
    howToRead:
      'For each weight tensor, how the sizes of its gradient elements are spread at each checkpoint: nested bands hold 98 %, 95 %, 68 % and 38 % of the elements (log10 |gradient|), the line is the median. Bands sliding down mean the tensor learns less and less; a widening band means a few elements get most of the gradient.',
  },
];
