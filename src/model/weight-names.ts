// Weight names → model layers, by what the config declares.
//
// A stored weight name is a path of name scopes ending in the weight's own name, and every writer
// builds it from names the model config declares (docs/formats.md, "Weight names"):
//
//   [container/...] [wrapper/] owner [/cell] /weight[:0]
//
//   container  the model's name or an enclosing nested model's (Keras 3 variable paths built
//              inside the model's call: `sequential/bidirectional/forward_lstm/lstm_cell/kernel`)
//   wrapper    a Bidirectional's or TimeDistributed's own name (tf.keras, Keras 2, TF.js)
//   owner      the layer that creates the variable: the layer's name; for a Bidirectional half
//              the half's name as the writer formed it (`forward_<inner>` in Keras 1/2/tf.keras
//              and TF.js, the inner config name kept as is by Keras 3, `forward_forward_lstm`
//              when TF.js re-prefixes a Keras 3 config, `backward_<inner>` for a derived
//              backward half, or backward_layer's own name); for TimeDistributed the inner name
// cell the RNN cell's scope (the registered cell's `scope`): `lstm_cell`, `gru_cell`, `simple_rnn_cell`, optionally
//   with
//              a uid suffix (`lstm_cell_1`, TF 2.x), or Keras 3's attribute name `cell`
//   weight     kernel, recurrent_kernel, bias, embeddings, gamma, ...
//
// Every name is matched against every layer slot (a layer, or one half of a Bidirectional) whose
// scopes explain all its components; a name two slots explain equally is ambiguous. All problems
// (missing, ambiguous, unused, twice-given) are gathered into one error.

import { ModelError } from './errors.js';
import { checkUniqueLayerNames } from './bind.js';
import type { LayerSpec, ModelSpec, RecurrentKind } from './types.js';
import { cellOf } from '../engine/cells/index.js';

/** One named stored array. */
export interface NamedWeight {
  name: string;
  shape: number[];
}

/** Where one weight of a layer's saved layout must come from. */
interface Slot {
  layer: number;
  /** Name in the layer's saved layout (savedWeightLayout), e.g. "kernel" or "forward/bias". */
  want: string;
  /** The weight's own name (the layout name's last component). */
  leaf: string;
  owners: Set<string>;
  wrapper: string | null;
  cells: RegExp | null;
  containers: Set<string>;
  /** For messages: the scopes this slot accepts. */
  describe: string;
}

/** What the config declares about a Bidirectional (by its name): the inner layer names as written. */
export interface BidiNames {
  inner: string;
  backward: string | null;
}

/** Collect each Bidirectional's inner names (layer.config.name, backward_layer.config.name) from a model config. */
export function bidiNamesOf(config: unknown): Map<string, BidiNames[]> {
  const out = new Map<string, BidiNames[]>();
  const seen = new Set<unknown>();
  const visit = (v: unknown, depth: number): void => {
    if (v === null || typeof v !== 'object' || depth > 64 || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) {
      for (const x of v) visit(x, depth + 1);
      return;
    }
    const o = v as Record<string, unknown>;
    const cfg = o['config'] as Record<string, unknown> | undefined;
    if (o['class_name'] === 'Bidirectional' && cfg && typeof cfg === 'object') {
      const name = String(cfg['name'] ?? o['name'] ?? '');
      const inner = nameOf(cfg['layer']);
      if (inner !== null) out.set(name, [...(out.get(name) ?? []), { inner, backward: nameOf(cfg['backward_layer']) }]);
    }
    for (const k of Object.keys(o)) visit(o[k], depth + 1);
  };
  visit(config, 0);
  return out;
}

function nameOf(layer: unknown): string | null {
  if (layer === null || typeof layer !== 'object') return null;
  const c = (layer as Record<string, unknown>)['config'];
  const n = c && typeof c === 'object' ? (c as Record<string, unknown>)['name'] : undefined;
  return typeof n === 'string' ? n : null;
}

/**
 * Assign stored weights to the layers of `model` by name. `layouts[i]` is layer i's saved layout
 * (savedWeightLayout: the names and order the writer used). Returns, per layer with weights, the
 * stored names in layout order; throws one ModelError naming every problem.
 */
export function matchWeightNames(
  model: ModelSpec,
  layouts: { name: string }[][],
  stored: readonly NamedWeight[],
  bidi: Map<string, BidiNames[]>,
  file: string,
): Map<number, string[]> {
  checkUniqueLayerNames(model, file);
  const slots: Slot[] = [];
  model.layers.forEach((layer, i) => {
    for (const w of layouts[i] ?? []) slots.push(slotFor(model, layer, i, w.name, bidi));
  });
  const problems: string[] = [];
  const taken = new Map<Slot, string>();
  const unused: string[] = [];
  for (const w of stored) {
    const parts = w.name.replace(/:\d+$/, '').split('/');
    let best: Slot[] = [];
    let bestScore = -1;
    for (const s of slots) {
      const score = explains(s, parts);
      if (score < 0) continue;
      if (score > bestScore) {
        best = [s];
        bestScore = score;
      } else if (score === bestScore) best.push(s);
    }
    if (best.length === 0) {
      unused.push(w.name);
      continue;
    }
    if (best.length > 1) {
      problems.push(`${w.name} fits ${best.map((s) => keyOf(model, s)).join(' and ')} equally`);
      continue;
    }
    const s = best[0]!;
    const prev = taken.get(s);
    if (prev !== undefined) problems.push(`both ${prev} and ${w.name} name ${keyOf(model, s)}`);
    else taken.set(s, w.name);
  }
  const missing = slots.filter((s) => !taken.has(s));
  for (const s of missing)
    problems.push(
      `layer ${model.layers[s.layer]!.name} (${model.layers[s.layer]!.className}) has no weight for ${s.want} (expected a name like ${s.describe})`,
    );
  if (unused.length > 0) {
    problems.push(
      `${unused.length} weight(s) fit no layer of the config: ${unused.slice(0, 6).join(', ')}${unused.length > 6 ? ', …' : ''}`,
    );
  }
  if (problems.length > 0) {
    const why =
      'expected each weight named by its layer\'s scopes as the config declares them (docs/formats.md, "Weight names"); the weight names and the model topology come from different models, or a tool renamed the weights, so re-export model.json and its shards together from the original model';
    throw new ModelError(`${file} has weights that do not match its layers: ${problems.join('; ')}; ${why}.`, { file });
  }
  const out = new Map<number, string[]>();
  for (const s of slots) out.set(s.layer, [...(out.get(s.layer) ?? []), taken.get(s)!]);
  return out;
}

function slotFor(model: ModelSpec, layer: LayerSpec, i: number, want: string, bidi: Map<string, BidiNames[]>): Slot {
  const parts = layer.name.split('/');
  const own = parts[parts.length - 1]!;
  const containers = new Set<string>([model.name, ...parts.slice(0, -1)]);
  const leaf = want.split('/').pop()!;
  const base = { layer: i, want, leaf, containers };
  if (layer.type === 'Bidirectional') {
    const half = want.startsWith('backward/') ? 'backward' : 'forward';
    const declared = bidi.get(own) ?? [];
    const owners = new Set<string>();
    if (half === 'forward') {
      owners.add(layer.forwardName);
      // The inner config name is the half's own name when the writer already prefixed it (Keras 3).
      for (const d of declared) {
        if (d.inner.startsWith('forward_')) owners.add(d.inner);
        owners.add(`forward_${d.inner}`);
      }
    } else {
      owners.add(layer.backwardName);
      for (const d of declared) {
        owners.add(`backward_${d.inner}`);
        if (d.backward !== null) {
          owners.add(d.backward);
          owners.add(`backward_${d.backward}`);
        }
      }
    }
    // A name both halves could own identifies neither.
    const other =
      half === 'forward'
        ? [layer.backwardName, ...declared.flatMap((d) => [d.backward ?? '', `backward_${d.inner}`])]
        : [layer.forwardName, ...declared.flatMap((d) => [d.inner, `forward_${d.inner}`])];
    for (const o of other) owners.delete(o);
    const kind = (half === 'forward' ? layer.forward : layer.backward).kind;
    return { ...base, owners, wrapper: own, cells: cellPattern(kind), describe: describe(own, owners, kind, leaf) };
  }
  if (layer.type === 'TimeDistributed') {
    const owners = new Set([own, layer.inner.name.split('/').pop()!]);
    return { ...base, owners, wrapper: own, cells: null, describe: describe(own, owners, null, leaf) };
  }
  const kind = layer.type === 'Recurrent' ? layer.rnn.kind : null;
  return {
    ...base,
    owners: new Set([own]),
    wrapper: null,
    cells: kind ? cellPattern(kind) : null,
    describe: describe(null, new Set([own]), kind, leaf),
  };
}

function cellPattern(kind: RecurrentKind): RegExp {
  return new RegExp(`^(?:${cellOf(kind).scope}(?:_\\d+)?|cell)$`);
}

/**
 * How well slot `s` explains the name's components (container/.../[wrapper/]owner[/cell]/leaf):
 * -1 when it does not; otherwise a score where an explicit wrapper beats none.
 */
function explains(s: Slot, parts: string[]): number {
  const n = parts.length;
  if (n < 2 || parts[n - 1] !== s.leaf) return -1;
  let k = n - 2;
  if (s.cells && k > 0 && s.cells.test(parts[k]!) && s.owners.has(parts[k - 1]!)) k--;
  if (!s.owners.has(parts[k]!)) return -1;
  let score = 1;
  k--;
  if (k >= 0 && s.wrapper !== null && parts[k] === s.wrapper) {
    score = 2;
    k--;
  }
  for (; k >= 0; k--) if (!s.containers.has(parts[k]!)) return -1;
  return score;
}

function describe(wrapper: string | null, owners: Set<string>, kind: RecurrentKind | null, leaf: string): string {
  const owner = [...owners].join('|');
  const cell = kind ? `[/${cellOf(kind).scope}]` : '';
  return `${wrapper ? `[${wrapper}/]` : ''}${owners.size > 1 ? `(${owner})` : owner}${cell}/${leaf}`;
}

function keyOf(model: ModelSpec, s: Slot): string {
  return `${model.layers[s.layer]!.name}/${s.want}`;
}
