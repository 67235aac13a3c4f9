// Which program wrote a model file, and what that program meant by a config key
// that is missing or by a name whose meaning changed between versions.
//
// keras-formats.md §4.1 (hard_sigmoid slope), §4.2 (defaults by version), §4.8
// (Bidirectional forcing zero_output_for_mask). The writer, not the reader,
// decides: Keras 3 reads an old "hard_sigmoid" with slope 1/6, which silently
// changes an old model; rnnscope keeps the writer's meaning.

import { ModelError } from './errors.js';
import { msg } from './messages.js';

export type WriterFamily = 'keras1' | 'keras2' | 'tf.keras' | 'keras3' | 'tfjs';

export interface WriterProfile {
  family: WriterFamily;
  /** The version string as recorded. */
  raw: string;
  major: number;
  minor: number;
  /** hard_sigmoid(x) = clip(slope·x + 0.5, 0, 1): 1/6 for Keras 3, 0.2 for everyone else (§4.1). */
  hardSigmoidSlope: number;
  /** LSTM/GRU recurrent_activation when the key is missing (§4.2). */
  defaultRecurrentActivation: 'hard_sigmoid' | 'sigmoid';
  /** GRU reset_after when the key is missing (§4.2). */
  defaultResetAfter: boolean;
  /** Bidirectional sets zero_output_for_mask = return_sequences on both halves (tf.keras, Keras 3; §4.8). */
  bidiForcesZeroOutput: boolean;
  /** Bidirectional sublayer names: Keras 3 strips an existing forward_/backward_ prefix before adding one. */
  bidiStripsPrefix: boolean;
}

/**
 * Resolve the writer from the recorded version string.
 * Accepted: "1", "1.2.2", "2.1.3", "2.2.4-tf", "2.13.1", "3.10.0", "keras v2.1.5" (TF.js converter
 * `generatedBy`), "tfjs-layers 4.22.0" (tf.LayersModel.save).
 */
export function writerProfile(version: string): WriterProfile {
  const raw = String(version ?? '').trim();
  if (/^tfjs/i.test(raw) || /tensorflow\.?js/i.test(raw)) {
    // tfjs-layers: recurrentActivation default 'hardSigmoid', hardSigmoid = 0.2x + 0.5, GRU must
    // have reset_after false, Bidirectional.fromConfig does not force zero_output_for_mask
    // (TFJS:tfjs-layers/src/layers/recurrent.ts#L1324-1340, wrappers.ts#L247-287; §3.4).
    const m = /(\d+)(?:\.(\d+))?/.exec(raw);
    return profile('tfjs', raw, m ? +m[1]! : 0, m?.[2] ? +m[2] : 0);
  }
  const m = /^(?:keras\s*v?)?(\d+)(?:\.(\d+))?(?:\.(\d+))?(.*)$/i.exec(raw);
  if (!m) throw new ModelError(msg.badKerasVersion(raw));
  const major = +m[1]!,
    minor = m[2] ? +m[2] : 0;
  const suffix = m[4] ?? '';
  if (major === 1) return profile('keras1', raw, major, minor);
  if (major === 2) {
    // "-tf" marks tf.keras inside TensorFlow ("2.2.4-tf" was written by TF 1.13–2.1, "2.3.0-tf" by
    // TF 2.2–2.3). TF 1.x tf.keras used the v1 LSTM/GRU (hard_sigmoid, reset_after=False) but always
    // wrote both keys, so only the Bidirectional rule matters here, and tf.keras forced it throughout.
    // Multi-backend Keras 2.4.0 is a thin wrapper over tf.keras.
    if (/-tf/i.test(suffix) || minor >= 4) return profile('tf.keras', raw, major, minor);
    return profile('keras2', raw, major, minor);
  }
  if (major >= 3) return profile('keras3', raw, major, minor);
  throw new ModelError(msg.badKerasVersion(raw));
}

function profile(family: WriterFamily, raw: string, major: number, minor: number): WriterProfile {
  switch (family) {
    case 'keras1':
      // K1@1.2.2:keras/layers/recurrent.py: inner_activation='hard_sigmoid'; GRU is reset-before.
      return {
        family,
        raw,
        major,
        minor,
        hardSigmoidSlope: 0.2,
        defaultRecurrentActivation: 'hard_sigmoid',
        defaultResetAfter: false,
        bidiForcesZeroOutput: false,
        bidiStripsPrefix: false,
      };
    case 'keras2':
      // 2.0–2.2: hard_sigmoid; 2.3: sigmoid (K2@2.3.1:keras/layers/recurrent.py#L1257-1271). reset_after=False.
      return {
        family,
        raw,
        major,
        minor,
        hardSigmoidSlope: 0.2,
        defaultRecurrentActivation: minor >= 3 ? 'sigmoid' : 'hard_sigmoid',
        defaultResetAfter: false,
        bidiForcesZeroOutput: false,
        bidiStripsPrefix: false,
      };
    case 'tf.keras':
      return {
        family,
        raw,
        major,
        minor,
        hardSigmoidSlope: 0.2,
        defaultRecurrentActivation: 'sigmoid',
        defaultResetAfter: true,
        bidiForcesZeroOutput: true,
        bidiStripsPrefix: false,
      };
    case 'keras3':
      return {
        family,
        raw,
        major,
        minor,
        hardSigmoidSlope: 1 / 6,
        defaultRecurrentActivation: 'sigmoid',
        defaultResetAfter: true,
        bidiForcesZeroOutput: true,
        bidiStripsPrefix: true,
      };
    case 'tfjs':
      return {
        family,
        raw,
        major,
        minor,
        hardSigmoidSlope: 0.2,
        defaultRecurrentActivation: 'hard_sigmoid',
        defaultResetAfter: false,
        bidiForcesZeroOutput: false,
        bidiStripsPrefix: false,
      };
  }
}
