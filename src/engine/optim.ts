// Keras 3 optimizers: SGD, Adam, AdamW, RMSprop, Adagrad.
//
// Update rules and defaults are those of keras/src/optimizers/{sgd,adam,adamw,
// rmsprop,adagrad}.py; the order of one step is that of
// base_optimizer.py _backend_apply_gradients:
//   1. clip the gradients (clipnorm per variable, else global_clipnorm, else clipvalue);
//   2. decoupled weight decay, every variable: w ← w − w·wd·lr;
//   3. the optimizer's update_step with local step t = iterations + 1;
//   4. iterations += 1.
// Keras note: Keras 1/2 `lr` is read as learning_rate; `decay` is ignored as in
// Keras 3 (base_optimizer.py warns "no longer supported"). Keras 2 and tf.keras
// RMSprop/Adagrad place epsilon differently; this module applies Keras 3's rules.

import { ModelError, EngineError } from '../model/errors.js';
import type { Arr } from './tensor.js';

export interface Optimizer {
  step(params: Arr[], grads: Arr[]): void;
  readonly iterations: number;
}

interface Common {
  lr: number;
  weightDecay: number | null;
  clipnorm: number | null;
  clipvalue: number | null;
  globalClipnorm: number | null;
}

/** update(i, w, g, t): one variable's update_step with gradient g (already clipped), t = iterations + 1. */
type Update = (i: number, w: Arr, g: Arr, t: number, gs: number, cv: number) => void;

/** Effective gradient element: g·scale, then clipvalue (only one of the clip options is ever set). */
function eff(g: number, gs: number, cv: number): number {
  const x = g * gs;
  return cv > 0 ? (x < -cv ? -cv : Math.min(x, cv)) : x;
}

class KerasOptimizer implements Optimizer {
  private t = 0;
  private sizes: number[] | null = null;
  constructor(
    private readonly common: Common,
    private readonly update: Update,
    private readonly name: string,
  ) {}

  get iterations(): number {
    return this.t;
  }

  step(params: Arr[], grads: Arr[]): void {
    if (params.length !== grads.length) {
      throw new EngineError(
        `${this.name}.step got ${params.length} parameters and ${grads.length} gradients; expected one gradient per parameter; pass matching lists.`,
      );
    }
    if (this.sizes === null) this.sizes = params.map((p) => p.length);
    for (let i = 0; i < params.length; i++) {
      if (params[i].length !== this.sizes[i] || grads[i].length !== params[i].length) {
        throw new EngineError(
          `${this.name}.step: parameter ${i} has ${params[i].length} values and gradient ${grads[i].length} (first step: ${this.sizes[i] ?? 'none'}); expected the same variables on every step; create a new optimizer for a new model.`,
        );
      }
    }
    const c = this.common;
    // Global clip scale: clip·min(1/‖g‖, 1/clip) (base_optimizer.py clip_by_global_norm); NaN for a non-finite norm.
    let globalScale = 1;
    if (c.globalClipnorm !== null && c.globalClipnorm > 0) {
      let ss = 0;
      for (const g of grads) for (let j = 0; j < g.length; j++) ss += g[j] * g[j];
      const norm = Math.sqrt(ss);
      globalScale = c.globalClipnorm * Math.min(1 / norm, 1 / c.globalClipnorm) + (norm - norm);
    }
    const cv =
      c.clipnorm === null && c.globalClipnorm === null && c.clipvalue !== null && c.clipvalue > 0 ? c.clipvalue : 0;
    const tNext = this.t + 1;
    for (let i = 0; i < params.length; i++) {
      const w = params[i];
      const g = grads[i];
      let gs = globalScale;
      if (c.clipnorm !== null && c.clipnorm > 0) {
        // values·clipnorm / max(‖values‖, clipnorm) (base_optimizer.py _clip_by_norm).
        let ss = 0;
        for (let j = 0; j < g.length; j++) ss += g[j] * g[j];
        gs = c.clipnorm / Math.max(Math.sqrt(ss), c.clipnorm);
      }
      if (c.weightDecay !== null) {
        const k = c.weightDecay * c.lr;
        for (let j = 0; j < w.length; j++) w[j] -= w[j] * k;
      }
      this.update(i, w, g, tNext, gs, cv);
    }
    this.t = tNext;
  }
}

/** Per-variable state arrays, created on the first step (float64: Keras keeps them in the variable dtype). */
function slots(): (i: number, n: number) => Float64Array {
  const list: Float64Array[] = [];
  return (i, n) => (list[i] ??= new Float64Array(n));
}

function readNum(cfg: Record<string, unknown>, key: string, dflt: number, cls: string): number {
  const v = cfg[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'object') {
    throw new ModelError(
      `${cls} ${key} is a serialized object (${String((v as Record<string, unknown>)['class_name'] ?? 'schedule')}); expected a number; learning-rate schedules are not supported, pass --lr.`,
    );
  }
  throw new ModelError(`${cls} ${key} is ${JSON.stringify(v)}; expected a finite number; fix the optimizer config.`);
}

function optNum(cfg: Record<string, unknown>, key: string, cls: string): number | null {
  return cfg[key] === undefined || cfg[key] === null ? null : readNum(cfg, key, 0, cls);
}

/** Build an optimizer from a Keras class name and config (Keras 3, tf.keras, Keras 1/2 and TF.js spellings). */
export function makeOptimizer(cfg: { className: string; config: Record<string, unknown> }): Optimizer {
  const cls = cfg.className.replace(/^Custom>/, '');
  const key = cls.toLowerCase();
  const c = cfg.config ?? {};
  const lrDefault = key === 'sgd' ? 0.01 : 0.001;
  const lr =
    c['learning_rate'] !== undefined ? readNum(c, 'learning_rate', lrDefault, cls) : readNum(c, 'lr', lrDefault, cls);
  const common: Common = {
    lr,
    weightDecay: key === 'adamw' ? readNum(c, 'weight_decay', 0.004, cls) : optNum(c, 'weight_decay', cls),
    clipnorm: optNum(c, 'clipnorm', cls),
    clipvalue: optNum(c, 'clipvalue', cls),
    globalClipnorm: optNum(c, 'global_clipnorm', cls),
  };
  const set = [common.clipnorm, common.clipvalue, common.globalClipnorm].filter((v) => v !== null).length;
  if (set > 1) {
    throw new ModelError(
      `${cls} sets ${set} of clipnorm, clipvalue and global_clipnorm; Keras allows only one; keep one of them.`,
    );
  }
  const accum = c['gradient_accumulation_steps'];
  if (accum !== undefined && accum !== null) {
    throw new ModelError(
      `${cls} uses gradient_accumulation_steps=${String(accum)}; gradient accumulation is not supported; remove it from the optimizer config.`,
    );
  }
  if (c['use_ema'] === true && c['ema_overwrite_frequency'] !== undefined && c['ema_overwrite_frequency'] !== null) {
    throw new ModelError(
      `${cls} overwrites weights with their moving average (use_ema with ema_overwrite_frequency); this is not supported; disable use_ema.`,
    );
  }
  switch (key) {
    case 'sgd': {
      const mu = readNum(c, 'momentum', 0, cls);
      const nesterov = c['nesterov'] === true;
      const mom = slots();
      return new KerasOptimizer(
        common,
        (i, w, g, _t, gs, cv) => {
          if (mu === 0) {
            for (let j = 0; j < w.length; j++) w[j] -= eff(g[j], gs, cv) * lr;
            return;
          }
          const m = mom(i, w.length);
          for (let j = 0; j < w.length; j++) {
            const gj = eff(g[j], gs, cv);
            m[j] = m[j] * mu - gj * lr;
            w[j] += nesterov ? m[j] * mu - gj * lr : m[j];
          }
        },
        cls,
      );
    }
    case 'adam':
    case 'adamw': {
      const b1 = readNum(c, 'beta_1', 0.9, cls);
      const b2 = readNum(c, 'beta_2', 0.999, cls);
      const eps = readNum(c, 'epsilon', 1e-7, cls);
      const amsgrad = c['amsgrad'] === true;
      const ms = slots();
      const vs = slots();
      const vh = slots();
      return new KerasOptimizer(
        common,
        (i, w, g, t, gs, cv) => {
          const m = ms(i, w.length);
          const v = vs(i, w.length);
          const vhat = amsgrad ? vh(i, w.length) : v;
          // Keras: alpha = lr·√(1 − β2^t)/(1 − β1^t); w −= m·alpha/(√v + ε) (ε outside the bias correction).
          const alpha = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
          for (let j = 0; j < w.length; j++) {
            const gj = eff(g[j], gs, cv);
            m[j] += (gj - m[j]) * (1 - b1);
            v[j] += (gj * gj - v[j]) * (1 - b2);
            if (amsgrad) vhat[j] = Math.max(vhat[j], v[j]);
            w[j] -= (m[j] * alpha) / (Math.sqrt(vhat[j]) + eps);
          }
        },
        cls,
      );
    }
    case 'rmsprop': {
      const rho = readNum(c, 'rho', 0.9, cls);
      const mu = readNum(c, 'momentum', 0, cls);
      const eps = readNum(c, 'epsilon', 1e-7, cls);
      const centered = c['centered'] === true;
      const vel = slots();
      const mom = slots();
      const avg = slots();
      return new KerasOptimizer(
        common,
        (i, w, g, _t, gs, cv) => {
          const v = vel(i, w.length);
          const m = mu > 0 ? mom(i, w.length) : null;
          const a = centered ? avg(i, w.length) : null;
          for (let j = 0; j < w.length; j++) {
            const gj = eff(g[j], gs, cv);
            v[j] = rho * v[j] + (1 - rho) * gj * gj;
            let den = v[j] + eps;
            if (a !== null) {
              a[j] = rho * a[j] + (1 - rho) * gj;
              den = v[j] - a[j] * a[j] + eps;
            }
            const inc = (lr * gj) / Math.sqrt(den);
            if (m !== null) {
              m[j] = mu * m[j] + inc;
              w[j] -= m[j];
            } else w[j] -= inc;
          }
        },
        cls,
      );
    }
    case 'adagrad': {
      const init = readNum(c, 'initial_accumulator_value', 0.1, cls);
      const eps = readNum(c, 'epsilon', 1e-7, cls);
      const acc: Float64Array[] = [];
      return new KerasOptimizer(
        common,
        (i, w, g, _t, gs, cv) => {
          const s = (acc[i] ??= new Float64Array(w.length).fill(init));
          for (let j = 0; j < w.length; j++) {
            const gj = eff(g[j], gs, cv);
            s[j] += gj * gj;
            w[j] -= (lr * gj) / Math.sqrt(s[j] + eps);
          }
        },
        cls,
      );
    }
  }
  throw new ModelError(
    `Optimizer '${cfg.className}' is not supported; expected one of SGD, Adam, AdamW, RMSprop, Adagrad; pass --optimizer with a supported one.`,
  );
}
