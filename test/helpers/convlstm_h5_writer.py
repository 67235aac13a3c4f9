#!/usr/bin/python3
"""Writes a small ConvLSTM video classifier as a legacy Keras HDF5 file, in the layout real files have.

    /usr/bin/python3 test/helpers/convlstm_h5_writer.py keras2|keras3 OUT_DIR

The model is the common action-recognition stack (ConvLSTM2D → MaxPooling3D → TimeDistributed(Dropout)
→ ConvLSTM2D → MaxPooling3D → Flatten → Dense softmax, categorical_crossentropy), smaller. The file
layout follows what tf.keras 2.10 and Keras 3.8 write for it (measured on public files, see
docs/conv-lstm.md, 'Real files'):
  keras2  keras_version 2.10.0, batch_input_shape, recurrent_activation hard_sigmoid (slope 0.2),
          weights model_weights/<layer>/<layer>/kernel:0 listed by the weight_names attribute;
  keras3  keras_version 3.8.0, batch_shape and DTypePolicy, recurrent_activation sigmoid,
          weights model_weights/<layer>/sequential/<layer>/conv_lstm_cell/kernel.
Weights are seeded random; x.npy (4, 5, 12, 10, 3) and one-hot y.npy (4, 4) are written beside. keras3 also
writes the same model and weights as a Keras 3 .keras zip (model.keras).
"""
import json
import os
import sys
import zipfile

import h5py
import numpy as np


def main():
    dialect, out = sys.argv[1], sys.argv[2]
    k3 = dialect == 'keras3'
    rng = np.random.default_rng(7 if k3 else 5)
    dtype = ({'module': 'keras', 'class_name': 'DTypePolicy', 'config': {'name': 'float32'}, 'registered_name': None}
             if k3 else 'float32')
    shape = [None, 5, 12, 10, 3]
    layers = [{'class_name': 'InputLayer', 'config': {('batch_shape' if k3 else 'batch_input_shape'): shape,
                                                      'dtype': 'float32', 'sparse': False, 'ragged': False,
                                                      'name': 'input_layer' if k3 else 'conv_lstm2d_input'}}]
    weights = {}

    def conv_lstm(name, cin, filters):
        layers.append({'class_name': 'ConvLSTM2D', 'config': {
            'name': name, 'trainable': True, 'dtype': dtype, 'return_sequences': True, 'return_state': False,
            'go_backwards': False, 'stateful': False, 'unroll': False, 'filters': filters, 'kernel_size': [3, 3],
            'strides': [1, 1], 'padding': 'valid', 'data_format': 'channels_last', 'dilation_rate': [1, 1],
            'activation': 'tanh', 'recurrent_activation': 'sigmoid' if k3 else 'hard_sigmoid', 'use_bias': True,
            'unit_forget_bias': True, 'dropout': 0.0, 'recurrent_dropout': 0.2}})
        weights[name] = [('kernel', rng.uniform(-0.4, 0.4, (3, 3, cin, 4 * filters))),
                         ('recurrent_kernel', rng.uniform(-0.4, 0.4, (3, 3, filters, 4 * filters))),
                         ('bias', rng.uniform(-0.3, 0.3, (4 * filters,)))]

    def plain(cls, name, cfg):
        layers.append({'class_name': cls, 'config': {'name': name, 'trainable': True, 'dtype': dtype, **cfg}})
        weights[name] = []

    pool = {'pool_size': [1, 2, 2], 'padding': 'same', 'strides': [1, 2, 2], 'data_format': 'channels_last'}
    conv_lstm('conv_lstm2d', 3, 4)
    plain('MaxPooling3D', 'max_pooling3d', pool)
    plain('TimeDistributed', 'time_distributed', {'layer': {'class_name': 'Dropout', 'config': {
        'name': 'dropout', 'trainable': True, 'dtype': dtype, 'rate': 0.2, 'noise_shape': None, 'seed': None}}})
    conv_lstm('conv_lstm2d_1', 4, 3)
    plain('MaxPooling3D', 'max_pooling3d_1', pool)
    plain('Flatten', 'flatten', {'data_format': 'channels_last'})
    # (5, 12, 10) → conv 3×3 valid (5, 10, 8) → pool (5, 5, 4) → conv (5, 3, 2) → pool (5, 2, 1) × 3 filters.
    layers.append({'class_name': 'Dense', 'config': {'name': 'dense', 'trainable': True, 'dtype': dtype, 'units': 4,
                                                     'activation': 'softmax', 'use_bias': True}})
    weights['dense'] = [('kernel', rng.uniform(-0.5, 0.5, (30, 4))), ('bias', rng.uniform(-0.2, 0.2, (4,)))]

    os.makedirs(out, exist_ok=True)
    with h5py.File(os.path.join(out, 'model.h5'), 'w') as f:
        f.attrs['backend'] = 'tensorflow'
        f.attrs['keras_version'] = '3.8.0' if k3 else '2.10.0'
        f.attrs['model_config'] = json.dumps({'class_name': 'Sequential',
                                              'config': {'name': 'sequential', 'layers': layers}})
        f.attrs['training_config'] = json.dumps({'loss': 'categorical_crossentropy', 'metrics': ['accuracy'],
                                                 'optimizer_config': {'class_name': 'Adam', 'config': {}}})
        g = f.create_group('model_weights')
        g.attrs['backend'] = 'tensorflow'
        g.attrs['keras_version'] = f.attrs['keras_version']
        g.attrs['layer_names'] = np.array([l['config']['name'] for l in layers[1:]], dtype=h5py.string_dtype())
        for name, ws in weights.items():
            lg = g.create_group(name)
            cell = '/conv_lstm_cell' if name.startswith('conv_lstm') else ''
            names = [f'sequential/{name}{cell}/{w}' if k3 else f'{name}/{w}:0' for w, _ in ws]
            lg.attrs['weight_names'] = np.array(names, dtype=h5py.string_dtype())
            for n, (_, a) in zip(names, ws):
                lg.create_dataset(n, data=a.astype(np.float32))
    if k3:
        write_keras_zip(out, layers, weights, dtype)
    x = rng.random((4, 5, 12, 10, 3)).astype(np.float32)
    np.save(os.path.join(out, 'x.npy'), x)
    np.save(os.path.join(out, 'y.npy'), np.eye(4, dtype=np.float32)[[0, 1, 2, 3]])


def write_keras_zip(out, layers, weights, dtype):
    """The same model as a Keras 3 .keras zip: config.json with module / registered_name envelopes, and
    model.weights.h5 with each layer's variables under layers/<to_snake_case(class)>[/cell]/vars/<i>."""
    def env(layer):
        cfg = dict(layer['config'])
        if 'layer' in cfg:
            cfg['layer'] = env(cfg['layer'])
        return {'module': 'keras.layers', 'class_name': layer['class_name'], 'config': cfg, 'registered_name': None}

    snake = {'ConvLSTM2D': 'conv_lstm2d', 'MaxPooling3D': 'max_pooling3d', 'TimeDistributed': 'time_distributed',
             'Flatten': 'flatten', 'Dense': 'dense'}
    config = {'module': 'keras', 'class_name': 'Sequential', 'registered_name': None,
              'config': {'name': 'sequential', 'trainable': True, 'dtype': dtype, 'layers': [env(l) for l in layers]}}
    buf = os.path.join(out, 'model.weights.h5')
    seen = {}
    with h5py.File(buf, 'w') as f:
        for layer in layers[1:]:
            cls, name = layer['class_name'], layer['config']['name']
            n = seen.get(cls, 0)
            seen[cls] = n + 1
            path = f'layers/{snake[cls]}' + (f'_{n}' if n else '')
            path += '/cell' if cls == 'ConvLSTM2D' else ''
            g = f.create_group(f'{path}/vars')
            for i, (_, a) in enumerate(weights[name]):
                g.create_dataset(str(i), data=a.astype(np.float32))
    with zipfile.ZipFile(os.path.join(out, 'model.keras'), 'w', zipfile.ZIP_STORED) as z:
        z.writestr('metadata.json', json.dumps({'keras_version': '3.8.0', 'date_saved': '2025-01-01@00:00:00'}))
        z.writestr('config.json', json.dumps({**config, 'compile_config': {'loss': 'categorical_crossentropy'}}))
        z.write(buf, 'model.weights.h5')
    os.remove(buf)


if __name__ == '__main__':
    main()
