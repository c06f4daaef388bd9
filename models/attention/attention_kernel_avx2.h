// AVX2/FMA attention kernel for one head of float32 attention on the CPU.
//
// Plain C++ interface (no LibTorch headers): the .cc is the only file built
// with -mavx2 -mfma, and keeping library headers out of it keeps AVX2 copies
// of inline functions out of the rest of the program. Callers check
// Avx2AttentionSupported() (CPU and shape) before calling.
//
// Per block of query rows: scores for all keys against keys packed into
// 16-key panels (register-tiled 6 rows × 16 keys), an exact two-pass softmax
// with a polynomial exp (≈1 ulp), and probabilities × values register-tiled
// 2 rows × 40 values over 64-key blocks of values that stay in L1,
// normalised by the row sums on the way out. The score block (48 rows ×
// keys) stays in L2. bench/attention_benchmark: 4096-token self-attention,
// 16 heads × 40: ~0.4 s on 2 cores, against ~1.0 s for BLAS GEMMs + ATen
// softmax on the same blocks and ~1.7 s for ATen's batched matmuls.
#ifndef DREAMSHOT_MODELS_ATTENTION_ATTENTION_KERNEL_AVX2_H_
#define DREAMSHOT_MODELS_ATTENTION_ATTENTION_KERNEL_AVX2_H_

#include <cstddef>
#include <cstdint>

namespace dreamshot::models::internal {

// One head: row i of q is q + i·ldq (d floats), likewise k (lk × d),
// v (lk × dv) and the output o (lq × dv).
struct HeadAttention {
  const float* q;
  int64_t ldq;
  const float* k;
  int64_t ldk;
  const float* v;
  int64_t ldv;
  float* o;
  int64_t ldo;
  int64_t lk, d, dv;
  float scale;
};

// True when this CPU has AVX2 and FMA and dv is a multiple of 8.
bool Avx2AttentionSupported(int64_t dv);

// Floats of workspace one thread needs for heads of this shape.
size_t Avx2AttentionWorkspaceFloats(int64_t lk, int64_t d);

// Packs the head's keys into the workspace; call once per head (and thread)
// before Avx2AttentionRows.
void Avx2PackKeys(const HeadAttention& head, float* workspace);

// Output rows [row_begin, row_end) of the head.
void Avx2AttentionRows(const HeadAttention& head, int64_t row_begin, int64_t row_end, float* workspace);

}  // namespace dreamshot::models::internal

#endif  // DREAMSHOT_MODELS_ATTENTION_ATTENTION_KERNEL_AVX2_H_
