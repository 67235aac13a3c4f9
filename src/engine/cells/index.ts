// The registry of recurrent cells: every stage looks a cell up here by its kind (RecurrentSpec.kind)
// or by the Keras class that runs it. A new cell is one file of this folder exporting a CellDef
// (types.ts), added to CELLS; its oracle tests iterate this list.

import { ModelError } from '../../model/errors.js';
import { convLstm } from './conv-lstm.js';
import { gru } from './gru.js';
import { lstm } from './lstm.js';
import { peepholeLstm } from './peephole-lstm.js';
import { simpleRnn } from './simple-rnn.js';
import type { CellDef, LayerClass } from './types.js';

export type { CellDef } from './types.js';

export const CELLS: readonly CellDef[] = [simpleRnn, lstm, gru, peepholeLstm, convLstm];

const byKind = new Map(CELLS.map((c) => [c.kind, c]));

/** The definition of a cell kind; throws for a kind no cell registers (a ModelSpec built elsewhere). */
export function cellOf(kind: string): CellDef {
  const c = byKind.get(kind);
  if (!c)
    throw new ModelError(
      `No recurrent cell '${kind}' is registered; expected one of ${CELLS.map((x) => x.kind).join(', ')}.`,
    );
  return c;
}

/** The cell a Keras recurrent layer class runs (LSTM, CuDNNGRU, ...), or undefined. */
export function cellOfLayerClass(cls: string): { cell: CellDef; layerClass: LayerClass } | undefined {
  for (const cell of CELLS)
    if (Object.hasOwn(cell.layerClasses, cls)) return { cell, layerClass: cell.layerClasses[cls]! };
  return undefined;
}

/** The cell of a Keras cell class inside RNN(cell) (LSTMCell, ...), or undefined. */
export function cellOfCellClass(cls: string): CellDef | undefined {
  return CELLS.find((c) => c.cellClasses.includes(cls));
}

/** Keras classes of the registered cells, for messages: each cell's main layer class, all layer classes, all cell
 * classes, and the main classes of the dense cells (what Bidirectional may wrap, what replaces a custom RNN cell). */
export function cellClassNames(): { primary: string[]; layers: string[]; cells: string[]; dense: string[] } {
  return {
    primary: CELLS.flatMap((c) => Object.keys(c.layerClasses).slice(0, 1)),
    dense: CELLS.filter((c) => !c.convolutional).flatMap((c) => Object.keys(c.layerClasses).slice(0, 1)),
    layers: CELLS.flatMap((c) => Object.keys(c.layerClasses)),
    cells: CELLS.flatMap((c) => [...c.cellClasses]),
  };
}
