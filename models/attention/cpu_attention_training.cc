#include "models/attention/cpu_attention_training.h"

#include <ATen/Parallel.h>
#include <cblas.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace dreamshot::models::internal {
namespace {

// Row-major matrix of one head: element (r, c) at data[r * ld + c].
template <typename T>
struct HeadView {
  T* data;
  int64_t ld;
  T* row(int64_t r) const { return data + r * ld; }
};

template <typename T>
HeadView<T> Head(const at::Tensor& t, int64_t b, int64_t h, int64_t head_width) {
  return {t.data_ptr<float>() + b * t.stride(0) + h * head_width, t.stride(1)};
}

// Rows per query block: `budget` bytes of float scores, at least 8 rows
// (GEMM efficiency) and at most 256 (nothing more to gain).
int64_t RowsPerBlock(int64_t budget, int64_t lk) {
  return std::clamp<int64_t>(budget / (std::max<int64_t>(lk, 1) * static_cast<int64_t>(sizeof(float))), 8, 256);
}

// c[m × n] = alpha · op(a) · op(b) + beta · c, row-major.
void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k,
              alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace

bool CpuTrainingAttentionApplies(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  for (const at::Tensor* t : {&q, &k, &v}) {
    if (!t->device().is_cpu() || t->scalar_type() != at::kFloat || t->dim() != 3 || t->stride(2) != 1 ||
        t->stride(1) < t->size(2)) {
      return false;
    }
  }
  return true;
}

AttentionForwardResult CpuAttentionForwardWithLse(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                                  int64_t heads, double scale, int64_t score_block_bytes) {
  const int64_t batch = q.size(0), lq = q.size(1), lk = k.size(1);
  const int64_t d = q.size(2) / heads, dv = v.size(2) / heads;
  AttentionForwardResult result;
  result.out = at::empty({batch, lq, heads * dv}, v.options());
  result.lse = at::empty({batch * heads, lq, 1}, q.options());
  if (lq == 0 || batch == 0) return result;
  if (lk == 0) {
    result.out.zero_();
    result.lse.fill_(-INFINITY);
    return result;
  }
  const int64_t rows_per_block = RowsPerBlock(score_block_bytes, lk);
  const int64_t blocks_per_head = (lq + rows_per_block - 1) / rows_per_block;
  float* const lse_data = result.lse.data_ptr<float>();
  const at::Tensor& out = result.out;
  at::parallel_for(0, batch * heads * blocks_per_head, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> buffer(static_cast<size_t>(rows_per_block * lk));
    const at::Tensor scores_all = at::from_blob(buffer.data(), {rows_per_block, lk}, at::kFloat);
    at::Tensor row_max = at::empty({rows_per_block, 1}), row_sum = at::empty({rows_per_block, 1});
    for (int64_t item = begin; item < end; ++item) {
      const int64_t bh = item / blocks_per_head, row0 = (item % blocks_per_head) * rows_per_block;
      const int64_t b = bh / heads, h = bh % heads, rows = std::min(rows_per_block, lq - row0);
      const HeadView<const float> qh = Head<const float>(q, b, h, d), kh = Head<const float>(k, b, h, d),
                                  vh = Head<const float>(v, b, h, dv);
      const HeadView<float> oh = Head<float>(out, b, h, dv);
      Gemm(false, true, rows, lk, d, static_cast<float>(scale), qh.row(row0), qh.ld, kh.data, kh.ld, 0.0f,
           buffer.data(), lk);
      at::Tensor s = scores_all.narrow(0, 0, rows);
      at::Tensor m = row_max.narrow(0, 0, rows), l = row_sum.narrow(0, 0, rows);
      at::amax_out(m, s, 1, /*keepdim=*/true);
      s.sub_(m).exp_();
      at::sum_out(l, s, 1, /*keepdim=*/true);
      // O = exp(S − m)·V / l: the division on the [rows × dv] result, not the scores.
      Gemm(false, false, rows, dv, lk, 1.0f, buffer.data(), lk, vh.data, vh.ld, 0.0f, oh.row(row0), oh.ld);
      const float* m_data = m.data_ptr<float>();
      const float* l_data = l.data_ptr<float>();
      float* lse_row = lse_data + bh * lq + row0;
      for (int64_t r = 0; r < rows; ++r) {
        const float inv = 1.0f / l_data[r];
        float* o = oh.row(row0 + r);
        for (int64_t c = 0; c < dv; ++c) o[c] *= inv;
        lse_row[r] = m_data[r] + std::log(l_data[r]);
      }
    }
  });
  return result;
}

AttentionGrads CpuAttentionBackward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                    const at::Tensor& out, const at::Tensor& lse, const at::Tensor& dout_in,
                                    int64_t heads, double scale, int64_t score_block_bytes, bool need_q, bool need_k,
                                    bool need_v) {
  const int64_t batch = q.size(0), lq = q.size(1), lk = k.size(1);
  const int64_t d = q.size(2) / heads, dv = v.size(2) / heads;
  AttentionGrads grads;
  if (need_q) grads.dq = at::empty({batch, lq, heads * d}, q.options());
  if (need_k) grads.dk = at::empty({batch, lk, heads * d}, k.options());
  if (need_v) grads.dv = at::empty({batch, lk, heads * dv}, v.options());
  if (lq == 0 || lk == 0 || batch == 0) {
    for (at::Tensor* g : {&grads.dq, &grads.dk, &grads.dv}) {
      if (g->defined()) g->zero_();
    }
    return grads;
  }
  // Gradients of sums arrive expanded (stride 0): the GEMMs need real rows.
  const at::Tensor dout = dout_in.stride(2) == 1 && dout_in.stride(1) >= dout_in.size(2) ? dout_in
                                                                                        : dout_in.contiguous();
  const int64_t rows_per_block = RowsPerBlock(score_block_bytes, lk);
  const float* const lse_data = lse.data_ptr<float>();
  const float fscale = static_cast<float>(scale);
  at::parallel_for(0, batch * heads, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> p_buffer(static_cast<size_t>(rows_per_block * lk));
    std::vector<float> ds_buffer(static_cast<size_t>(rows_per_block * lk));
    std::vector<float> delta(static_cast<size_t>(rows_per_block));
    const at::Tensor p_all = at::from_blob(p_buffer.data(), {rows_per_block, lk}, at::kFloat);
    const at::Tensor ds_all = at::from_blob(ds_buffer.data(), {rows_per_block, lk}, at::kFloat);
    const at::Tensor delta_all = at::from_blob(delta.data(), {rows_per_block, 1}, at::kFloat);
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / heads, h = bh % heads;
      const HeadView<const float> qh = Head<const float>(q, b, h, d), kh = Head<const float>(k, b, h, d),
                                  vh = Head<const float>(v, b, h, dv), oh = Head<const float>(out, b, h, dv),
                                  doh = Head<const float>(dout, b, h, dv);
      for (int64_t row0 = 0; row0 < lq; row0 += rows_per_block) {
        const int64_t rows = std::min(rows_per_block, lq - row0);
        const float beta = row0 == 0 ? 0.0f : 1.0f;  // dK and dV: first block writes, the rest add
        // P = exp(scale·Q·Kᵀ − lse)
        Gemm(false, true, rows, lk, d, fscale, qh.row(row0), qh.ld, kh.data, kh.ld, 0.0f, p_buffer.data(), lk);
        at::Tensor p = p_all.narrow(0, 0, rows);
        const at::Tensor lse_rows = at::from_blob(const_cast<float*>(lse_data + bh * lq + row0), {rows, 1});
        p.sub_(lse_rows).exp_();
        if (need_v) {  // dV += Pᵀ·dO
          const HeadView<float> dvh = Head<float>(grads.dv, b, h, dv);
          Gemm(true, false, lk, dv, rows, 1.0f, p_buffer.data(), lk, doh.row(row0), doh.ld, beta, dvh.data, dvh.ld);
        }
        if (!need_q && !need_k) continue;
        // D = rowsum(dO ∘ O), dS = P ∘ (dO·Vᵀ − D)
        for (int64_t r = 0; r < rows; ++r) {
          const float *o = oh.row(row0 + r), *g = doh.row(row0 + r);
          double acc = 0;
          for (int64_t c = 0; c < dv; ++c) acc += static_cast<double>(o[c]) * g[c];
          delta[r] = static_cast<float>(acc);
        }
        Gemm(false, true, rows, lk, dv, 1.0f, doh.row(row0), doh.ld, vh.data, vh.ld, 0.0f, ds_buffer.data(), lk);
        ds_all.narrow(0, 0, rows).sub_(delta_all.narrow(0, 0, rows)).mul_(p);
        if (need_q) {  // dQ = scale·dS·K
          const HeadView<float> dqh = Head<float>(grads.dq, b, h, d);
          Gemm(false, false, rows, d, lk, fscale, ds_buffer.data(), lk, kh.data, kh.ld, 0.0f, dqh.row(row0),
               dqh.ld);
        }
        if (need_k) {  // dK += scale·dSᵀ·Q
          const HeadView<float> dkh = Head<float>(grads.dk, b, h, d);
          Gemm(true, false, lk, d, rows, fscale, ds_buffer.data(), lk, qh.row(row0), qh.ld, beta, dkh.data, dkh.ld);
        }
      }
    }
  });
  return grads;
}

}  // namespace dreamshot::models::internal
