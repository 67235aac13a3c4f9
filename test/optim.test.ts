import { describe, expect, it } from 'vitest';
import { makeOptimizer } from '../src/engine/optim.js';
import { ModelError, EngineError } from '../src/model/errors.js';
import { maxRelErr } from './helpers/numerics-fd.js';

// Final parameters after 5 steps, printed by `/usr/bin/python3 scripts/optim-oracles.py`
// (SGD: torch.optim.SGD 1.13; others: numpy transcription of keras/src/optimizers/*.py; float64).
const ORACLE: Record<string, number[]> = {
  sgd: [
    0.44537484057400895, -0.22581700394410095, 0.6324357565414105, 0.1268156876826468, -0.963064317717836,
    0.5274782969555333, 0.04290862335038685,
  ],
  sgd_momentum: [
    -0.039939454496197534, 0.42139783113661183, -0.7834167723970469, 0.37572290383900475, 1.0764944758913426,
    -0.9772882813342686, -0.04232227325893123,
  ],
  sgd_nesterov: [
    0.001972234926721887, 0.4097843603669786, -0.7806295624907766, 0.3369401459927306, 1.0145983439711077,
    -0.9271036700200249, -0.005014969970863334,
  ],
  adam: [
    0.4513948855932944, -0.2500106047421135, 0.7499806027402307, 0.14627735470727377, -1.1501889197908342,
    0.6500628640928909, 0.013305181216307423,
  ],
  'adam_lr0.3': [
    -0.07504105592072448, 0.5606988290523411, -0.5733344393081556, 0.24213709808840556, 0.21834189855493968,
    -0.6706567735068889, 0.2709488760746196,
  ],
  'adam_amsgrad_lr0.3': [
    -0.07504105592072448, 0.5606982256691109, -0.5733344393081556, 0.24213709808840556, 0.21834189855493968,
    -0.6705699899647317, 0.2709488760746196,
  ],
  adamw: [
    0.451299550486872, -0.2499546739993203, 0.7498247197943172, 0.14625398893258404, -1.1499531049566756,
    0.6499269850088897, 0.013299622237025873,
  ],
  adam_clipnorm: [
    0.4513021287904933, -0.2500578331592044, 0.7499356229008732, 0.14640471032693114, -1.1500487364833514,
    0.6499591271308417, 0.01364272656566057,
  ],
  adam_clipvalue: [
    0.4500002555864144, -0.25000025558641437, 0.7500002555864144, 0.149017429489063, -1.1500002555864144,
    0.6500002555864143, 0.013311350819682734,
  ],
  adam_global_clipnorm: [
    0.45117453239205296, -0.24999191024520565, 0.7499046171088884, 0.14653143572290867, -1.1500732772600104,
    0.6499875305330794, 0.01349944241514919,
  ],
  rmsprop: [
    0.4105317414574011, -0.19420760374169424, 0.6932826986641745, 0.17126406011355824, -1.0966831300750794,
    0.5957148432801082, 0.025071203918113162,
  ],
  rmsprop_centered_momentum: [
    0.3358725530602931, -0.10047189010132743, 0.5985310762345173, 0.22483565710487627, -1.0039110649557526,
    0.5013119314786358, -0.00624004600581643,
  ],
  adagrad: [
    0.27729276071309705, -0.012469350926542236, 0.48874587544367337, 0.23389761409523233, -0.8958816531266701,
    0.39572954884510425, 0.04932146283370887,
  ],
  adagrad_wd: [
    0.27590050012018963, -0.01186464106178248, 0.48568198432080645, 0.23324801530626418, -0.8908408766223787,
    0.3931520157825753, 0.04936621174245048,
  ],
};

const W0 = [
  [0.5, -0.3, 0.8, 0.1],
  [-1.2, 0.7, 0.05],
];
const C = [
  [0.1, 0.2, -0.4, 0.3],
  [0.5, -0.5, 0.0],
];

/** Same gradient rule as the script: g[j] = 3 (w[j] − c[j]) + 0.3 cos(t + j + 10 k). */
function run(className: string, config: Record<string, unknown>, f32 = false): number[] {
  const opt = makeOptimizer({ className, config });
  const ws = W0.map((w) => (f32 ? Float32Array.from(w) : Float64Array.from(w)));
  const gs = ws.map((w) => new Float64Array(w.length));
  for (let t = 0; t < 5; t++) {
    ws.forEach((w, k) => {
      for (let j = 0; j < w.length; j++) gs[k][j] = 3 * (w[j] - C[k][j]) + 0.3 * Math.cos(t + j + 10 * k);
    });
    opt.step(ws, gs);
  }
  expect(opt.iterations).toBe(5);
  return ws.flatMap((w) => Array.from(w));
}

describe('optimizers against reference trajectories', () => {
  const cases: [string, string, Record<string, unknown>][] = [
    ['sgd', 'SGD', {}],
    ['sgd', 'SGD', { lr: 0.01, decay: 0.0 }],
    ['sgd_momentum', 'SGD', { learning_rate: 0.05, momentum: 0.9 }],
    ['sgd_nesterov', 'SGD', { learning_rate: 0.05, momentum: 0.9, nesterov: true }],
    ['adam', 'Adam', { learning_rate: 0.01 }],
    [
      'adam',
      'Custom>Adam',
      { learning_rate: 0.01, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: false, is_legacy_optimizer: false },
    ],
    ['adam_lr0.3', 'Adam', { learning_rate: 0.3 }],
    ['adam_amsgrad_lr0.3', 'Adam', { learning_rate: 0.3, amsgrad: true }],
    ['adamw', 'AdamW', { learning_rate: 0.01 }],
    ['adamw', 'Adam', { learning_rate: 0.01, weight_decay: 0.004 }],
    ['adam_clipnorm', 'Adam', { learning_rate: 0.01, clipnorm: 0.5 }],
    ['adam_clipvalue', 'Adam', { learning_rate: 0.01, clipvalue: 0.4 }],
    ['adam_global_clipnorm', 'Adam', { learning_rate: 0.01, global_clipnorm: 1.0 }],
    ['rmsprop', 'RMSprop', { learning_rate: 0.01 }],
    ['rmsprop', 'RMSProp', { lr: 0.01 }],
    ['rmsprop_centered_momentum', 'RMSprop', { learning_rate: 0.01, momentum: 0.5, centered: true }],
    ['adagrad', 'Adagrad', { learning_rate: 0.1 }],
    ['adagrad_wd', 'Adagrad', { learning_rate: 0.1, weight_decay: 0.01 }],
  ];
  for (const [key, cls, config] of cases) {
    it(`${key} (${cls} ${JSON.stringify(config)})`, () => {
      expect(maxRelErr(run(cls, config), ORACLE[key], 1e-3)).toBeLessThan(1e-12);
    });
  }
  it('amsgrad changes the trajectory (the oracle pair differs)', () => {
    expect(maxRelErr(ORACLE['adam_lr0.3'], ORACLE['adam_amsgrad_lr0.3'], 1e-3)).toBeGreaterThan(1e-5);
  });
  it('float32 parameters follow the float64 trajectory to float32 precision', () => {
    expect(maxRelErr(run('Adam', { learning_rate: 0.01 }, true), ORACLE['adam'], 1e-2)).toBeLessThan(1e-6);
  });
});

describe('configuration errors', () => {
  it('rejects unknown optimizers, several clip options and schedules', () => {
    expect(() => makeOptimizer({ className: 'Adadelta', config: {} })).toThrow(ModelError);
    expect(() => makeOptimizer({ className: 'Adam', config: { clipnorm: 1, clipvalue: 1 } })).toThrow(
      'Adam sets 2 of clipnorm, clipvalue and global_clipnorm; Keras allows only one; keep one of them.',
    );
    expect(() =>
      makeOptimizer({ className: 'Adam', config: { learning_rate: { class_name: 'ExponentialDecay', config: {} } } }),
    ).toThrow(/schedules are not supported/);
    expect(() => makeOptimizer({ className: 'Adam', config: { gradient_accumulation_steps: 4 } })).toThrow(ModelError);
  });
  it('step checks that parameters and gradients match', () => {
    const opt = makeOptimizer({ className: 'SGD', config: {} });
    expect(() => opt.step([new Float64Array(2)], [])).toThrow(EngineError);
    opt.step([new Float64Array(2)], [new Float64Array(2)]);
    expect(() => opt.step([new Float64Array(3)], [new Float64Array(3)])).toThrow(EngineError);
  });
});
