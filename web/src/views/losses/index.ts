// Losses: each sub-view shows the entries it lists (with their per-entry
// settings in its own table), and a loss none of them lists gets the generic
// view, so a new registry row is live without an edit here. The sub-views are
// regression (with the draggable-outlier fit), binary (probability, logit,
// hinge; focal against cross-entropy), multi-class rows, KL, the pair and
// triplet losses on draggable points, InfoNCE and CTC.
import { familyView } from '../dispatch.js';
import { binary } from './binary.js';
import { ctc } from './ctc.js';
import { infoNce } from './info-nce.js';
import { kl } from './kl.js';
import { cosineEmbedding, marginRanking, triplet } from './pairs.js';
import { regression } from './regression.js';
import { rows } from './rows.js';

/** Builds the losses view of one entry (the generic view for an entry no sub-view lists). */
export const createView = familyView([
  regression,
  binary,
  rows,
  kl,
  marginRanking,
  cosineEmbedding,
  triplet,
  infoNce,
  ctc,
]);
