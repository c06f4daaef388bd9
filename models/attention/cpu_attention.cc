#include "models/attention/cpu_attention.h"

#include "models/attention/attention_kernel_avx2.h"

#include <ATen/Parallel.h>
#include <cblas.h>
#include <torch/torch.h>

#include <algorithm>
#include <vector>

namespace dreamshot::models::internal {
namespace {

// Row-major matrix of one head: element (r, c) at data[r * row_stride + c].
struct HeadMatrix {
  const float* data;
  int64_t row_stride;
};

HeadMatrix Head(const at::Tensor& t, int64_t b, int64_t h, int64_t head_dim) {
  return {t.data_ptr<float>() + b * t.stride(0) + h * head_dim, t.stride(1)};
}

// LibTorch does not export its BLAS wrapper; this calls the same BLAS
// (libblas.so.3, OpenBLAS through Debian's alternatives) directly.

// scores[rows × lk] = scale · q[rows × d] · k[lk × d]ᵀ
void QueryKeyScores(const float* q, int64_t ldq, HeadMatrix k, int64_t rows, int64_t lk, int64_t d,
                    float scale, float* scores) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, lk, d, scale, q, ldq, k.data, k.row_stride, 0.0f,
              scores, lk);
}

// out[rows × dv] = probs[rows × lk] · v[lk × dv]
void WeightedValues(const float* probs, HeadMatrix v, int64_t rows, int64_t lk, int64_t dv, float* out,
                    int64_t ldo) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, dv, lk, 1.0f, probs, lk, v.data, v.row_stride,
              0.0f, out, ldo);
}

// Work items are (batch·head, slice of query rows); a head is split into as
// many slices as it takes to give every thread two items, and each item
// packs its head's keys once.
at::Tensor Avx2Attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t heads,
                         double scale, at::Tensor out) {
  const int64_t batch = q.size(0), lq = q.size(1), lk = k.size(1);
  const int64_t d = q.size(2) / heads, dv = v.size(2) / heads;
  const int64_t heads_total = batch * heads;
  const int64_t slices = std::max<int64_t>(1, (2 * at::get_num_threads() + heads_total - 1) / heads_total);
  const int64_t rows_per_slice = (lq + slices - 1) / slices;
  at::parallel_for(0, heads_total * slices, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> workspace(Avx2AttentionWorkspaceFloats(lk, d));
    for (int64_t item = begin; item < end; ++item) {
      const int64_t bh = item / slices, slice = item % slices;
      const int64_t b = bh / heads, h = bh % heads;
      const int64_t row_begin = slice * rows_per_slice, row_end = std::min(lq, row_begin + rows_per_slice);
      if (row_begin >= row_end) continue;
      HeadAttention head{};
      head.q = Head(q, b, h, d).data;
      head.ldq = q.stride(1);
      head.k = Head(k, b, h, d).data;
      head.ldk = k.stride(1);
      head.v = Head(v, b, h, dv).data;
      head.ldv = v.stride(1);
      head.o = out.data_ptr<float>() + b * out.stride(0) + h * dv;
      head.ldo = out.stride(1);
      head.lk = lk;
      head.d = d;
      head.dv = dv;
      head.scale = static_cast<float>(scale);
      Avx2PackKeys(head, workspace.data());
      Avx2AttentionRows(head, row_begin, row_end, workspace.data());
    }
  });
  return out;
}

}  // namespace

bool CpuBlockedAttentionApplies(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  for (const at::Tensor* t : {&q, &k, &v}) {
    if (!t->device().is_cpu() || t->scalar_type() != at::kFloat || t->dim() != 3 || t->stride(2) != 1) {
      return false;
    }
    if (t->requires_grad() && at::GradMode::is_enabled()) return false;
  }
  return true;
}

at::Tensor CpuBlockedAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t heads,
                               double scale, int64_t score_block_bytes, CpuAttentionKernel kernel) {
  const int64_t batch = q.size(0), lq = q.size(1), lk = k.size(1);
  const int64_t d = q.size(2) / heads, dv = v.size(2) / heads;
  at::Tensor out = at::empty({batch, lq, heads * dv}, q.options());
  if (lq == 0 || batch == 0) return out;
  if (lk == 0) return out.zero_();
  if (kernel == CpuAttentionKernel::kAuto && Avx2AttentionSupported(dv)) {
    return Avx2Attention(q, k, v, heads, scale, out);
  }
  // At least 8 rows keep the GEMMs efficient; beyond 256 they gain nothing.
  const int64_t rows_per_block =
      std::clamp<int64_t>(score_block_bytes / (lk * static_cast<int64_t>(sizeof(float))), 8, 256);
  const int64_t blocks_per_head = (lq + rows_per_block - 1) / rows_per_block;
  const int64_t work_items = batch * heads * blocks_per_head;
  float* const out_data = out.data_ptr<float>();
  const int64_t out_row_stride = out.stride(1);

  at::parallel_for(0, work_items, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> score_buffer(static_cast<size_t>(rows_per_block * lk));
    at::Tensor scores_tensor = at::from_blob(score_buffer.data(), {rows_per_block, lk}, at::kFloat);
    for (int64_t item = begin; item < end; ++item) {
      const int64_t bh = item / blocks_per_head, block = item % blocks_per_head;
      const int64_t b = bh / heads, h = bh % heads;
      const int64_t row0 = block * rows_per_block, rows = std::min(rows_per_block, lq - row0);
      const HeadMatrix qh = Head(q, b, h, d);
      QueryKeyScores(qh.data + row0 * qh.row_stride, qh.row_stride, Head(k, b, h, d), rows, lk, d,
                     static_cast<float>(scale), score_buffer.data());
      at::Tensor s = scores_tensor.narrow(0, 0, rows);
      at::_softmax_out(s, s, /*dim=*/1, /*half_to_float=*/false);  // row-wise, in place
      float* o = out_data + b * out.stride(0) + row0 * out_row_stride + h * dv;
      WeightedValues(score_buffer.data(), Head(v, b, h, dv), rows, lk, dv, o, out_row_stride);
    }
  });
  return out;
}

}  // namespace dreamshot::models::internal
