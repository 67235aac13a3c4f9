// Keras-like model.summary() text. Parameter totals equal Keras's own count
// (shared layers counted once, BatchNormalization moving statistics
// non-trainable, CuDNNLSTM's 8U bias as stored). Nested models appear
// flattened, their layers named "outer/inner".

import type { GraphNode, ModelSpec, Shape, TensorId } from './types.js';
import { fmtShape } from './errors.js';
import { layerParamCount } from './build.js';
import { classLabel, outputLabels, writerLabel } from './summary-labels.js';

export function countParams(model: ModelSpec): { trainable: number; nonTrainable: number; total: number } {
  let trainable = 0,
    nonTrainable = 0;
  for (let i = 0; i < model.layers.length; i++) {
    const c = layerParamCount(model, i);
    trainable += c.trainable;
    nonTrainable += c.nonTrainable;
  }
  return { trainable, nonTrainable, total: trainable + nonTrainable };
}

/** 1234567 → "1,234,567" (Keras 3 prints thousands separators). */
function lossText(l: NonNullable<ModelSpec['meta']['loss']>[number]): string {
  const logits = l.fromLogits ? ' (from_logits)' : '';
  return l.name + logits + (l.labelSmoothing ? ` (label_smoothing=${l.labelSmoothing})` : '');
}

function n(x: number): string {
  return x.toLocaleString('en-US');
}

function shapes(list: Shape[]): string {
  return list.length === 1 ? fmtShape(list[0]!) : `[${list.map((s) => fmtShape(s)).join(', ')}]`;
}

function isChain(model: ModelSpec): boolean {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return false;
  const uses = new Map<TensorId, number>();
  const calls = new Map<number, number>();
  for (const node of model.nodes) {
    if (node.inputs.length > 1 || node.outputs.length > 1) return false;
    calls.set(node.layer, (calls.get(node.layer) ?? 0) + 1);
    for (const t of node.inputs) uses.set(t, (uses.get(t) ?? 0) + 1);
  }
  return [...uses.values()].every((u) => u === 1) && [...calls.values()].every((c) => c === 1);
}

/** Keras-like model.summary() text: layer (type), output shape, param #, connected to (functional); totals; format,
 * Keras version, loss. */
export function summary(model: ModelSpec): string {
  const functional = !isChain(model);
  // Who produced each tensor: "layer[node][tensor]" as Keras prints it.
  const producer = new Map<TensorId, string>();
  // Each layer's calls, in model.nodes order (one pass: models may have 10^5 layers).
  const callsOf: GraphNode[][] = model.layers.map(() => []);
  for (const node of model.nodes) {
    const k = callsOf[node.layer]!.length;
    callsOf[node.layer]!.push(node);
    node.outputs.forEach((t, j) => producer.set(t, `${model.layers[node.layer]!.name}[${k}][${j}]`));
  }
  const rows: string[][] = model.layers.map((layer, i) => {
    const calls = callsOf[i]!;
    const outs = calls.map((c) => shapes(c.outputs.map((t) => model.tensors[t]!.shape)));
    const out = outs.length === 0 ? '?' : outs.every((s) => s === outs[0]) ? outs[0]! : 'multiple';
    const c = layerParamCount(model, i);
    const row = [`${layer.name} (${classLabel(layer)})`, out, n(c.trainable + c.nonTrainable)];
    if (functional) row.push(calls.flatMap((cl) => cl.inputs.map((t) => producer.get(t) ?? '?')).join(', ') || '-');
    return row;
  });
  const header = functional
    ? ['Layer (type)', 'Output Shape', 'Param #', 'Connected to']
    : ['Layer (type)', 'Output Shape', 'Param #'];
  const widths = header.map((h, j) => rows.reduce((w, r) => Math.max(w, r[j]!.length), h.length) + 2);
  const line = (cells: string[]): string =>
    cells
      .map((c, j) => (j === cells.length - 1 ? c : c.padEnd(widths[j]!)))
      .join('')
      .trimEnd();
  const total = widths.reduce((a, b) => a + b, 0);
  const counts = countParams(model);
  const m = model.meta;
  const out = [
    `Model: "${model.name}"`,
    '_'.repeat(total),
    line(header),
    '='.repeat(total),
    ...rows.map(line),
    '='.repeat(total),
    `Total params: ${n(counts.total)}`,
    `Trainable params: ${n(counts.trainable)}`,
    `Non-trainable params: ${n(counts.nonTrainable)}`,
    '_'.repeat(total),
    `Format: ${m.format} (${writerLabel(m)})`,
    `Inputs: ${model.inputNames.map((nm, i) => `${nm} ${fmtShape(model.tensors[model.inputs[i]!]!.shape)}`).join(', ')}`,
    `Outputs: ${outputLabels(model)
      .map((nm, i) => `${nm} ${fmtShape(model.tensors[model.outputs[i]!]!.shape)}`)
      .join(', ')}`,
    `Loss: ${m.loss ? m.loss.map(lossText).join(', ') : '(not compiled)'}`,
  ];
  if (m.optimizer) out.push(`Optimizer: ${m.optimizer.className}`);
  for (const w of model.warnings) out.push(`Warning: ${w.message}${w.count > 1 ? ` (×${w.count})` : ''}`);
  return `${out.join('\n')}\n`;
}
