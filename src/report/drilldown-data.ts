// What the page's per-sample drill-down needs from the analyses' `samples` (docs/analysis-schema.md#samples):
// per run, the worst, median and best sample with its matrices flattened row-major (step-major), per layer
// keyed as the layer selector is, with the layer's connectivity step lists; or a one-line reason when a
// run (or the whole file) holds no samples.

import type { Analysis, Num, SampleView } from '../analysis/schema.js';
import { layerKey, runLabel } from './charts/common.js';

export interface DrillLayer {
  /** The layer selector's key "<run>|<id>". */
  key: string;
  kind: string;
  /** Input positions shown and units shown (docs/analysis-schema.md#samples). */
  steps: number[];
  units: number[];
  /** h_t: steps × units, row-major. */
  h: Num[];
  /** Per gate: its activation function (from gateStats, null when unknown) and steps × units values. */
  gates: { gate: string; act: string | null; v: Num[] }[];
  /** This sample's connectivity, outputSteps × inputSteps row-major, with the layer's step lists; null: none. */
  conn: { out: number[]; in: number[]; v: Num[] } | null;
}

export interface DrillSample {
  role: SampleView['role'];
  index: number;
  loss: Num;
  steps: number[];
  /** Features shown of the model input (columns of x and dx). */
  features: number;
  /** x_t and ∂ℓ/∂x_t: steps × features, row-major; dx is [] for token ids. */
  x: Num[];
  dx: Num[];
  layers: DrillLayer[];
}

export interface DrillData {
  /** Per run index with samples. */
  runs: Record<string, DrillSample[]>;
  /** Per run index without samples: the line the page shows instead. */
  reasons: Record<string, string>;
}

const flat = (m: Num[][]): Num[] => m.flat();

function drillSample(a: Analysis, run: number, s: SampleView): DrillSample {
  return {
    role: s.role,
    index: s.index,
    loss: s.loss,
    steps: s.steps,
    features: s.x[0]?.length ?? 0,
    x: flat(s.x),
    dx: flat(s.dx),
    layers: s.layers.map((l) => {
      const r = a.recurrent.find((ra) => ra.id === l.id);
      const c = r?.connectivity;
      return {
        key: layerKey(run, l.id),
        kind: r?.kind ?? '',
        steps: l.steps,
        units: l.units,
        h: flat(l.h),
        gates: l.gates.map((g) => ({
          gate: g.gate,
          act: r?.gateStats.find((gs) => gs.gate === g.gate)?.activation ?? null,
          v: flat(g.values),
        })),
        conn: l.connectivity && c ? { out: c.outputSteps, in: c.inputSteps, v: flat(l.connectivity) } : null,
      };
    }),
  };
}

export function drillData(runs: Analysis[]): DrillData {
  const out: DrillData = { runs: {}, reasons: {} };
  const withSamples = runs.filter((a) => (a.samples?.length ?? 0) > 0);
  runs.forEach((a, run) => {
    if (a.samples && a.samples.length > 0) out.runs[run] = a.samples.map((s) => drillSample(a, run, s));
    else
      out.reasons[run] =
        withSamples.length === 0
          ? `No sample to show: ${runs.length > 1 ? 'these analyses were' : 'this analysis was'} written without per-sample data (older rnnscope); analyse again to see the worst, median and best sample.`
          : `No sample to show for this run: samples were recorded for ${withSamples.map(runLabel).join(', ')} only; choose ${withSamples.length > 1 ? 'one of them' : 'it'} in the Run selector.`;
  });
  return out;
}
