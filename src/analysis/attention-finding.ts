// The finding `attention-carries` (docs/analysis-schema.md#attention): the recurrence of a layer
// passes the gradient back only a few steps (its `vanishing` finding fired), but an attention layer
// reading its output still gives the farthest step a gradient of its own.

import type { Finding, RecurrentAnalysis } from './schema.js';
import type { Thresholds } from './diagnose.js';
import { say } from './remedies.js';

const r3 = (x: number): number => Number(x.toPrecision(3));

/** `layerFindings`: the findings already made for this layer (recurrentFindings). */
export function attentionFindings(ra: RecurrentAnalysis, layerFindings: Finding[], th: Thresholds): Finding[] {
  const split = ra.attention;
  const vanishing = layerFindings.find((f) => f.code === 'vanishing');
  if (!split || !vanishing) return [];
  const T = ra.steps;
  const far = ra.goBackwards ? T - 1 : 0;
  const peak = Math.max(0, ...ra.dh.norm.map((v) => v ?? 0));
  const viaAtt = split.viaAttention.norm[far] ?? 0;
  const viaRec = split.viaRecurrence.norm[far] ?? 0;
  if (!(peak > 0) || viaAtt < th.horizonRatio * peak) return [];
  const who = ra.direction ? `${ra.layer} (${ra.direction})` : ra.layer;
  const share = viaAtt / (viaAtt + viaRec);
  return [
    {
      code: 'attention-carries',
      severity: 'info',
      layer: ra.layer,
      direction: ra.direction,
      message:
        `In ${who} the recurrence passes the gradient back only about ${vanishing.evidence.effectiveHorizon} of ` +
        `${T} steps, but ${split.consumers.join(', ')} reads every step directly: the earliest step still gets ` +
        `${Math.round(share * 100)} % of its gradient through attention.`,
      evidence: {
        step: far,
        viaAttention: r3(viaAtt),
        viaRecurrence: r3(viaRec),
        attentionShare: r3(share),
        peakNorm: r3(peak),
        attentionLayers: split.consumers.join(', '),
      },
      evidenceText:
        `At input position ${far}, ‖∂L/∂h‖ through attention is ${say(viaAtt)} and through the recurrence ` +
        `${say(viaRec)}; the largest ‖∂L/∂h_t‖ of the layer is ${say(peak)}.`,
      remedy:
        'Early inputs still train through attention, so the vanishing recurrence limits only what the state ' +
        "carries from step to step; apply the vanishing finding's remedy if the task needs that state.",
      remedyId: 'attention-carries',
      chart: 'attention',
    },
  ];
}
