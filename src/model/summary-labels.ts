// Labels the summary prints that need more than the stored strings: a layer's
// class with its provenance (keras_contrib's CRF), the writer of the file (TF.js
// layers writes "tfjs-layers x.y.z" as its Keras version and "tensor_flow.js" as
// its backend), and output names that repeat (a decoder returning its sequence and
// states: every output of one layer carries the layer's name).

import type { LayerSpec, ModelMeta, ModelSpec } from './types.js';

/** "CRF, keras_contrib" for the third-party CRF; the class name otherwise. */
export function classLabel(layer: LayerSpec): string {
  return layer.type === 'CRF' ? `${layer.className}, keras_contrib` : layer.className;
}

/** "Keras 2.13.1, backend tensorflow", or "TF.js layers 4.22.0" for a file tfjs-layers wrote itself. */
export function writerLabel(m: ModelMeta): string {
  const tfjs = /^tfjs-layers\s+(.*)$/.exec(m.kerasVersion.trim());
  if (tfjs) return `TF.js layers ${tfjs[1]}`;
  return `Keras ${m.kerasVersion}${m.backend ? `, backend ${m.backend}` : ''}`;
}

/** Output names, with "[k]" (the output's index among its layer's outputs) added where a name repeats. */
export function outputLabels(model: ModelSpec): string[] {
  const count = new Map<string, number>();
  for (const nm of model.outputNames) count.set(nm, (count.get(nm) ?? 0) + 1);
  return model.outputNames.map((nm, i) => {
    if (count.get(nm)! < 2) return nm;
    const t = model.outputs[i]!;
    const node = model.nodes.find((n) => n.outputs.includes(t));
    return node ? `${nm}[${node.outputs.indexOf(t)}]` : nm;
  });
}
