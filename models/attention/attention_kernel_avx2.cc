#include "models/attention/attention_kernel_avx2.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace dreamshot::models::internal {
namespace {

constexpr int64_t kPanelKeys = 16;  // keys per packed panel: two 8-float vectors
constexpr int kScoreRows = 6;       // 6 rows × 2 vectors = 12 accumulators
constexpr int64_t kRowBlock = 48;   // rows whose scores are live at once (multiple of 6)
constexpr int kValueVectors = 5;    // 40 output values per pass: 2 rows × 5 = 10 accumulators
constexpr int64_t kValueKeys = 64;  // keys per value block: 64 rows × 3 cache lines = 12 KiB of L1

int64_t Panels(int64_t lk) { return (lk + kPanelKeys - 1) / kPanelKeys; }
int64_t PaddedKeys(int64_t lk) { return Panels(lk) * kPanelKeys; }
// Score rows 4 KiB apart would all fall into one L1 set: offset each by a line.
int64_t ScoreStride(int64_t lk) { return PaddedKeys(lk) + 16; }

// e^x for x ≤ 0 (scores minus their row maximum): 2^n · p(r) with
// x = n·ln2 + r, |r| ≤ ln2/2, p the Cephes expf polynomial; below -87.3 the
// result flushes to 0, which is what the softmax needs.
inline __m256 ExpNonPositive(__m256 x) {
  const __m256 log2e = _mm256_set1_ps(1.44269504088896341f);
  const __m256 ln2_hi = _mm256_set1_ps(0.693359375f);
  const __m256 ln2_lo = _mm256_set1_ps(-2.12194440e-4f);
  const __m256 too_small = _mm256_cmp_ps(x, _mm256_set1_ps(-87.3f), _CMP_LT_OQ);
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.3f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, ln2_hi, x);
  r = _mm256_fnmadd_ps(n, ln2_lo, r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  const __m256 r2 = _mm256_mul_ps(r, r);
  p = _mm256_fmadd_ps(p, r2, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i exponent = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  const __m256 result = _mm256_mul_ps(p, _mm256_castsi256_ps(exponent));
  return _mm256_andnot_ps(too_small, result);
}

inline float HorizontalMax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

inline float HorizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// scores[r][0..16) = scale · q_r · panel keys, for R query rows.
template <int R>
void ScorePanel(const float* q, int64_t ldq, const float* panel, int64_t d, __m256 scale, float* scores,
                int64_t lds) {
  __m256 acc[R][2];
  #pragma GCC unroll 8
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int64_t i = 0; i < d; ++i) {
    const __m256 k0 = _mm256_loadu_ps(panel + i * kPanelKeys);
    const __m256 k1 = _mm256_loadu_ps(panel + i * kPanelKeys + 8);
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256 qb = _mm256_broadcast_ss(q + r * ldq + i);
      acc[r][0] = _mm256_fmadd_ps(qb, k0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(qb, k1, acc[r][1]);
    }
  }
  #pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    _mm256_storeu_ps(scores + r * lds, _mm256_mul_ps(acc[r][0], scale));
    _mm256_storeu_ps(scores + r * lds + 8, _mm256_mul_ps(acc[r][1], scale));
  }
}

void ScoreRows(const float* q, int64_t ldq, int rows, const float* panel, int64_t d, __m256 scale,
               float* scores, int64_t lds) {
  switch (rows) {
    case 6: return ScorePanel<6>(q, ldq, panel, d, scale, scores, lds);
    case 5: return ScorePanel<5>(q, ldq, panel, d, scale, scores, lds);
    case 4: return ScorePanel<4>(q, ldq, panel, d, scale, scores, lds);
    case 3: return ScorePanel<3>(q, ldq, panel, d, scale, scores, lds);
    case 2: return ScorePanel<2>(q, ldq, panel, d, scale, scores, lds);
    default: return ScorePanel<1>(q, ldq, panel, d, scale, scores, lds);
  }
}

// Replaces row[0..n) by exp(row - max(row)) and returns the sum.
float ExpInPlace(float* row, int64_t n) {
  const int64_t vec_end = n - n % 8;
  __m256 max_v = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  for (int64_t j = 0; j < vec_end; j += 8) max_v = _mm256_max_ps(max_v, _mm256_loadu_ps(row + j));
  float max_s = HorizontalMax(max_v);
  for (int64_t j = vec_end; j < n; ++j) max_s = std::max(max_s, row[j]);
  const __m256 max_b = _mm256_set1_ps(max_s);
  __m256 sum_a = _mm256_setzero_ps(), sum_b = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 16 <= vec_end; j += 16) {
    const __m256 e0 = ExpNonPositive(_mm256_sub_ps(_mm256_loadu_ps(row + j), max_b));
    const __m256 e1 = ExpNonPositive(_mm256_sub_ps(_mm256_loadu_ps(row + j + 8), max_b));
    _mm256_storeu_ps(row + j, e0);
    _mm256_storeu_ps(row + j + 8, e1);
    sum_a = _mm256_add_ps(sum_a, e0);
    sum_b = _mm256_add_ps(sum_b, e1);
  }
  for (; j < vec_end; j += 8) {
    const __m256 e = ExpNonPositive(_mm256_sub_ps(_mm256_loadu_ps(row + j), max_b));
    _mm256_storeu_ps(row + j, e);
    sum_a = _mm256_add_ps(sum_a, e);
  }
  float sum = HorizontalSum(_mm256_add_ps(sum_a, sum_b));
  for (; j < n; ++j) {
    row[j] = std::exp(row[j] - max_s);
    sum += row[j];
  }
  return sum;
}

// out_r[0..8·NV) (+)= Σ_j probs_r[j] · v[j][0..8·NV) over `keys` keys, for R
// rows. The first key block overwrites, later ones accumulate.
template <int R, int NV>
void WeightValues(const float* probs, int64_t ldp, const float* v, int64_t ldv, int64_t keys, bool accumulate,
                  float* out, int64_t ldo) {
  __m256 acc[R][NV];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int c = 0; c < NV; ++c) {
      acc[r][c] = accumulate ? _mm256_loadu_ps(out + r * ldo + 8 * c) : _mm256_setzero_ps();
    }
  }
  for (int64_t j = 0; j < keys; ++j) {
    __m256 vv[NV];
#pragma GCC unroll 8
    for (int c = 0; c < NV; ++c) vv[c] = _mm256_loadu_ps(v + j * ldv + 8 * c);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256 p = _mm256_broadcast_ss(probs + r * ldp + j);
#pragma GCC unroll 8
      for (int c = 0; c < NV; ++c) acc[r][c] = _mm256_fmadd_ps(p, vv[c], acc[r][c]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int c = 0; c < NV; ++c) _mm256_storeu_ps(out + r * ldo + 8 * c, acc[r][c]);
  }
}

template <int NV>
void WeightValueRows(int64_t rows, const float* probs, int64_t ldp, const float* v, int64_t ldv, int64_t keys,
                     bool accumulate, float* out, int64_t ldo) {
  int64_t r = 0;
  for (; r + 2 <= rows; r += 2) {
    WeightValues<2, NV>(probs + r * ldp, ldp, v, ldv, keys, accumulate, out + r * ldo, ldo);
  }
  if (r < rows) WeightValues<1, NV>(probs + r * ldp, ldp, v, ldv, keys, accumulate, out + r * ldo, ldo);
}

void WeightValueRowsChunk(int vectors, int64_t rows, const float* probs, int64_t ldp, const float* v, int64_t ldv,
                          int64_t keys, bool accumulate, float* out, int64_t ldo) {
  switch (vectors) {
    case 5: return WeightValueRows<5>(rows, probs, ldp, v, ldv, keys, accumulate, out, ldo);
    case 4: return WeightValueRows<4>(rows, probs, ldp, v, ldv, keys, accumulate, out, ldo);
    case 3: return WeightValueRows<3>(rows, probs, ldp, v, ldv, keys, accumulate, out, ldo);
    case 2: return WeightValueRows<2>(rows, probs, ldp, v, ldv, keys, accumulate, out, ldo);
    default: return WeightValueRows<1>(rows, probs, ldp, v, ldv, keys, accumulate, out, ldo);
  }
}

}  // namespace

bool Avx2AttentionSupported(int64_t dv) {
  static const bool cpu = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return cpu && dv > 0 && dv % 8 == 0;
}

size_t Avx2AttentionWorkspaceFloats(int64_t lk, int64_t d) {
  return static_cast<size_t>(PaddedKeys(lk) * d + kRowBlock * ScoreStride(lk));
}

void Avx2PackKeys(const HeadAttention& head, float* workspace) {
  // Panel p holds keys [16p, 16p + 16) dimension-major: packed[(p·d + i)·16 + j].
  float* packed = workspace;
  for (int64_t p = 0; p < Panels(head.lk); ++p) {
    float* panel = packed + p * head.d * kPanelKeys;
    for (int64_t j = 0; j < kPanelKeys; ++j) {
      const int64_t key = p * kPanelKeys + j;
      const float* k = head.k + key * head.ldk;
      for (int64_t i = 0; i < head.d; ++i) panel[i * kPanelKeys + j] = key < head.lk ? k[i] : 0.0f;
    }
  }
}

void Avx2AttentionRows(const HeadAttention& head, int64_t row_begin, int64_t row_end, float* workspace) {
  const int64_t lk = head.lk, d = head.d, lds = ScoreStride(lk);
  const float* packed = workspace;
  float* scores = workspace + PaddedKeys(lk) * d;
  const __m256 scale = _mm256_set1_ps(head.scale);
  float inv_sum[kRowBlock];
  for (int64_t row0 = row_begin; row0 < row_end; row0 += kRowBlock) {
    const int64_t rows = std::min(kRowBlock, row_end - row0);
    const float* q = head.q + row0 * head.ldq;
    // Panel-outer so that one 16-key panel serves every row of the block from L1.
    for (int64_t p = 0; p < Panels(lk); ++p) {
      for (int64_t r = 0; r < rows; r += kScoreRows) {
        ScoreRows(q + r * head.ldq, head.ldq, static_cast<int>(std::min<int64_t>(kScoreRows, rows - r)),
                  packed + p * d * kPanelKeys, d, scale, scores + r * lds + p * kPanelKeys, lds);
      }
    }
    for (int64_t r = 0; r < rows; ++r) inv_sum[r] = 1.0f / ExpInPlace(scores + r * lds, lk);
    float* out = head.o + row0 * head.ldo;
    for (int64_t c = 0; c < head.dv; c += 8 * kValueVectors) {
      const int vectors = static_cast<int>(std::min<int64_t>(kValueVectors, (head.dv - c) / 8));
      for (int64_t j0 = 0; j0 < lk; j0 += kValueKeys) {
        const int64_t keys = std::min(kValueKeys, lk - j0);
        // Values [j0, j0 + keys) × [c, c + width) stay in L1 for every row pair.
        WeightValueRowsChunk(vectors, rows, scores + j0, lds, head.v + j0 * head.ldv + c, head.ldv, keys,
                             /*accumulate=*/j0 > 0, out + c, head.ldo);
      }
    }
    for (int64_t r = 0; r < rows; ++r) {
      const __m256 norm = _mm256_set1_ps(inv_sum[r]);
      float* row = out + r * head.ldo;
      for (int64_t c = 0; c < head.dv; c += 8) _mm256_storeu_ps(row + c, _mm256_mul_ps(_mm256_loadu_ps(row + c), norm));
    }
  }
}

}  // namespace dreamshot::models::internal
