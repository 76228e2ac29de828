// Timings of the learning-rate schedules, read from their params: a horizon
// that shows a schedule's whole shape, the steps where it changes regime, and
// the params that fit another schedule to the same horizon and peak.
import type { OpMeta, Params } from '../engine/index.js';

/** Longest horizon drawn (the engine could go further; the plot would not show more). */
export const MAX_STEPS = 20000;
const MAX_MARKS = 12;

/** What happens at a marked step. */
export type ScheduleEvent = 'drop' | 'half' | 'tmax' | 'restart' | 'warm' | 'peak' | 'end' | 'low';

const num = (p: Params, k: string, d = 0): number => (typeof p[k] === 'number' ? (p[k] as number) : d);

/** A horizon that shows the schedule's whole shape, from its own params. */
export function autoHorizon(id: string, p: Params): number {
  let n: number;
  switch (id) {
    case 'step_lr':
      n = 4 * num(p, 'step_size', 10);
      break;
    case 'exponential_lr': {
      const g = num(p, 'gamma', 0.95);
      n = g > 0 && g < 1 ? Math.ceil(Math.log(0.01) / Math.log(g)) : 100;
      break;
    }
    case 'cosine_annealing_lr':
      n = 2 * num(p, 't_max', 10) + 1;
      break;
    case 'cosine_annealing_warm_restarts': {
      const t0 = num(p, 't_0', 10);
      const m = num(p, 't_mult', 1);
      n = t0 * (1 + m + m * m);
      break;
    }
    case 'linear_lr':
      n = 2 * num(p, 'total_iters', 5);
      break;
    case 'one_cycle_lr':
      n = num(p, 'total_steps', 100);
      break;
    case 'warmup_cosine':
      n = Math.ceil(1.2 * num(p, 'total_steps', 100));
      break;
    case 'noam':
      n = 5 * num(p, 'warmup_steps', 4000);
      break;
    default:
      n = 100;
  }
  return Math.min(MAX_STEPS, Math.max(10, Math.round(n)));
}

/** Registry defaults of a schedule with its timings fitted to `n` steps and its peak set to `peak`. */
export function fitted(op: OpMeta, n: number, peak: number): Params {
  const p: Params = {};
  for (const q of op.params) if (q.name !== 'steps') p[q.name] = q.default;
  const r = (v: number) => Math.max(1, Math.round(v));
  switch (op.id) {
    case 'step_lr':
      return { ...p, lr: peak, step_size: r(n / 3) };
    case 'exponential_lr':
      return { ...p, lr: peak, gamma: Math.fround(Math.pow(0.01, 1 / n)) };
    case 'cosine_annealing_lr':
      return { ...p, lr: peak, t_max: r(n - 1) };
    case 'cosine_annealing_warm_restarts':
      return { ...p, lr: peak, t_0: r(n / 7), t_mult: 2 };
    case 'linear_lr':
      return { ...p, lr: peak, total_iters: r(n / 5) };
    case 'one_cycle_lr':
      return { ...p, max_lr: peak, total_steps: Math.max(2, n) };
    case 'warmup_cosine':
      return { ...p, lr: peak, warmup_steps: r(n / 10), total_steps: n };
    case 'noam': {
      const w = r(n / 10);
      return { ...p, warmup_steps: w, factor: Math.fround(peak * Math.sqrt(512 * w)), d_model: 512 };
    }
    default:
      return p;
  }
}

/** Steps where the schedule changes regime, with what happens there. */
export function events(id: string, p: Params, n: number): { t: number; ev: ScheduleEvent }[] {
  const out: { t: number; ev: ScheduleEvent }[] = [];
  const add = (t: number, ev: ScheduleEvent) => {
    if (t >= 0 && t < n && out.length < MAX_MARKS) out.push({ t: Math.round(t), ev });
  };
  switch (id) {
    case 'step_lr': {
      const s = Math.max(1, num(p, 'step_size', 10));
      for (let t = s; t < n; t += s) add(t, 'drop');
      break;
    }
    case 'exponential_lr': {
      const g = num(p, 'gamma', 0.95);
      if (g > 0 && g < 1) add(Math.log(0.5) / Math.log(g), 'half');
      break;
    }
    case 'cosine_annealing_lr':
      add(num(p, 't_max', 10), 'tmax');
      break;
    case 'cosine_annealing_warm_restarts': {
      let len = Math.max(1, num(p, 't_0', 10));
      const m = Math.max(1, num(p, 't_mult', 1));
      for (let t = len; t < n; len *= m, t += len) add(t, 'restart');
      break;
    }
    case 'linear_lr':
      add(num(p, 'total_iters', 5), 'end');
      break;
    case 'one_cycle_lr': {
      const total = num(p, 'total_steps', 100);
      const up = num(p, 'pct_start', 0.3) * total - 1;
      add(up, 'peak');
      if (num(p, 'three_phase') === 1) add(2 * up, 'low');
      break;
    }
    case 'warmup_cosine':
      add(num(p, 'warmup_steps', 10), 'warm');
      add(num(p, 'total_steps', 100), 'end');
      break;
    case 'noam':
      add(num(p, 'warmup_steps', 4000) - 1, 'peak');
      break;
  }
  return out;
}
