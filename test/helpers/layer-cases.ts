// What the layer finite-difference tests (layers-fd, layers-extra-fd) share: a layer spec's common
// fields, the engine's implementation of a basic layer, and the check against helpers/layer-fd.ts.

import { expect } from 'vitest';
import type { LayerSpec } from '../../src/model/types.js';
import { basicLayers } from '../../src/engine/layers/registry-basic.js';
import type { LayerImpl } from '../../src/engine/layer.js';
import { checkLayerGradients, type LayerCase } from './layer-fd.js';

/** Largest relative error of any analytic gradient against its finite difference. */
export const LAYER_TOL = 1e-6;

/** A layer spec's name and Keras class. */
export const base = (cls: string) => ({ name: `t_${cls.toLowerCase()}`, className: cls });

/** Checks every input and parameter gradient of the case (at least one checked) within LAYER_TOL. */
export function expectGrad<L extends LayerSpec>(c: LayerCase<L>): void {
  const rep = checkLayerGradients(c);
  expect(rep.checked).toBeGreaterThan(0);
  expect(rep.maxRelErr, JSON.stringify(rep.errors)).toBeLessThan(LAYER_TOL);
}

/** The engine's implementation of basic layer type `k`. */
export function impl<K extends keyof typeof basicLayers>(k: K): LayerImpl<Extract<LayerSpec, { type: K }>> {
  return basicLayers[k] as LayerImpl<Extract<LayerSpec, { type: K }>>;
}
