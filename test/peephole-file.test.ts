// RNN(PeepholeLSTMCell) read from a file as tf.keras 2.13 writes it (model.save('m.h5'): model_config,
// model_weights/<layer>/<layer>/peephole_lstm_cell/<weight>:0 in the cell's weight order, written here by
// h5py), then checked against the PyTorch golden of the same model (scripts/torch_goldens.py: loss,
// every gradient, ∂L/∂x, ∂L/∂h_t and ∂L/∂c_t in float64). The cell's own finite-difference, reference
// and Jacobian tests come from the registry (rnn-fd, taps-fd, analysis, oracle-torch).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModelFile } from '../src/node.js';
import { lossAndGrads } from '../src/engine/run.js';
import { loadTorchGolden, relErr, tensorOf } from './helpers/oracle.js';

const PYTHON = '/usr/bin/python3';
const noH5py = spawnSync(PYTHON, ['-c', 'import h5py, numpy'], { stdio: 'ignore' }).status !== 0;
const dir = mkdtempSync(path.join(tmpdir(), 'rnnscope-peephole-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const WRITE_H5 = `
import json, sys, h5py, numpy as np
g = json.load(open(sys.argv[1]))
cfg = {k: v for k, v in g['config'].items() if k != 'compile_config'}
order = {'rnn': ['kernel', 'recurrent_kernel', 'bias', 'input_gate_peephole_weights',
                 'forget_gate_peephole_weights', 'output_gate_peephole_weights'],
         'dense': ['kernel', 'bias']}
with h5py.File(sys.argv[2], 'w') as f:
    f.attrs['keras_version'] = b'2.13.1'
    f.attrs['backend'] = b'tensorflow'
    f.attrs['model_config'] = json.dumps(cfg).encode()
    mw = f.create_group('model_weights')
    mw.attrs['keras_version'] = b'2.13.1'
    mw.attrs['backend'] = b'tensorflow'
    mw.attrs['layer_names'] = [n.encode() for n in order]
    for layer, names in order.items():
        grp = mw.create_group(layer)
        scope = layer + '/peephole_lstm_cell/' if layer == 'rnn' else layer + '/'
        grp.attrs['weight_names'] = [(scope + n + ':0').encode() for n in names]
        for n in names:
            w = g['weights'][layer + '/' + n]
            grp.create_dataset(scope + n + ':0', data=np.array(w['data'], dtype=np.float32).reshape(w['shape']))
`;

describe.skipIf(noH5py)('RNN(PeepholeLSTMCell) from a tf.keras 2.13 .h5', () => {
  it('loads as the PeepholeLSTM cell and reproduces the PyTorch golden (weights rounded to float32 as the file stores them)', async () => {
    const g = loadTorchGolden('peephole_lstm_seq_dense_mse');
    const goldenFile = path.join(dir, 'golden.json'),
      h5 = path.join(dir, 'peephole.h5');
    writeFileSync(goldenFile, JSON.stringify(g));
    const w = spawnSync(PYTHON, ['-c', WRITE_H5, goldenFile, h5], { encoding: 'utf8' });
    expect(w.status, w.stderr).toBe(0);

    const model = await loadModelFile(h5);
    const rnn = model.layers.find((l) => l.type === 'Recurrent');
    expect(rnn?.type === 'Recurrent' && rnn.rnn.kind).toBe('PeepholeLSTM');
    expect(model.params.flat().map((p) => `${p.key}:${p.shape.join('x')}`)).toEqual([
      'rnn/kernel:3x16',
      'rnn/recurrent_kernel:4x16',
      'rnn/bias:16',
      'rnn/input_gate_peephole_weights:4',
      'rnn/forget_gate_peephole_weights:4',
      'rnn/output_gate_peephole_weights:4',
      'dense/kernel:4x2',
      'dense/bias:2',
    ]);
    // The file holds float32 weights: the float64 run reproduces the golden to float32 weight precision.
    const r = lossAndGrads(model, [tensorOf(g.inputs)], [tensorOf(g.targets)], {
      losses: [g.lossConfig],
      flavor: 'keras2',
      dtype: 'float64',
      taps: { dh: true, dc: true },
    });
    expect(relErr([r.loss], [g.loss])).toBeLessThan(1e-6);
    model.params.forEach((ps, li) =>
      ps.forEach((p, pi) => {
        expect(relErr(r.grads[li]![pi]!.data, g.grads[p.key]!.data), `∂L/∂${p.key}`).toBeLessThan(1e-5);
      }),
    );
    const tap = r.taps.get('rnn', null)!;
    expect(relErr(tap.data.dh!, g.taps['rnn']!.dh.data)).toBeLessThan(1e-5);
    expect(relErr(tap.data.dc!, g.taps['rnn']!.dc!.data)).toBeLessThan(1e-5);
  });
});
