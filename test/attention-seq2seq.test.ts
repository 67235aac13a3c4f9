// The classic attention RNN: an encoder LSTM whose states start a decoder LSTM, and Luong-style
// Attention([decoder, encoder]) (query = decoder steps, value = encoder steps). Both LSTMs get the
// split of ∂L/∂h_t (src/analysis/attention-paths.ts), each checked by float64 finite differences of
// the same network with that LSTM's attention input replaced by a copy of its output (hx). The
// encoder's last step also passes gradient through its returned states to the decoder; that part,
// like the recurrence, is what is not given to h_t directly, so it counts in `recurrence`.

import { describe, expect, it } from 'vitest';
import type { Tensor } from '../src/engine/tensor.js';
import { functional, input, kt, layer } from './helpers/keras3-config.js';
import { randTensor, rng } from './helpers/layer-fd.js';
import { lossFd, lstmStates, maxAbs, relErr, splitOf, withWeights } from './helpers/attention-oracle.js';

const Te = 6,
  Td = 4,
  I = 3,
  U = 4,
  B = 2;

/** What the attention reads as value and query: the LSTM's output, or a copy of it given as an input. */
function config(valueFrom: 'enc' | 'ex', queryFrom: 'dec' | 'dx') {
  const ins = ['xe', 'xd', ...(valueFrom === 'ex' ? ['ex'] : []), ...(queryFrom === 'dx' ? ['dx'] : [])];
  return functional(
    [
      input('xe', [Te, I]),
      input('xd', [Td, I]),
      ...(valueFrom === 'ex' ? [input('ex', [Te, U])] : []),
      ...(queryFrom === 'dx' ? [input('dx', [Td, U])] : []),
      layer('LSTM', 'enc', { units: U, return_sequences: true, return_state: true }, [kt('xe')]),
      layer('LSTM', 'dec', { units: U, return_sequences: true }, [kt('xd')], {
        initial_state: [kt('enc', 1), kt('enc', 2)],
      }),
      layer('Attention', 'att', { use_scale: false, score_mode: 'dot', dropout: 0 }, [[kt(queryFrom), kt(valueFrom)]]),
      layer('Concatenate', 'ctx', { axis: -1 }, [[kt('att'), kt('dec')]]),
      layer('GlobalAveragePooling1D', 'gap', {}, [kt('ctx')]),
      layer('Dense', 'out', { units: 2 }, [kt('gap')]),
    ],
    ins,
    ['out'],
  );
}

describe('encoder–decoder with Attention([decoder, encoder])', () => {
  it("both LSTMs' attention parts agree with finite differences; the decoder's other reader is Concatenate", () => {
    const m = withWeights(config('enc', 'dec'), null, 29);
    const r = rng(37);
    const xe = randTensor([B, Te, I], r),
      xd = randTensor([B, Td, I], r),
      y = randTensor([B, 2], r);
    const halves = splitOf(m, [xe, xd], y);
    expect(halves.map((h) => [h.id, h.consumers])).toEqual([
      ['dec', ['att']],
      ['enc', ['att']],
    ]);
    const [dec, enc] = halves;
    const copy = (h: Float64Array, T: number): Tensor => ({ shape: [B, T, U], data: Float64Array.from(h) });
    const encH = lstmStates(m, [xe, xd], y, 'enc'),
      decH = lstmStates(m, [xe, xd], y, 'dec');
    const viaEnc = lossFd(withWeights(config('ex', 'dec'), m), [xe, xd, copy(encH, Te)], y, 2, 1e-5);
    const viaDec = lossFd(withWeights(config('enc', 'dx'), m), [xe, xd, copy(decH, Td)], y, 2, 1e-5);
    const errors = { encoder: relErr(enc!.attention, viaEnc), decoder: relErr(dec!.attention, viaDec) };
    console.log('attention-seq2seq FD relative errors:', JSON.stringify(errors));
    expect(errors.encoder).toBeLessThan(1e-7);
    expect(errors.decoder).toBeLessThan(1e-7);
    // The encoder's only reader of h is the attention; the decoder's also feeds Concatenate directly.
    expect(maxAbs(enc!.other)).toBeLessThanOrEqual(1e-12);
    expect(maxAbs(dec!.other)).toBeGreaterThan(1e-3);
    // The encoder's last step: nothing from a later step, but its states start the decoder.
    const last = Float64Array.from(
      { length: B * U },
      (_, i) => enc!.recurrence[(Math.floor(i / U) * Te + Te - 1) * U + (i % U)]!,
    );
    expect(maxAbs(last)).toBeGreaterThan(1e-4);
  });
});
