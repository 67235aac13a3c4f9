// Keras 3 functional configs written by hand for tests (the layout `model.get_config()` gives, with
// the call arguments of each node in inbound_nodes as args/kwargs).

export const kt = (layer: string, tensor = 0) => ({
  class_name: '__keras_tensor__',
  config: { shape: null, dtype: 'float32', keras_history: [layer, 0, tensor] },
});

export const input = (name: string, shape: number[]) => ({
  class_name: 'InputLayer',
  name,
  config: { name, batch_shape: [null, ...shape], dtype: 'float32' },
  inbound_nodes: [],
});

/** A layer called once with `args` (a list of tensors is one list argument: [[a, b]]) and `kwargs`. */
export const layer = (cls: string, name: string, config: object, args: unknown[], kwargs: object = {}) => ({
  class_name: cls,
  name,
  config: { name, ...config },
  inbound_nodes: [{ args, kwargs }],
});

export const functional = (layers: unknown[], inputs: string[], outputs: string[]) => ({
  class_name: 'Functional',
  config: {
    name: 'm',
    layers,
    input_layers: inputs.map((x) => [x, 0, 0]),
    output_layers: outputs.map((x) => [x, 0, 0]),
  },
});
