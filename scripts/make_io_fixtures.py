#!/usr/bin/python3
"""Build the synthetic model files for test/io-*.test.ts and the oracle values they are checked against.

Run:  /usr/bin/python3 scripts/make_io_fixtures.py      (Debian's python3 with numpy + h5py; no Keras needed)
Writes test/fixtures/io/ (small .h5/.keras/model.json files, each a few KB) and
test/fixtures/io/expected.json: for every synthetic fixture AND every corpus model, the expected
parameters in Keras canonical layout (kernel (I, nU) with gates i,f,c,o / z,r,h), computed here
with h5py + numpy independently of the TypeScript loaders:
  - Keras 1 per-gate arrays are concatenated in canonical gate order (tf-keras hdf5_format.py
    preprocess_weights_for_loading: LSTM saved i,c,f,o -> kernel = [W_i, W_f, W_c, W_o]);
  - CuDNNLSTM weights (bias 8U) are converted as tf-keras _convert_rnn_weights does: input kernel
    gate blocks k.T.reshape(k.shape, order='F'), recurrent gate blocks k.T, bias = sum of halves;
  - tfjs quantized weights are dequantized as tfjs-core io_utils.ts: float32(q * scale + min).
The file layouts follow docs/formats.md (sections cited beside each builder).
Deterministic: fixed seeds, fixed timestamps.
"""
import io
import json
import os
import zipfile

import h5py
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'io')
CORPUS = os.path.join(ROOT, 'test', 'fixtures', 'corpus')
rng = np.random.default_rng(20240611)
EXPECTED = {}


def rand(*shape):
    return rng.uniform(-0.5, 0.5, size=shape).astype(np.float32)


def summary(arr):
    """Oracle for one parameter: shape, float64 sums and a few exact values."""
    a = np.asarray(arr, dtype=np.float32)
    flat = a.reshape(-1).astype(np.float64)
    n = flat.size
    idx = sorted(set([0, 1, n // 3, n // 2, n - 1])) if n else []
    return {'shape': list(a.shape), 'sum': float(flat.sum()), 'abssum': float(np.abs(flat).sum()),
            'samples': [[int(i), float(flat[i])] for i in idx if i < n]}


def record(name, params, extra=None):
    e = {'params': {k: summary(v) for k, v in params.items()},
         'paramCount': int(sum(np.asarray(v).size for v in params.values()))}
    if extra:
        e.update(extra)
    EXPECTED[name] = e


def bstr(lst):
    """A fixed-length byte-string array, as Keras writes layer_names / weight_names."""
    return np.array([s.encode('utf8') for s in lst])


def dense_cfg2(name, units, activation='linear', **kw):
    c = {'name': name, 'trainable': True, 'units': units, 'activation': activation, 'use_bias': True,
         'kernel_initializer': {'class_name': 'VarianceScaling', 'config': {'scale': 1.0, 'mode': 'fan_avg', 'distribution': 'uniform', 'seed': None}},
         'bias_initializer': {'class_name': 'Zeros', 'config': {}}, 'kernel_regularizer': None, 'bias_regularizer': None,
         'activity_regularizer': None, 'kernel_constraint': None, 'bias_constraint': None}
    c.update(kw)
    return {'class_name': 'Dense', 'config': c}


def rnn_cfg2(cls, name, units, **kw):
    c = {'name': name, 'trainable': True, 'return_sequences': False, 'return_state': False, 'go_backwards': False,
         'stateful': False, 'unroll': False, 'units': units, 'activation': 'tanh', 'use_bias': True,
         'kernel_initializer': {'class_name': 'VarianceScaling', 'config': {'scale': 1.0, 'mode': 'fan_avg', 'distribution': 'uniform', 'seed': None}},
         'recurrent_initializer': {'class_name': 'Orthogonal', 'config': {'gain': 1.0, 'seed': None}},
         'bias_initializer': {'class_name': 'Zeros', 'config': {}}, 'kernel_regularizer': None, 'recurrent_regularizer': None,
         'bias_regularizer': None, 'activity_regularizer': None, 'kernel_constraint': None, 'recurrent_constraint': None,
         'bias_constraint': None, 'dropout': 0.0, 'recurrent_dropout': 0.0}
    if cls in ('LSTM', 'GRU'):
        c['recurrent_activation'] = 'hard_sigmoid'
        c['implementation'] = 1
    if cls == 'LSTM':
        c['unit_forget_bias'] = True
    c.update(kw)
    return {'class_name': cls, 'config': c}


# ---------------------------------------------------------------- Keras 1 GRU, per-gate arrays ('Keras 1 weights')
def k1_gru_pergate():
    """Keras 1.x full model: GRU(4) on (5, 3) -> Dense(2). No keras_version anywhere (=> Keras "1"),
    9 per-gate GRU arrays W_z,U_z,b_z,W_r,U_r,b_r,W_h,U_h,b_h with Theano-style names (no ':0')."""
    I, U, O = 3, 4, 2
    gru = {'class_name': 'GRU', 'config': {
        'inner_activation': 'hard_sigmoid', 'trainable': True, 'inner_init': 'orthogonal', 'output_dim': U, 'unroll': False,
        'consume_less': 'cpu', 'init': 'glorot_uniform', 'dropout_U': 0.0, 'input_dtype': 'float32',
        'batch_input_shape': [None, 5, I], 'input_length': None, 'dropout_W': 0.0, 'activation': 'tanh', 'stateful': False,
        'b_regularizer': None, 'U_regularizer': None, 'name': 'gru_1', 'go_backwards': False, 'input_dim': I,
        'return_sequences': False, 'W_regularizer': None}}
    dense = {'class_name': 'Dense', 'config': {
        'W_constraint': None, 'b_constraint': None, 'name': 'dense_1', 'activity_regularizer': None, 'trainable': True,
        'init': 'glorot_uniform', 'bias': True, 'input_dim': U, 'b_regularizer': None, 'W_regularizer': None,
        'activation': 'linear', 'output_dim': O}}
    gates = {}
    names = []
    for g in 'zrh':
        gates['W_' + g], gates['U_' + g], gates['b_' + g] = rand(I, U), rand(U, U), rand(U)
        names += ['gru_1_W_' + g, 'gru_1_U_' + g, 'gru_1_b_' + g]
    Wd, bd = rand(U, O), rand(O)
    with h5py.File(os.path.join(OUT, 'k1_gru_pergate.h5'), 'w', libver='earliest') as f:
        f.attrs['model_config'] = json.dumps({'class_name': 'Sequential', 'config': [gru, dense]}).encode('utf8')
        f.attrs['training_config'] = json.dumps({'optimizer_config': {'class_name': 'SGD', 'config': {'lr': 0.01}},
                                                 'loss': 'mse', 'metrics': [], 'sample_weight_mode': None, 'loss_weights': None}).encode('utf8')
        mw = f.create_group('model_weights')
        mw.attrs['layer_names'] = bstr(['gru_1', 'dense_1'])
        g = mw.create_group('gru_1')
        g.attrs['weight_names'] = bstr(names)
        for n in names:
            g.create_dataset(n, data=gates[n[len('gru_1_'):]])
        d = mw.create_group('dense_1')
        d.attrs['weight_names'] = bstr(['dense_1_W', 'dense_1_b'])
        d.create_dataset('dense_1_W', data=Wd)
        d.create_dataset('dense_1_b', data=bd)
    record('k1_gru_pergate', {
        'gru_1/kernel': np.concatenate([gates['W_z'], gates['W_r'], gates['W_h']], -1),
        'gru_1/recurrent_kernel': np.concatenate([gates['U_z'], gates['U_r'], gates['U_h']], -1),
        'gru_1/bias': np.concatenate([gates['b_z'], gates['b_r'], gates['b_h']], -1),
        'dense_1/kernel': Wd, 'dense_1/bias': bd}, {'kerasVersion': '1', 'layers': ['gru_1', 'dense_1']})


# ---------------------------------------------------------------- chunked attributes ('Legacy HDF5')
def chunked_attrs():
    """Keras 2.2.4-style full model whose layer_names and weight_names are split into name0, name1, ...
    (tf-keras save_attributes_to_hdf5_group splits attributes over 64512 bytes; the split is forced
    here on a small model). Mixes string storage: model_config as a variable-length str,
    keras_version as fixed-length bytes, layer names as fixed-length byte arrays."""
    I, U = 2, 3
    cfg = {'class_name': 'Sequential', 'config': {'name': 'sequential_1', 'layers': [
        rnn_cfg2('SimpleRNN', 'simple_rnn_1', U, batch_input_shape=[None, 4, I], dtype='float32'),
        dense_cfg2('dense_1', 1)]}}
    K, R, b, Wd, bd = rand(I, U), rand(U, U), rand(U), rand(U, 1), rand(1)
    with h5py.File(os.path.join(OUT, 'chunked_attrs.h5'), 'w') as f:
        f.attrs['model_config'] = json.dumps(cfg)  # str -> variable-length UTF-8
        f.attrs['keras_version'] = np.bytes_('2.2.4')
        f.attrs['backend'] = 'tensorflow'
        mw = f.create_group('model_weights')
        mw.attrs['layer_names0'] = bstr(['simple_rnn_1'])
        mw.attrs['layer_names1'] = bstr(['dense_1'])
        mw.attrs['keras_version'] = b'2.2.4'
        mw.attrs['backend'] = b'tensorflow'
        g = mw.create_group('simple_rnn_1')
        g.attrs['weight_names0'] = bstr(['simple_rnn_1/kernel:0', 'simple_rnn_1/recurrent_kernel:0'])
        g.attrs['weight_names1'] = bstr(['simple_rnn_1/bias:0'])
        g.create_dataset('simple_rnn_1/kernel:0', data=K)
        g.create_dataset('simple_rnn_1/recurrent_kernel:0', data=R)
        g.create_dataset('simple_rnn_1/bias:0', data=b)
        d = mw.create_group('dense_1')
        d.attrs['weight_names'] = bstr(['dense_1/kernel:0', 'dense_1/bias:0'])
        d.create_dataset('dense_1/kernel:0', data=Wd)
        d.create_dataset('dense_1/bias:0', data=bd)
    record('chunked_attrs', {'simple_rnn_1/kernel': K, 'simple_rnn_1/recurrent_kernel': R, 'simple_rnn_1/bias': b,
                             'dense_1/kernel': Wd, 'dense_1/bias': bd}, {'kerasVersion': '2.2.4', 'layers': ['simple_rnn_1', 'dense_1']})


# ---------------------------------------------------------------- tfjs quantized shards ('TF.js weight bytes')
def quantize(x, dtype):
    """tfjs-converter quantization.py: affine uint8/uint16 with 0 exactly representable."""
    qmax = np.iinfo(dtype).max
    lo, hi = float(min(x.min(), 0.0)), float(max(x.max(), 0.0))
    scale = (hi - lo) / qmax
    zero = round(-lo / scale)
    lo = -zero * scale
    q = np.clip(np.round((x.astype(np.float64) - lo) / scale), 0, qmax).astype(dtype)
    deq = (q.astype(np.float64) * scale + lo).astype(np.float32)
    return q, scale, lo, deq


def tfjs_model_json(model_config, manifest, keras_version='2.2.4'):
    return {'format': 'layers-model', 'generatedBy': 'keras v' + keras_version, 'convertedBy': 'TensorFlow.js Converter v1.7.0',
            'modelTopology': {'keras_version': keras_version, 'backend': 'tensorflow', 'model_config': model_config,
                              'training_config': {'loss': 'categorical_crossentropy', 'metrics': [], 'optimizer_config': {'class_name': 'Adam', 'config': {}}}},
            'weightsManifest': manifest}


def tfjs_quant():
    """LSTM(4) on (5, 3) -> Dense(2): kernel uint8, recurrent kernel uint16, bias float16, dense bias uint8.
    Names in the tf.keras >= 2.2 form lstm/lstm_cell/kernel (tfjs drops the cell component)."""
    d = os.path.join(OUT, 'tfjs_quant')
    os.makedirs(d, exist_ok=True)
    I, U, O = 3, 4, 2
    cfg = {'class_name': 'Sequential', 'config': {'name': 'sequential', 'layers': [
        rnn_cfg2('LSTM', 'lstm', U, batch_input_shape=[None, 5, I], dtype='float32'), dense_cfg2('dense', O, 'softmax')]}}
    K, R, b, Wd, bd = rand(I, 4 * U), rand(U, 4 * U), rand(4 * U), rand(U, O), rand(O)
    qK, sK, mK, dK = quantize(K, np.uint8)
    qR, sR, mR, dR = quantize(R, np.uint16)
    hb = b.astype(np.float16)
    qb, sb, mb, dbd = quantize(bd, np.uint8)
    g1 = qK.tobytes() + qR.astype('<u2').tobytes() + hb.astype('<f2').tobytes()
    g2 = Wd.astype('<f4').tobytes() + qb.tobytes()
    open(os.path.join(d, 'group1-shard1of1.bin'), 'wb').write(g1)
    open(os.path.join(d, 'group2-shard1of1.bin'), 'wb').write(g2)
    manifest = [
        {'paths': ['group1-shard1of1.bin'], 'weights': [
            {'name': 'lstm/lstm_cell/kernel', 'shape': [I, 4 * U], 'dtype': 'float32', 'quantization': {'dtype': 'uint8', 'scale': sK, 'min': mK, 'original_dtype': 'float32'}},
            {'name': 'lstm/lstm_cell/recurrent_kernel', 'shape': [U, 4 * U], 'dtype': 'float32', 'quantization': {'dtype': 'uint16', 'scale': sR, 'min': mR, 'original_dtype': 'float32'}},
            {'name': 'lstm/lstm_cell/bias', 'shape': [4 * U], 'dtype': 'float32', 'quantization': {'dtype': 'float16', 'original_dtype': 'float32'}}]},
        {'paths': ['group2-shard1of1.bin'], 'weights': [
            {'name': 'dense/kernel', 'shape': [U, O], 'dtype': 'float32'},
            {'name': 'dense/bias', 'shape': [O], 'dtype': 'float32', 'quantization': {'dtype': 'uint8', 'scale': sb, 'min': mb, 'original_dtype': 'float32'}}]}]
    json.dump(tfjs_model_json(cfg, manifest), open(os.path.join(d, 'model.json'), 'w'), indent=1)
    record('tfjs_quant', {'lstm/kernel': dK, 'lstm/recurrent_kernel': dR, 'lstm/bias': hb.astype(np.float32),
                          'dense/kernel': Wd, 'dense/bias': dbd}, {'layers': ['lstm', 'dense']})


# ---------------------------------------------------------------- tfjs, several groups, straddling shards ('TF.js weight bytes')
def tfjs_groups():
    """Bidirectional(GRU(3, reset_after=False), concat) on (6, 2) -> Dense(2), converter layout:
    the Dense group comes first, the Bidirectional group is cut every 50 bytes into three shards
    (one without .bin) so weights straddle shard boundaries."""
    d = os.path.join(OUT, 'tfjs_groups')
    os.makedirs(d, exist_ok=True)
    I, U, O = 2, 3, 2
    inner = rnn_cfg2('GRU', 'gru', U, reset_after=False)
    cfg = {'class_name': 'Sequential', 'config': {'name': 'sequential', 'layers': [
        {'class_name': 'Bidirectional', 'config': {'name': 'bidirectional', 'trainable': True, 'batch_input_shape': [None, 6, I],
                                                   'dtype': 'float32', 'layer': inner, 'merge_mode': 'concat'}},
        dense_cfg2('dense', O)]}}
    fw = [rand(I, 3 * U), rand(U, 3 * U), rand(3 * U)]
    bw = [rand(I, 3 * U), rand(U, 3 * U), rand(3 * U)]
    Wd, bd = rand(2 * U, O), rand(O)
    open(os.path.join(d, 'group1-shard1of1.bin'), 'wb').write(Wd.tobytes() + bd.tobytes())
    g2 = b''.join(a.astype('<f4').tobytes() for a in fw + bw)
    cuts = [g2[0:50], g2[50:100], g2[100:]]
    names2 = ['group2-shard1of3.bin', 'group2-shard2of3', 'group2-shard3of3.bin']
    for n, c in zip(names2, cuts):
        open(os.path.join(d, n), 'wb').write(c)
    wn = ['kernel', 'recurrent_kernel', 'bias']
    manifest = [
        {'paths': ['group1-shard1of1.bin'], 'weights': [
            {'name': 'dense/kernel', 'shape': [2 * U, O], 'dtype': 'float32'}, {'name': 'dense/bias', 'shape': [O], 'dtype': 'float32'}]},
        {'paths': names2, 'weights':
            [{'name': 'bidirectional/forward_gru/gru_cell/' + n, 'shape': list(a.shape), 'dtype': 'float32'} for n, a in zip(wn, fw)] +
            [{'name': 'bidirectional/backward_gru/gru_cell/' + n, 'shape': list(a.shape), 'dtype': 'float32'} for n, a in zip(wn, bw)]}]
    json.dump(tfjs_model_json(cfg, manifest), open(os.path.join(d, 'model.json'), 'w'), indent=1)
    p = {'dense/kernel': Wd, 'dense/bias': bd}
    for n, a in zip(wn, fw):
        p['bidirectional/forward/' + n] = a
    for n, a in zip(wn, bw):
        p['bidirectional/backward/' + n] = a
    record('tfjs_groups', p, {'layers': ['bidirectional', 'dense'], 'shardBytes': [len(c) for c in cuts]})


# ---------------------------------------------------------------- Keras 3 stores ('Keras 3 variable store')
def k3_obj(cls, config, module='keras.layers', build=None):
    o = {'module': module, 'class_name': cls, 'config': config, 'registered_name': None}
    if build is not None:
        o['build_config'] = {'input_shape': build}
    return o


def k3_rnn(cls, name, units, **kw):
    c = {'name': name, 'trainable': True, 'dtype': {'module': 'keras', 'class_name': 'DTypePolicy', 'config': {'name': 'float32'}, 'registered_name': None},
         'return_sequences': False, 'return_state': False, 'go_backwards': False, 'stateful': False, 'unroll': False,
         'zero_output_for_mask': False, 'units': units, 'activation': 'tanh', 'use_bias': True,
         'kernel_initializer': k3_obj('GlorotUniform', {'seed': None}, 'keras.initializers'),
         'recurrent_initializer': k3_obj('Orthogonal', {'seed': None, 'gain': 1.0}, 'keras.initializers'),
         'bias_initializer': k3_obj('Zeros', {}, 'keras.initializers'), 'kernel_regularizer': None, 'recurrent_regularizer': None,
         'bias_regularizer': None, 'activity_regularizer': None, 'kernel_constraint': None, 'recurrent_constraint': None,
         'bias_constraint': None, 'dropout': 0.0, 'recurrent_dropout': 0.0, 'seed': None}
    if cls in ('LSTM', 'GRU'):
        c['recurrent_activation'] = 'sigmoid'
    if cls == 'LSTM':
        c['unit_forget_bias'] = True
    if cls == 'GRU':
        c['reset_after'] = True
    if cls == 'SimpleRNN':
        del c['seed']
    c.update(kw)
    return c


def k3_dense(name, units, activation='linear'):
    return {'name': name, 'trainable': True, 'dtype': {'module': 'keras', 'class_name': 'DTypePolicy', 'config': {'name': 'float32'}, 'registered_name': None},
            'units': units, 'activation': activation, 'use_bias': True, 'kernel_initializer': k3_obj('GlorotUniform', {'seed': None}, 'keras.initializers'),
            'bias_initializer': k3_obj('Zeros', {}, 'keras.initializers'), 'kernel_regularizer': None, 'bias_regularizer': None,
            'kernel_constraint': None, 'bias_constraint': None}


def write_vars(f, path, arrays, name):
    g = f.create_group(path + '/vars') if path else f.create_group('vars')
    g.attrs['name'] = name
    for i, a in enumerate(arrays):
        g.create_dataset(str(i), data=a)


def k3_bidi_td():
    """Keras 3 to_json() architecture + .weights.h5 (saving_lib save_weights layout):
    Sequential[Input(6,4), Bidirectional(LSTM(3, seq)) 'encoder', TimeDistributed(Dense(2)) 'per_step',
    LSTM(3, seq) 'enc2', LSTM(2) 'last', Dense(1) 'head']. Config names differ from class-based store
    names on purpose: store paths are layers/bidirectional/{forward,backward}_layer/cell/vars,
    layers/time_distributed/layer/vars, layers/lstm/cell/vars, layers/lstm_1/cell/vars, layers/dense/vars."""
    T, I, U = 6, 4, 3
    layers = [
        k3_obj('InputLayer', {'batch_shape': [None, T, I], 'dtype': 'float32', 'sparse': False, 'name': 'input_layer'}),
        k3_obj('Bidirectional', {'name': 'encoder', 'trainable': True, 'dtype': {'module': 'keras', 'class_name': 'DTypePolicy', 'config': {'name': 'float32'}, 'registered_name': None},
                                 'merge_mode': 'concat',
                                 'layer': k3_obj('LSTM', k3_rnn('LSTM', 'forward_lstm', U, return_sequences=True), build=[None, T, I]),
                                 'backward_layer': k3_obj('LSTM', k3_rnn('LSTM', 'backward_lstm', U, return_sequences=True, go_backwards=True), build=[None, T, I])},
               build=[None, T, I]),
        k3_obj('TimeDistributed', {'name': 'per_step', 'trainable': True, 'dtype': {'module': 'keras', 'class_name': 'DTypePolicy', 'config': {'name': 'float32'}, 'registered_name': None},
                                   'layer': k3_obj('Dense', k3_dense('dense_inner', 2), build=[None, 2 * U])}, build=[None, T, 2 * U]),
        k3_obj('LSTM', k3_rnn('LSTM', 'enc2', U, return_sequences=True), build=[None, T, 2]),
        k3_obj('LSTM', k3_rnn('LSTM', 'last', 2), build=[None, T, U]),
        k3_obj('Dense', k3_dense('head', 1), build=[None, 2])]
    cfg = {'module': 'keras', 'class_name': 'Sequential', 'config': {'name': 'sequential', 'trainable': True, 'dtype': {'module': 'keras', 'class_name': 'DTypePolicy', 'config': {'name': 'float32'}, 'registered_name': None},
                                                                     'layers': layers, 'build_input_shape': [None, T, I]},
           'registered_name': None, 'build_config': {'input_shape': [None, T, I]}}
    json.dump(cfg, open(os.path.join(OUT, 'k3_bidi_td.json'), 'w'))
    fw = [rand(I, 4 * U), rand(U, 4 * U), rand(4 * U)]
    bw = [rand(I, 4 * U), rand(U, 4 * U), rand(4 * U)]
    td = [rand(2 * U, 2), rand(2)]
    l1 = [rand(2, 4 * U), rand(U, 4 * U), rand(4 * U)]
    l2 = [rand(U, 8), rand(2, 8), rand(8)]
    hd = [rand(2, 1), rand(1)]
    with h5py.File(os.path.join(OUT, 'k3_bidi_td.weights.h5'), 'w') as f:
        write_vars(f, 'layers/bidirectional', [], 'encoder')
        write_vars(f, 'layers/bidirectional/forward_layer', [], 'forward_lstm')
        write_vars(f, 'layers/bidirectional/forward_layer/cell', fw, 'lstm_cell')
        write_vars(f, 'layers/bidirectional/backward_layer', [], 'backward_lstm')
        write_vars(f, 'layers/bidirectional/backward_layer/cell', bw, 'lstm_cell')
        write_vars(f, 'layers/time_distributed', [], 'per_step')
        write_vars(f, 'layers/time_distributed/layer', td, 'dense_inner')
        write_vars(f, 'layers/lstm', [], 'enc2')
        write_vars(f, 'layers/lstm/cell', l1, 'lstm_cell')
        write_vars(f, 'layers/lstm_1', [], 'last')
        write_vars(f, 'layers/lstm_1/cell', l2, 'lstm_cell')
        write_vars(f, 'layers/dense', hd, 'head')
        write_vars(f, '', [], 'sequential')
    p = {}
    for n, a in zip(['kernel', 'recurrent_kernel', 'bias'], fw):
        p['encoder/forward/' + n] = a
    for n, a in zip(['kernel', 'recurrent_kernel', 'bias'], bw):
        p['encoder/backward/' + n] = a
    p['per_step/kernel'], p['per_step/bias'] = td
    for n, a in zip(['kernel', 'recurrent_kernel', 'bias'], l1):
        p['enc2/' + n] = a
    for n, a in zip(['kernel', 'recurrent_kernel', 'bias'], l2):
        p['last/' + n] = a
    p['head/kernel'], p['head/bias'] = hd
    record('k3_bidi_td', p, {'layers': ['input_layer', 'encoder', 'per_step', 'enc2', 'last', 'head']})


def k3_gru_files():
    """Members of a .keras model: Sequential[Input(5,3), GRU(4, reset_after=True, seq) 'g1',
    GRU(3, reset_after=False) 'g2', Dense(1) 'out'], compiled with loss mse."""
    T, I = 5, 3
    layers = [k3_obj('InputLayer', {'batch_shape': [None, T, I], 'dtype': 'float32', 'sparse': False, 'ragged': False, 'name': 'input_layer'}),
              k3_obj('GRU', k3_rnn('GRU', 'g1', 4, return_sequences=True), build=[None, T, I]),
              k3_obj('GRU', k3_rnn('GRU', 'g2', 3, reset_after=False), build=[None, T, 4]),
              k3_obj('Dense', k3_dense('out', 1), build=[None, 3])]
    cfg = {'module': 'keras', 'class_name': 'Sequential', 'config': {'name': 'sequential', 'trainable': True, 'dtype': {'module': 'keras', 'class_name': 'DTypePolicy', 'config': {'name': 'float32'}, 'registered_name': None}, 'layers': layers, 'build_input_shape': [None, T, I]},
           'registered_name': None, 'build_config': {'input_shape': [None, T, I]},
           'compile_config': {'optimizer': k3_obj('SGD', {'name': 'SGD', 'learning_rate': 0.01}, 'keras.optimizers'), 'loss': 'mse',
                              'loss_weights': None, 'metrics': None, 'weighted_metrics': None, 'run_eagerly': False, 'steps_per_execution': 1, 'jit_compile': False}}
    g1 = [rand(I, 12), rand(4, 12), rand(2, 12)]
    g2 = [rand(4, 9), rand(3, 9), rand(9)]
    out = [rand(3, 1), rand(1)]
    bio = io.BytesIO()
    with h5py.File(bio, 'w') as f:
        write_vars(f, 'layers/gru', [], 'g1')
        write_vars(f, 'layers/gru/cell', g1, 'gru_cell')
        write_vars(f, 'layers/gru_1', [], 'g2')
        write_vars(f, 'layers/gru_1/cell', g2, 'gru_cell')
        write_vars(f, 'layers/dense', out, 'out')
        write_vars(f, '', [], 'sequential')
        write_vars(f, 'optimizer', [np.array(3, dtype=np.int64), rand(3, 1)], 'sgd')
    members = {'metadata.json': json.dumps({'keras_version': '3.5.0', 'date_saved': '2024-06-11@12:00:00'}).encode(),
               'config.json': json.dumps(cfg).encode(), 'model.weights.h5': bio.getvalue()}
    p = {}
    for n, a in zip(['kernel', 'recurrent_kernel', 'bias'], g1):
        p['g1/' + n] = a
    for n, a in zip(['kernel', 'recurrent_kernel', 'bias'], g2):
        p['g2/' + n] = a
    p['out/kernel'], p['out/bias'] = out
    return members, p


def k3_folder_and_zip():
    members, p = k3_gru_files()
    d = os.path.join(OUT, 'k3_folder')
    os.makedirs(d, exist_ok=True)
    for n, b in members.items():
        open(os.path.join(d, n), 'wb').write(b)
    record('k3_folder', p, {'kerasVersion': '3.5.0', 'layers': ['input_layer', 'g1', 'g2', 'out']})
    with zipfile.ZipFile(os.path.join(OUT, 'k3_deflated.keras'), 'w', compression=zipfile.ZIP_DEFLATED) as z:
        for n in ['metadata.json', 'config.json', 'model.weights.h5']:
            zi = zipfile.ZipInfo(n, date_time=(2024, 6, 11, 12, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, members[n])
    record('k3_deflated', p, {'kerasVersion': '3.5.0', 'layers': ['input_layer', 'g1', 'g2', 'out']})
    # weights_format="npz": NpzIOStore writes np.savez(f, **{inner_path: {"0": array, ...}, "__root__": {}})
    # (keras/src/saving/saving_lib.py); numpy pickles each dict into a 0-d object array.
    f = h5py.File(io.BytesIO(members['model.weights.h5']), 'r')
    store = {'__root__': {}}
    for path in ['layers/gru/cell', 'layers/gru', 'layers/gru_1/cell', 'layers/gru_1', 'layers/dense', 'optimizer']:
        g = f[path + '/vars']
        store[path] = {k: g[k][()] for k in g.keys()}
    npz = io.BytesIO()
    np.savez(npz, **store)
    with zipfile.ZipFile(os.path.join(OUT, 'k3_npz.keras'), 'w') as z:
        for n, b in [('metadata.json', members['metadata.json']), ('config.json', members['config.json']), ('model.weights.npz', npz.getvalue())]:
            z.writestr(zipfile.ZipInfo(n, date_time=(2024, 6, 11, 12, 0, 0)), b)
    record('k3_npz', p, {'kerasVersion': '3.5.0', 'layers': ['input_layer', 'g1', 'g2', 'out']})


# ---------------------------------------------------------------- textgenrnn architecture (MANIFEST.md)
def textgenrnn_arch():
    """model.to_json() as Keras 2.1.5 would write it for textgenrnn/model.py's graph (reconstructed
    from the corpus MANIFEST description): input(40, int32) -> embedding(465, 100) -> rnn_1 LSTM(128, seq)
    -> rnn_2 LSTM(128, seq) -> concatenate([embedding, rnn_1, rnn_2]) -> AttentionWeightedAverage
    'attention' (custom layer) -> Dense(465, softmax) 'output'."""
    def node(*names):
        return [[[n, 0, 0, {}] for n in names]]
    layers = [
        {'name': 'input', 'class_name': 'InputLayer', 'config': {'batch_input_shape': [None, 40], 'dtype': 'int32', 'sparse': False, 'name': 'input'}, 'inbound_nodes': []},
        {'name': 'embedding', 'class_name': 'Embedding', 'config': {'name': 'embedding', 'trainable': True, 'batch_input_shape': [None, 40], 'dtype': 'float32', 'input_dim': 465, 'output_dim': 100,
                                                                   'embeddings_initializer': {'class_name': 'RandomUniform', 'config': {'minval': -0.05, 'maxval': 0.05, 'seed': None}},
                                                                   'embeddings_regularizer': None, 'activity_regularizer': None, 'embeddings_constraint': None, 'mask_zero': False, 'input_length': 40},
         'inbound_nodes': node('input')},
        dict(rnn_cfg2('LSTM', 'rnn_1', 128, return_sequences=True), name='rnn_1', inbound_nodes=node('embedding')),
        dict(rnn_cfg2('LSTM', 'rnn_2', 128, return_sequences=True), name='rnn_2', inbound_nodes=node('rnn_1')),
        {'name': 'rnn_concat', 'class_name': 'Concatenate', 'config': {'name': 'rnn_concat', 'trainable': True, 'axis': -1}, 'inbound_nodes': node('embedding', 'rnn_1', 'rnn_2')},
        {'name': 'attention', 'class_name': 'AttentionWeightedAverage', 'config': {'name': 'attention', 'trainable': True, 'return_attention': False}, 'inbound_nodes': node('rnn_concat')},
        dict(dense_cfg2('output', 465, 'softmax'), name='output', inbound_nodes=node('attention'))]
    for l in layers[2:4]:
        l['config']['recurrent_activation'] = 'sigmoid'
    full = {'class_name': 'Model', 'config': {'name': 'model_1', 'layers': layers, 'input_layers': [['input', 0, 0]], 'output_layers': [['output', 0, 0]]},
            'keras_version': '2.1.5', 'backend': 'tensorflow'}
    json.dump(full, open(os.path.join(OUT, 'textgenrnn_architecture.json'), 'w'))
    # The recurrent part alone, to check the CuDNN conversion layer by layer.
    part = {'class_name': 'Model', 'config': {'name': 'model_1', 'layers': layers[:4], 'input_layers': [['input', 0, 0]], 'output_layers': [['rnn_2', 0, 0]]},
            'keras_version': '2.1.5', 'backend': 'tensorflow'}
    json.dump(part, open(os.path.join(OUT, 'textgenrnn_rnn_part.json'), 'w'))


# ---------------------------------------------------------------- damaged / hostile inputs
def bad_inputs():
    """absurd_shape: a weights-only file whose Dense kernel declares (100000, 100000) float32 (40 GB)
    in a 4 KB file (chunked, never written); external_link: a full model whose kernel is an
    external link; softlink_cycle: a weight path that is a cycle of soft links; zip_bomb.keras:
    config.json of 64 MiB of spaces deflated to ~64 KB."""
    arch = {'class_name': 'Sequential', 'config': [dense_cfg2('dense_1', 2, batch_input_shape=[None, 3], dtype='float32')],
            'keras_version': '2.1.2', 'backend': 'tensorflow'}
    json.dump(arch, open(os.path.join(OUT, 'dense_arch.json'), 'w'))
    with h5py.File(os.path.join(OUT, 'bad_absurd_shape.h5'), 'w') as f:
        f.attrs['layer_names'] = bstr(['dense_1'])
        f.attrs['keras_version'] = b'2.1.2'
        f.attrs['backend'] = b'tensorflow'
        g = f.create_group('dense_1')
        g.attrs['weight_names'] = bstr(['dense_1/kernel:0', 'dense_1/bias:0'])
        g.create_dataset('dense_1/kernel:0', shape=(100000, 100000), dtype='f4', chunks=(100, 100))
        g.create_dataset('dense_1/bias:0', data=rand(2))
    for kind in ['external_link', 'softlink_cycle']:
        with h5py.File(os.path.join(OUT, 'bad_%s.h5' % kind), 'w') as f:
            f.attrs['model_config'] = json.dumps({'class_name': 'Sequential', 'config': arch['config']})
            f.attrs['keras_version'] = '2.1.2'
            f.attrs['backend'] = 'tensorflow'
            mw = f.create_group('model_weights')
            mw.attrs['layer_names'] = bstr(['dense_1'])
            g = mw.create_group('dense_1')
            g.attrs['weight_names'] = bstr(['dense_1/kernel:0', 'dense_1/bias:0'])
            g.create_dataset('dense_1/bias:0', data=rand(2))
            if kind == 'external_link':
                g['dense_1/kernel:0'] = h5py.ExternalLink('other_weights.h5', '/kernel')
            else:
                g['dense_1/kernel:0'] = h5py.SoftLink('/model_weights/dense_1/loop_b')
                g['loop_b'] = h5py.SoftLink('/model_weights/dense_1/dense_1/kernel:0')
    with zipfile.ZipFile(os.path.join(OUT, 'bad_zip_bomb.keras'), 'w', compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr(zipfile.ZipInfo('metadata.json', date_time=(2024, 6, 11, 12, 0, 0)), b'{"keras_version": "3.5.0"}')
        zi = zipfile.ZipInfo('config.json', date_time=(2024, 6, 11, 12, 0, 0))
        zi.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(zi, b'{' + b' ' * (64 << 20) + b'}')


# ---------------------------------------------------------------- corpus oracle (h5py reads of the real files)
def cudnn_lstm_to_canonical(k, r, b):
    """tf-keras hdf5_format.py _convert_rnn_weights (CuDNNLSTM -> LSTM)."""
    def hsplit_apply(x, fn):
        return np.hstack([fn(p) for p in np.hsplit(x, 4)])
    k2 = hsplit_apply(k, lambda p: p.T.reshape(p.shape, order='F'))
    r2 = hsplit_apply(r, lambda p: p.T)
    b2 = np.sum(np.split(b, 2, axis=0), axis=0)
    return k2, r2, b2


def corpus_oracle():
    def legacy(path, root='/'):
        f = h5py.File(path, 'r')
        g = f[root]
        out = []
        for ln in [x.decode() for x in g.attrs['layer_names']]:
            wn = [x.decode() for x in g[ln].attrs['weight_names']]
            out.append((ln, [(w, g[ln][w][()]) for w in wn]))
        return out

    def plain(layers, rename=None):
        p = {}
        short = lambda w: w.split('/')[-1].split(':')[0]
        for ln, ws in layers:
            for w, a in ws:
                p['%s/%s' % (ln, short(w))] = a
        return p

    def k1_lstm(path):
        p = {}
        for ln, ws in legacy(path, '/model_weights'):
            d = {w.split(':')[0][len(ln) + 1:]: a for w, a in ws}
            if ln.startswith('lstm'):
                p[ln + '/kernel'] = np.concatenate([d['W_i'], d['W_f'], d['W_c'], d['W_o']], -1)
                p[ln + '/recurrent_kernel'] = np.concatenate([d['U_i'], d['U_f'], d['U_c'], d['U_o']], -1)
                p[ln + '/bias'] = np.concatenate([d['b_i'], d['b_f'], d['b_c'], d['b_o']], -1)
            else:
                p[ln + '/kernel'], p[ln + '/bias'] = d['W'], d['b']
        return p

    c = CORPUS
    record('corpus:h5_dl4j_simplernn_k2', plain(legacy(c + '/h5_dl4j_simplernn_k2/simple_rnn_tf_keras_2_model.h5', '/model_weights')))
    record('corpus:h5_dl4j_masking_lstm', plain(legacy(c + '/h5_dl4j_masking_lstm/masking_zero_lstm.h5', '/model_weights')))
    record('corpus:k1_dl4j_simple_lstm_tf', k1_lstm(c + '/k1_dl4j_simple_lstm_tf/simple_lstm_tf_keras_1_model.h5'))
    record('corpus:k1_dl4j_simple_lstm_theano', k1_lstm(c + '/k1_dl4j_simple_lstm_theano/simple_lstm_th_keras_1_model.h5'))
    record('corpus:w_chen_sentiment_embedding_conv1d_lstm', plain(legacy(c + '/w_chen_sentiment_embedding_conv1d_lstm/wordvec_cnn_lstm_weights.h5')))
    record('corpus:w_dl4j_stacked_lstm_theano_with_predictions', plain(legacy(c + '/w_dl4j_stacked_lstm_theano_with_predictions/lstm_th_keras_2_weights.h5')))
    bi = {}
    for ln, ws in legacy(c + '/w_chen_ecg_bilstm_autoencoder/bidirectional-lstm-auto-encoder-weights.h5'):
        for w, a in ws:
            parts = w.split(':')[0].split('/')
            key = '%s/%s/%s' % (ln, 'forward' if parts[1].startswith('forward') else 'backward', parts[2]) if len(parts) == 3 else '%s/%s' % (ln, parts[-1])
            bi[key] = a
    record('corpus:w_chen_ecg_bilstm_autoencoder', bi)
    tg = dict(legacy(c + '/w_textgenrnn_cudnnlstm_attention/textgenrnn_weights.hdf5'))
    p = {}
    for ln in ['rnn_1', 'rnn_2']:
        k, r, b = [a for _, a in tg[ln]]
        p[ln + '/kernel'], p[ln + '/recurrent_kernel'], p[ln + '/bias'] = cudnn_lstm_to_canonical(k, r, b)
    p['embedding/embeddings'] = tg['embedding'][0][1]
    record('corpus:w_textgenrnn_cudnnlstm_attention', p)
    # .keras stores: the config-name -> store-path pairing written out by hand from each file's
    # config.json and h5py listing (MANIFEST.md notes), independent of the loader's walker.
    keras_maps = {
        'k3_hatice_har_lstm': ('lstm_model.keras', {
            'lstm_2': 'layers/lstm/cell', 'lstm_3': 'layers/lstm_1/cell', 'dense_2': 'layers/dense', 'dense_3': 'layers/dense_1'}),
        'k3_asand_multiinput_embedding_lstm': ('rnn_model.keras', {
            'embedding_layer': '_layer_checkpoint_dependencies/embedding', 'lstm': '_layer_checkpoint_dependencies/lstm/cell',
            'dense': '_layer_checkpoint_dependencies/dense', 'dense_1': '_layer_checkpoint_dependencies/dense_2',
            'dense_2': '_layer_checkpoint_dependencies/dense_4'}),
    }
    names = {'lstm': ['kernel', 'recurrent_kernel', 'bias'], 'dense': ['kernel', 'bias'], 'embedding': ['embeddings']}
    for name, (member, mapping) in keras_maps.items():
        z = zipfile.ZipFile(os.path.join(c, name, member))
        f = h5py.File(io.BytesIO(z.read('model.weights.h5')), 'r')
        p = {}
        for layer, path in mapping.items():
            kind = 'lstm' if path.endswith('/cell') else 'embedding' if 'embedding' in path else 'dense'
            for i, n in enumerate(names[kind]):
                p['%s/%s' % (layer, n)] = f[path + '/vars/' + str(i)][()]
        record('corpus:' + name, p)
    d = os.path.join(c, 'tfjs_reiinakano_textgen_lstm_legacy_format')
    m = json.load(open(os.path.join(d, 'model.json')))
    arrays = {}
    for g in m['weightsManifest']:
        buf = b''.join(open(os.path.join(d, p), 'rb').read() for p in g['paths'])
        off = 0
        for w in g['weights']:
            n = int(np.prod(w['shape']))
            arrays[w['name']] = np.frombuffer(buf[off:off + 4 * n], dtype='<f4').reshape(w['shape'])
            off += 4 * n
    record('corpus:tfjs_reiinakano_textgen_lstm_legacy_format', arrays)


def main():
    os.makedirs(OUT, exist_ok=True)
    k1_gru_pergate()
    chunked_attrs()
    tfjs_quant()
    tfjs_groups()
    k3_bidi_td()
    k3_folder_and_zip()
    textgenrnn_arch()
    bad_inputs()
    corpus_oracle()
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(EXPECTED, f, indent=1, sort_keys=True)
        f.write('\n')


if __name__ == '__main__':
    main()
