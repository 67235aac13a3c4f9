// The chart registry: id, title, how to read it, what the layer/scale controls
// do to it, and when it applies. Order is the order on the page.

import type { Analysis, ChartId, RecurrentAnalysis } from '../../analysis/schema.js';
import type { ChartOptions, Input, VegaLiteSpec } from './common.js';
import { attentionChart } from './attention.js';
import { batchesChart, batchesEmpty } from './batches.js';
import { compareChart } from './compare.js';
import { contributionsChart } from './contributions.js';
import { densityChart, densityEmpty } from './density.js';
import { dhChart } from './dh.js';
import { dxChart } from './dx.js';
import { gatesChart, gatesEmpty } from './gates.js';
import { heatmapChart } from './heatmap.js';
import { histogramsChart } from './histograms.js';
import { jacobianChart } from './jacobian.js';
import { paramNormsChart } from './param-norms.js';
import { TIMELINE_CHARTS } from './timeline-index.js';

export interface ChartDef {
  id: ChartId;
  title: string;
  /** Two or three plain sentences shown beside the chart. */
  howToRead: string;
  /** 'layer': follows the layer selector; 'run': follows the run selector; 'set': all runs at once. */
  scope: 'layer' | 'run' | 'set';
  /** Whether the log/linear toggle changes it. */
  scaleToggle: boolean;
  /** Drawn to a canvas on the page: thousands of cells, which as SVG nodes would slow the page down. */
  raster?: boolean;
  /** `input` is the whole analysis or set (the timeline charts need it; the others read the runs). */
  applies(runs: Analysis[], input?: Input): boolean;
  /**
   * Nothing to show for run `a` (r null: a chart of the whole run) or its recurrent layer `r`, though the data are
   * there (one batch, a SimpleRNN's "gates"): the reason in one line, else null. The one home of that rule: the page
   * (page-data.ts) and the exports (export-names.ts, charts/index.json's `skipped`) leave the chart out with it.
   */
  empty?(a: Analysis, r: RecurrentAnalysis | null, input: Input): string | null;
  build(input: Input, opts?: ChartOptions): VegaLiteSpec;
}

const anyRec = (runs: Analysis[]) => runs.some((a) => a.recurrent.length > 0);

export const CHARTS: ChartDef[] = [
  ...TIMELINE_CHARTS,
  {
    id: 'compare',
    title: 'Runs compared',
    scope: 'set',
    scaleToggle: true,
    howToRead:
      'Each line is one run: the gradient norm at each input position divided by its peak, the most recent step on the right as in every chart. A line that drops fast going left means the gradient dies out quickly, so the model cannot learn long dependencies; the bars below give the effective horizon of each run.',
    applies: (runs) => runs.length > 1 && anyRec(runs),
    build: compareChart,
  },
  {
    id: 'dh',
    title: 'Gradient through time',
    scope: 'layer',
    scaleToggle: true,
    howToRead:
      'How much gradient reaches the hidden state at each step. Going back from where the loss is (usually the last step), a steep fall on the log scale is a vanishing gradient; a rise is an exploding one. The shaded region is the effective horizon: the steps where the gradient stays within 1/100 of its peak. Band: 10–90% of samples.',
    applies: anyRec,
    build: dhChart,
  },
  {
    id: 'attention',
    title: 'Gradient through attention and through the recurrence',
    scope: 'layer',
    scaleToggle: true,
    howToRead:
      'How much of the gradient at each step arrives through the attention layer that reads it, and how much from the next step through the recurrence (median over samples, band 10–90 %). Where the recurrence line falls far below the attention line, early steps still learn, but only through attention.',
    applies: (runs) => runs.some((a) => a.recurrent.some((r) => r.attention !== undefined)),
    build: attentionChart,
  },
  {
    id: 'jacobian',
    title: 'Step Jacobian',
    scope: 'layer',
    scaleToggle: true,
    howToRead:
      'The line is measured: by how much the gradient shrinks (below the dashed line at 1) or grows (above it) as it passes back one step, per sample (median, band 10–90 %). The grey dashed line is σ_max of the step Jacobian, an upper bound on that factor: a bound above 1 does not mean the gradient grows.',
    applies: (runs) => runs.some((a) => a.recurrent.some((r) => r.jacobian !== null)),
    build: jacobianChart,
  },
  {
    id: 'contributions',
    title: 'Gradient by step, gate and weight',
    scope: 'layer',
    scaleToggle: true,
    howToRead:
      'Each panel is one gate (row) and one weight group (column): how much step t adds to that block of the weight gradient. The steps where a panel is high are the steps that weight learns from; the panels add up over t to the whole gradient.',
    applies: (runs) => runs.some((a) => a.recurrent.some((r) => r.contributions.length > 0)),
    build: contributionsChart,
  },
  {
    id: 'heatmap',
    title: 'Gradient per step and unit',
    scope: 'layer',
    scaleToggle: true,
    raster: true,
    howToRead:
      'Each cell is the mean |∂L/∂h| of one unit at one step (darker = larger). Horizontal blank or pale stripes are units that receive no gradient (dead units); a dark band only at the right is a short memory. The connectivity map, when computed, shows for each output step τ how much each earlier input step t affects it.',
    applies: anyRec,
    build: heatmapChart,
  },
  {
    id: 'gates',
    title: 'Gate activations',
    scope: 'layer',
    scaleToggle: false,
    howToRead:
      'Mean activation of each gate per step, and the fraction of units saturated (sigmoid below 0.05 or above 0.95, tanh beyond ±0.95). A saturated gate passes almost no gradient to its inputs. An LSTM forget gate near 1 keeps memory; near 0 it forgets at every step.',
    applies: (runs) => runs.some((a) => a.recurrent.some((r) => r.gateStats.length > 0)),
    empty: gatesEmpty,
    build: gatesChart,
  },
  {
    id: 'dx',
    title: 'Input sensitivity',
    scope: 'layer',
    scaleToggle: true,
    howToRead:
      'How strongly the loss depends on the layer input at each step. Steps far below the peak hardly influence the result: the model effectively ignores them.',
    applies: anyRec,
    build: dxChart,
  },
  {
    id: 'density',
    title: 'Weights against gradients',
    scope: 'layer',
    scaleToggle: false,
    raster: true,
    howToRead:
      'Each panel bins every weight of one gate block by its value (x) and the log10 of its gradient (y); colour counts weights. A cloud low on the y axis means that block barely learns; a tail to the right or left means large weights that may saturate the gate.',
    applies: (runs) => runs.some((a) => a.recurrent.some((r) => r.density.length > 0)),
    empty: densityEmpty,
    build: densityChart,
  },
  {
    id: 'param-norms',
    title: 'Gradient size per tensor',
    scope: 'run',
    scaleToggle: true,
    howToRead:
      'One row per weight tensor, in model order: the dot is the mean |gradient|, the tick the largest, the bar the middle 80% of elements. Rows many orders of magnitude apart learn at very different speeds under plain SGD; a row far to the left hardly learns at all.',
    applies: (runs) => runs.some((a) => a.params.length > 0),
    build: paramNormsChart,
  },
  {
    id: 'histograms',
    title: 'Gradient histograms',
    scope: 'run',
    scaleToggle: false,
    howToRead:
      'The distribution of log10 |gradient| over the elements of each tensor, on the same bins for every row. Mass far to the left (below about −8) is gradient too small to matter in float32.',
    applies: (runs) => runs.some((a) => a.params.length > 0),
    build: histogramsChart,
  },
  {
    id: 'batches',
    title: 'Batch gradient norms and clipping',
    scope: 'run',
    scaleToggle: true,
    howToRead:
      'Each dot is one batch; the curve climbs to 100% across the measured global gradient norms. Dashed lines are clipping thresholds: the label says what fraction of batches each would clip. A long flat tail to the right means rare, much larger batches: the case clipping is for.',
    applies: (runs) => runs.some((a) => a.batches.norms.length > 0),
    empty: batchesEmpty,
    build: batchesChart,
  },
];

export function chartDef(id: ChartId): ChartDef | undefined {
  return CHARTS.find((c) => c.id === id);
}

export type { ChartOptions, Input, VegaLiteSpec } from './common.js';
