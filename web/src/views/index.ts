// Which live view shows which family, and the pages that are not registry
// entries. Views load on demand, so the first page does not pay for every
// family's code. Each family's module draws the entries it knows (dispatch.ts)
// and hands any other to the generic view, like a family without a module.
import { CHAIN_RULE_LESSON, FORMULA_LESSON, TRAIN_LESSON } from './lessons.js';
import type { LessonFactory, LessonMeta, ViewFactory } from './view.js';

type Loader = () => Promise<{ createView: ViewFactory }>;
/** A lesson: what it is (known at once) and its code (loaded when opened). */
export interface Lesson {
  meta: LessonMeta;
  load: () => Promise<{ createLesson: LessonFactory }>;
}

/** Family id (as in the registry) → its view module. */
export const VIEWS: Record<string, Loader> = {
  activations: () => import('./activations.js'),
  losses: () => import('./losses/index.js'),
  distances: () => import('./distances.js'),
  attention: () => import('./attention.js'),
  regression: () => import('./regression.js'),
  graph: () => import('./graph.js'),
  normalization: () => import('./normalization.js'),
  numerics: () => import('./numerics.js'),
  metrics: () => import('./metrics.js'),
  regularization: () => import('./regularization.js'),
  optimizers: () => import('./optimizers.js'),
  schedules: () => import('./schedules.js'),
  initialization: () => import('./initialization.js'),
};

/** Lesson page id → what it is and its module. */
export const LESSONS: Record<string, Lesson> = {
  formula: { meta: FORMULA_LESSON, load: () => import('./formula-page.js') },
  chain_rule: { meta: CHAIN_RULE_LESSON, load: () => import('./chain-rule.js') },
  train: { meta: TRAIN_LESSON, load: () => import('../train/page.js') },
};
