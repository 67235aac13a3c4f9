// What Keras writes: the snake_case JSON of a model config, as found in a `.keras`
// config.json, a legacy `.h5` `model_config` attribute, a `to_json()` file or a
// TF.js `modelTopology` (docs/formats.md, 'Model configs' and 'TensorFlow.js model.json').
//
// These types describe the file, not the model: every field is optional or
// `unknown` because files from five writers (Keras 1, Keras 2, tf.keras,
// Keras 3, tfjs-layers) disagree. build.ts turns them into the explicit
// ModelSpec of types.ts.

/** A serialized object: `{module?, class_name, config, registered_name?, build_config?, ...}` (docs/formats.md,
 * 'Serialized objects'). */
export interface KerasObject {
  module?: string | null;
  class_name: string;
  config?: unknown;
  registered_name?: string | null;
  build_config?: { input_shape?: unknown; shapes_dict?: unknown } | null;
  compile_config?: unknown;
  shared_object_id?: number;
}

/** A layer entry of a Sequential or Functional `layers` list. Functional entries also carry `name` and `inbound_nodes`.
 * */
export interface KerasLayerEntry extends KerasObject {
  config: KerasLayerConfig;
  name?: string;
  inbound_nodes?: KerasInboundNode[];
}

/** Keras 1/2/tf.keras/tfjs node: a list of `[layer_name, node_index, tensor_index, kwargs?]` (Keras 1: no kwargs). */
export type KerasLegacyNode = [string, number, number, Record<string, unknown>?][];

/** Keras 3 node: `{args: [...], kwargs: {...}}` with tensors as `__keras_tensor__` objects (docs/formats.md,
 * 'Sequential and Functional'). */
export interface KerasV3Node {
  args: unknown[];
  kwargs?: Record<string, unknown>;
}

export type KerasInboundNode = KerasLegacyNode | KerasV3Node;

/** `{"class_name": "__keras_tensor__", "config": {"shape", "dtype", "keras_history": [layer, node, tensor]}}` */
export interface KerasTensorRef {
  class_name: '__keras_tensor__';
  config: { shape?: (number | null)[]; dtype?: string; keras_history: [string, number, number] };
}

/** Common layer config keys (Layer.get_config: name, trainable, dtype; input shape hints). */
export interface KerasLayerConfig {
  name?: string;
  trainable?: boolean;
  /** "float32", or a DTypePolicy `{class_name: "DTypePolicy", config: {name}}` (Keras ≥ 3.4), or tf.keras `{class_name:
   * "Policy", ...}` (docs/formats.md, 'Serialized objects'). */
  dtype?: string | KerasObject | null;
  batch_input_shape?: (number | null)[];
  batch_shape?: (number | null)[];
  input_shape?: (number | null)[];
  /** Keras 1 */
  input_dim?: number;
  input_length?: number | null;
  input_dtype?: string;
  [key: string]: unknown;
}

/** Sequential config: Keras 1 / Keras ≤ 2.2.2 a bare list of layers, later a dict (docs/formats.md,
 * 'Sequential and Functional'). */
export type KerasSequentialConfig =
  | KerasLayerEntry[]
  | { name?: string; layers: KerasLayerEntry[]; build_input_shape?: unknown; trainable?: boolean };

/** `[layer_name, node_index, tensor_index]` */
export type KerasTensorTriple = [string, number, number];

/** Functional / Model config (docs/formats.md, 'Sequential and Functional'). input_layers / output_layers: one
 * triple, a list of triples, or a dict of them (Keras 3). */
export interface KerasFunctionalConfig {
  name?: string;
  trainable?: boolean;
  layers: KerasLayerEntry[];
  input_layers: KerasTensorTriple | KerasTensorTriple[] | Record<string, KerasTensorTriple>;
  output_layers: KerasTensorTriple | KerasTensorTriple[] | Record<string, KerasTensorTriple>;
}

/** RNN layer config keys across versions (docs/formats.md, 'Recurrent layer configs'). */
export interface KerasRecurrentConfig extends KerasLayerConfig {
  units?: number;
  /** Keras 1 name of units */
  output_dim?: number;
  activation?: unknown;
  recurrent_activation?: unknown;
  /** Keras 1 name of recurrent_activation */
  inner_activation?: unknown;
  use_bias?: boolean;
  return_sequences?: boolean;
  return_state?: boolean;
  go_backwards?: boolean;
  stateful?: boolean;
  unroll?: boolean;
  time_major?: boolean;
  reset_after?: boolean;
  zero_output_for_mask?: boolean;
  implementation?: number;
  /** Keras 1: 'cpu' | 'mem' | 'gpu' */
  consume_less?: string;
  dropout?: number;
  recurrent_dropout?: number;
  dropout_W?: number;
  dropout_U?: number;
  cell?: unknown;
  num_constants?: number;
}

/** The `training_config` attribute (.h5) / `compile_config` (.keras) / tfjs `trainingConfig` (docs/losses.md,
 * 'How the loss is stored'). */
export interface KerasTrainingConfig {
  loss?: unknown;
  loss_weights?: unknown;
  metrics?: unknown;
  optimizer_config?: { class_name: string; config?: Record<string, unknown> };
  /** Keras 3 compile_config: the optimizer as a serialized object */
  optimizer?: unknown;
  [key: string]: unknown;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isKerasTensorRef(v: unknown): v is KerasTensorRef {
  return (
    isRecord(v) &&
    v['class_name'] === '__keras_tensor__' &&
    isRecord(v['config']) &&
    Array.isArray(v['config']['keras_history'])
  );
}

/** A `[name, node, tensor]` or `[name, node, tensor, kwargs]` reference. */
export function isTensorTriple(v: unknown): v is [string, number, number, unknown?] {
  return (
    Array.isArray(v) &&
    v.length >= 3 &&
    v.length <= 4 &&
    typeof v[0] === 'string' &&
    typeof v[1] === 'number' &&
    typeof v[2] === 'number'
  );
}

/** table[key] only for the table's own keys: config strings such as "constructor" must not reach Object.prototype. */
export function ownValue<V>(table: Record<string, V>, key: string): V | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
