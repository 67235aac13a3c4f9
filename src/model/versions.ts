// Which program wrote a model file, and what that program meant by a config key
// that is missing or by a name whose meaning changed between versions
// (docs/keras-versions.md). The writer, not the reader, decides: Keras 3 reads an old
// "hard_sigmoid" with slope 1/6, which silently changes an old model; rnnscope keeps the
// writer's meaning.
//
// Two answers come from the one reading of the version string here:
//   writerProfile  the config dialect (defaults, hard_sigmoid slope, Bidirectional rules) of the
//                  program that wrote the config;
//   writerFamily   whose numerics the model follows (ModelMeta.writer: losses, masks, weight layout);
//                  the same family, except that a TF.js model.json is 'tfjs' whatever Keras the
//                  converter read.

import { ModelError } from './errors.js';
import { msg } from './messages.js';
import type { WriterFamily } from './types.js';

export type { WriterFamily } from './types.js';

export interface WriterProfile {
  family: WriterFamily;
  /** The version string as recorded. */
  raw: string;
  major: number;
  minor: number;
  /** hard_sigmoid(x) = clip(slope·x + 0.5, 0, 1): 1/6 for Keras 3, 0.2 for everyone else (docs/keras-versions.md,
   * 'hard_sigmoid'). */
  hardSigmoidSlope: number;
  /** LSTM/GRU recurrent_activation when the key is missing (docs/keras-versions.md, 'Defaults by version'). */
  defaultRecurrentActivation: 'hard_sigmoid' | 'sigmoid';
  /** GRU reset_after when the key is missing (docs/keras-versions.md, 'Defaults by version'). */
  defaultResetAfter: boolean;
  /** Bidirectional sets zero_output_for_mask = return_sequences on both halves (tf.keras, Keras 3; docs/masking.md,
   * 'Bidirectional'). */
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
  const v = readVersion(raw);
  if (v === null) throw new ModelError(msg.badKerasVersion(raw));
  return profile(v.family, raw, v.major, v.minor);
}

/**
 * Whose numerics a model loaded by `format` from a file recording `version` follows: 'tfjs' for TF.js formats,
 * else writerProfile's family; a version that is not one falls back on the format's own writer (Keras 3 for
 * .keras, tf.keras otherwise). Never throws.
 */
export function writerFamily(version: string, format: string): WriterFamily {
  if (format.startsWith('tfjs')) return 'tfjs';
  return readVersion(String(version ?? '').trim())?.family ?? (format === 'keras-v3' ? 'keras3' : 'tf.keras');
}

function readVersion(raw: string): { family: WriterFamily; major: number; minor: number } | null {
  if (/^tfjs/i.test(raw) || /tensorflow\.?js/i.test(raw)) {
    // tfjs-layers: recurrentActivation default 'hardSigmoid', hardSigmoid = 0.2x + 0.5, GRU must
    // have reset_after false, Bidirectional.fromConfig does not force zero_output_for_mask.
    const m = /(\d+)(?:\.(\d+))?/.exec(raw);
    return { family: 'tfjs', major: m ? +m[1]! : 0, minor: m?.[2] ? +m[2] : 0 };
  }
  const m = /^(?:keras\s*v?)?(\d+)(?:\.(\d+))?(?:\.(\d+))?(.*)$/i.exec(raw);
  if (!m) return null;
  const major = +m[1]!,
    minor = m[2] ? +m[2] : 0;
  const suffix = m[4] ?? '';
  if (major === 1) return { family: 'keras1', major, minor };
  if (major === 2) {
    // "-tf" marks tf.keras inside TensorFlow ("2.2.4-tf" was written by TF 1.13–2.1, "2.3.0-tf" by
    // TF 2.2–2.3). TF 1.x tf.keras used the v1 LSTM/GRU (hard_sigmoid, reset_after=False) but always
    // wrote both keys, so only the Bidirectional rule matters here, and tf.keras forced it throughout.
    // Multi-backend Keras 2.4.0 is a thin wrapper over tf.keras.
    return { family: /-tf/i.test(suffix) || minor >= 4 ? 'tf.keras' : 'keras2', major, minor };
  }
  if (major >= 3) return { family: 'keras3', major, minor };
  return null;
}

function profile(family: WriterFamily, raw: string, major: number, minor: number): WriterProfile {
  switch (family) {
    case 'keras1':
      // Keras 1.2.2 keras/layers/recurrent.py: inner_activation='hard_sigmoid'; GRU is reset-before.
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
      // 2.0–2.2: hard_sigmoid; 2.3: sigmoid (Keras 2.3.1 keras/layers/recurrent.py). reset_after=False.
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
