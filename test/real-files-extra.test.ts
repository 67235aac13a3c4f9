// Real public Keras models kept in test/fixtures/corpus-extra (licences and attribution in its MANIFEST.md):
// a BiLSTM-CRF tagger (keras_contrib CRF, Keras 2.3.1), an LSTM with attention built from Keras layers
// (Keras 3.10), a Transformer block (Keras 3 .keras), a stacked GRU (tf.keras 2.3) and two Keras 1.2.2 files
// (Bidirectional LSTM; Embedding → LSTM written by Theano), each through `rnnscope analyze` as a child process,
// against an independent reference:
// PyTorch forward and autograd on the file's own weights (scripts/reference_keras_graph.py, written from the
// Keras and keras_contrib formulas). The loss and the norm of every parameter gradient must agree, in float64
// to roundoff and in the default float32 run within float32's reach, and so must ‖∂L/∂h_t‖ per step of a
// unidirectional recurrent layer; every analysis series must be finite.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON, ROOT, rnnscope, runProcess } from './helpers/cli-run.js';

const EXTRA = path.join(ROOT, 'test/fixtures/corpus-extra');
const dir = mkdtempSync(path.join(tmpdir(), 'rnnscope-real-extra-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hasTorch = spawnSync(PYTHON, ['-c', 'import torch, h5py, numpy'], { stdio: 'ignore' }).status === 0;

interface Ref {
  loss: string;
  value: number;
  gradNorm: Record<string, number>;
  /** Per unidirectional recurrent layer returning sequences: ‖∂L/∂h_t‖ per step. */
  steps: Record<string, { dh: number[] }>;
}

interface Fixture {
  name: string;
  model: string;
  keras: string;
  loss: string;
  recurrent: string[];
  /** Parameters that must be among the analysis's (the CRF's transitions). */
  params: string[];
  /** Unidirectional layers returning sequences, whose ‖∂L/∂h_t‖ per step is compared with the reference. */
  steps: string[];
}

const FIXTURES: Fixture[] = [
  {
    name: 'lyssym_bilstm_crf',
    model: 'crf.h5',
    keras: '2.3.1',
    loss: 'crf_loss',
    recurrent: ['bidirectional_1/forward', 'bidirectional_1/backward'],
    params: ['crf_1/chain_kernel', 'crf_1/left_boundary', 'crf_1/right_boundary'],
    steps: [],
  },
  {
    name: 'yashpanchal_lstm_attention',
    model: 'lstm_attention_model.h5',
    keras: '3.10.0',
    loss: 'categorical_crossentropy',
    recurrent: ['lstm/null'],
    params: ['lstm/recurrent_kernel', 'dense/kernel'],
    steps: ['lstm'],
  },
  {
    // Keras 3 .keras: MultiHeadAttention's variables in their own sub-groups; GlobalAveragePooling1D channels_first.
    name: 'dhawal_transformer_mha',
    model: 'transformer_model.keras',
    keras: '3.10.0',
    loss: 'mse',
    recurrent: [],
    params: ['multi_head_attention_2/query/kernel', 'multi_head_attention_3/attention_output/bias'],
    steps: [],
  },
  {
    // tf.keras 2.3: three GRU(reset_after) with Dropout between them.
    name: 'alexm_circuit_gru',
    model: 'gru_model.h5',
    keras: '2.3.0-tf',
    loss: 'mse',
    recurrent: ['gru/null', 'gru_1/null', 'gru_2/null'],
    params: ['gru/recurrent_kernel', 'gru_2/bias', 'dense_1/kernel'],
    steps: ['gru', 'gru_1'],
  },
  {
    // Keras 1.2.2: each gate's W_g, U_g, b_g stored apart, under forward_lstm_1 / backward_lstm_1.
    name: 'dl4j_k1_bidirectional_lstm',
    model: 'bidirectional_lstm_tensorflow_1.h5',
    keras: '1.2.2',
    loss: 'mse',
    recurrent: ['bidirectional_1/forward', 'bidirectional_1/backward'],
    params: ['bidirectional_1/forward/kernel', 'bidirectional_1/backward/recurrent_kernel'],
    steps: [],
  },
  {
    // Keras 1.2.2 with the Theano backend: Embedding → LSTM(return_sequences), hard_sigmoid gates.
    name: 'dl4j_k1_embedding_lstm_theano',
    model: 'embedding_lstm_theano_1.h5',
    keras: '1.2.2',
    loss: 'mse',
    recurrent: ['lstm_1/null'],
    params: ['embedding_1/embeddings', 'lstm_1/kernel'],
    steps: ['lstm_1'],
  },
];

const finite = (v: unknown): boolean =>
  Array.isArray(v)
    ? v.every(finite)
    : typeof v === 'number'
      ? Number.isFinite(v)
      : v !== null && typeof v === 'object'
        ? Object.values(v).every(finite)
        : true;

// Skipped only when /usr/bin/python3 lacks torch, h5py or numpy (Debian python3-torch, python3-h5py).
describe.skipIf(!hasTorch)(
  'real files (CRF, attention, plain recurrent, Keras 1) vs PyTorch on the same weights',
  () => {
    for (const fx of FIXTURES) {
      describe(fx.name, () => {
        const f = (n: string) => path.join(EXTRA, fx.name, n);
        let ref: Ref;
        beforeAll(async () => {
          const r = await runProcess(PYTHON, [
            path.join(ROOT, 'scripts/reference_keras_graph.py'),
            f(fx.model),
            f('x.npy'),
            f('y.npy'),
          ]);
          expect(r.code, r.stderr).toBe(0);
          ref = JSON.parse(r.stdout) as Ref;
        }, 120_000);

        for (const [dtype, lossTol, gradTol] of [
          ['float64', 1e-10, 1e-8],
          ['float32', 1e-5, 1e-3],
        ] as const) {
          it(`${dtype}: the stored loss and every gradient norm agree; all finite`, async () => {
            const out = path.join(dir, `${fx.name}-${dtype}.json`);
            const r = await rnnscope([
              'analyze',
              f(fx.model),
              '--data',
              f('x.npy'),
              '--targets',
              f('y.npy'),
              '--dtype',
              dtype,
              '--json',
              out,
            ]);
            expect(r.code, r.stderr).toBe(0);
            expect(r.stdout).toContain(`Keras ${fx.keras}`);
            const a = JSON.parse(readFileSync(out, 'utf8'));
            expect([a.objective.loss, ref.loss]).toEqual([fx.loss, fx.loss]);
            expect(Math.abs(a.objective.value - ref.value) / ref.value).toBeLessThan(lossTol);
            const params = a.params as { key: string; gradNorm: number }[];
            expect(params.map((p) => p.key).sort()).toEqual(Object.keys(ref.gradNorm).sort());
            for (const k of fx.params) expect(params.map((p) => p.key)).toContain(k);
            // A gradient that is structurally 0 (MultiHeadAttention's key bias cancels in the softmax) is
            // roundoff in the reference: both must be ~0 next to the largest gradient.
            const tiny = 1e-9 * Math.max(...Object.values(ref.gradNorm));
            for (const p of params) {
              const want = ref.gradNorm[p.key]!;
              if (want < tiny) expect(p.gradNorm, p.key).toBeLessThan(tiny);
              else expect(Math.abs(p.gradNorm - want) / want, p.key).toBeLessThan(gradTol);
            }
            const rec = a.recurrent as { layer: string; direction: string | null; dh: { norm: number[] } }[];
            expect(rec.map((x) => `${x.layer}/${x.direction}`)).toEqual(fx.recurrent);
            expect(Object.keys(ref.steps).sort()).toEqual([...fx.steps].sort());
            const stepped = rec.filter((x) => x.direction === null && fx.steps.includes(x.layer));
            expect(stepped.length).toBe(fx.steps.length);
            for (const x of stepped) {
              const want = ref.steps[x.layer]!.dh;
              const floor = 1e-9 * Math.max(...want);
              expect(x.dh.norm.length).toBe(want.length);
              x.dh.norm.forEach((v, t) =>
                expect(Math.abs(v - want[t]!) / Math.max(want[t]!, floor), `${x.layer} dh[${t}]`).toBeLessThan(gradTol),
              );
            }
            expect(finite(a.recurrent)).toBe(true);
            expect(finite(params.map((p) => p.gradNorm))).toBe(true);
          }, 120_000);
        }
      });
    }
  },
);
