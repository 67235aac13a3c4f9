// The model block of the analysis JSON.
import type { ModelSpec } from '../model/types.js';
import type { ModelInfo } from './schema.js';

export function modelInfo(model: ModelSpec): ModelInfo {
  const layers = model.layers.map((l, li) => {
    const outs = model.nodes.filter((n) => n.layer === li)[0]?.outputs ?? [];
    const ps = model.params[li]!;
    const count = (p: { shape: number[] }): number => p.shape.reduce((a, b) => a * b, 1);
    return {
      name: l.name,
      className: l.className,
      outputShapes: outs.map((id) => [...model.tensors[id]!.shape]),
      params: ps.reduce((a, p) => a + count(p), 0),
      trainableParams: ps.filter((p) => p.trainable).reduce((a, p) => a + count(p), 0),
    };
  });
  return {
    name: model.name,
    format: model.meta.format,
    kerasVersion: model.meta.kerasVersion,
    backend: model.meta.backend,
    source: model.meta.source.split(/[\\/]/).pop() ?? model.meta.source,
    inputs: model.inputs.map((id, i) => ({
      name: model.inputNames[i]!,
      shape: [...model.tensors[id]!.shape],
      dtype: model.tensors[id]!.dtype,
    })),
    outputs: model.outputs.map((id, i) => ({ name: model.outputNames[i]!, shape: [...model.tensors[id]!.shape] })),
    layers,
    totalParams: layers.reduce((a, l) => a + l.params, 0),
    trainableParams: layers.reduce((a, l) => a + l.trainableParams, 0),
    warnings: model.warnings.map((w) => ({ ...w })),
  };
}
