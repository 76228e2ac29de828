// The row kernels of attention (Highway, core/src/ops/attention-inl.h),
// dispatched to the best target: one masked, scaled softmax and its backward
// for every user -- the catalogue's scaled_dot_product_attention and
// multi_head_attention (attention.cc) and the GPT's attention layer
// (model/attention.cc). Each call handles one query's row of scores.
#ifndef DLMATH_SRC_OPS_ATTENTION_H_
#define DLMATH_SRC_OPS_ATTENTION_H_

#include <cstddef>

namespace dlmath {

// How a mask entry acts on a score: added (kAddMask); 0 hides the key
// (kKeepNonzero, scaled_dot_product_attention's boolean mask); nonzero hides
// it (kHideNonzero, nn.MultiheadAttention's boolean masks and key padding).
enum AttentionMaskKind { kAddMask = 0, kKeepNonzero = 1, kHideNonzero = 2 };

// s [cols] in place: y = softmax over j < n of scale * s_j with mask[j] and
// key_mask[j] applied by kind (either may be null); y_j = 0 for j >= n (the
// keys a causal query does not see); a row with every key hidden becomes
// zeros. Error <= 3e-7 * max(1, y).
void AttentionSoftmaxRow(float* s, const float* mask, const float* key_mask,
                         size_t n, size_t cols, float scale, int kind);

// g [n] in place: g = scale * y * (g - <g, y>) (dL/dy in, dL/d(raw scores)
// out). Entries from n on are not touched.
void AttentionSoftmaxBackwardRow(const float* y, float* g, size_t n,
                                 float scale);

}  // namespace dlmath

#endif  // DLMATH_SRC_OPS_ATTENTION_H_
