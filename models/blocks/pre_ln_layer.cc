#include "models/blocks/pre_ln_layer.h"

#include <torch/torch.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "models/attention/attention.h"

namespace dreamshot::models::blocks {
namespace {

at::Tensor QuickGelu(const at::Tensor& x) { return x * torch::sigmoid(1.702 * x); }
at::Tensor Gelu(const at::Tensor& x) { return torch::gelu(x); }
at::Tensor GeluTanh(const at::Tensor& x) { return torch::gelu(x, "tanh"); }

// The arithmetic of transformers' CLIPAttention / ViTSelfAttention in eager
// PyTorch: heads split by view + transpose, scores materialised per head.
at::Tensor StockAttention(const PreLnLayerModules& m, const at::Tensor& h, const at::Tensor& causal_mask) {
  const int64_t b = h.size(0), l = h.size(1), width = h.size(2);
  const int64_t head_dim = width / m.heads;
  auto split = [&](const at::Tensor& t) { return t.view({b, l, m.heads, head_dim}).transpose(1, 2); };
  at::Tensor q = split(m.q->forward(h) * std::pow(static_cast<double>(head_dim), -0.5));  // [B, h, L, d]
  at::Tensor k = split(m.k->forward(h));
  at::Tensor v = split(m.v->forward(h));
  at::Tensor scores = torch::matmul(q, k.transpose(-1, -2));  // [B, h, L, L]
  if (causal_mask.defined()) scores = scores + causal_mask;
  at::Tensor attn = torch::matmul(torch::softmax(scores, -1), v);  // [B, h, L, d]
  return m.out->forward(attn.transpose(1, 2).reshape({b, l, width}));
}

at::Tensor StockLayer(const PreLnLayerModules& m, const at::Tensor& x, const at::Tensor& causal_mask) {
  at::Tensor h = x + StockAttention(m, m.norm1->forward(x), causal_mask);
  return h + m.fc2->forward(m.activation(m.fc1->forward(m.norm2->forward(h))));
}

// Inference only: no graph is recorded, so intermediate tensors can be
// updated in place.
at::Tensor OurLayer(const PreLnLayerModules& m, const at::Tensor& x) {
  const int64_t head_dim = x.size(2) / m.heads;
  const at::Tensor n1 = m.norm1->forward(x);
  at::Tensor q = m.q->forward(n1);
  q.mul_(std::pow(static_cast<double>(head_dim), -0.5));
  const at::Tensor attn = MultiHeadAttention(q, m.k->forward(n1), m.v->forward(n1), m.heads, /*scale=*/1.0);
  at::Tensor h = m.out->forward(attn);
  h.add_(x);
  at::Tensor y = m.fc2->forward(m.activation(m.fc1->forward(m.norm2->forward(h))));
  return y.add_(h);
}

}  // namespace

absl::StatusOr<ActivationFn> ActivationByName(const std::string& name) {
  if (name == "quick_gelu") return &QuickGelu;
  if (name == "gelu") return &Gelu;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return &GeluTanh;
  return absl::InvalidArgumentError(absl::StrCat("unsupported hidden_act '", name,
                                                 "' (quick_gelu, gelu, gelu_new, gelu_pytorch_tanh)"));
}

at::Tensor PreLnLayerForward(const PreLnLayerModules& m, const at::Tensor& x, const at::Tensor& causal_mask,
                             EncoderPath path) {
  // Under grad mode the weights may be trained (text-encoder LoRA): the
  // stock formulation is the one autograd differentiates.
  if (path == EncoderPath::kStock || causal_mask.defined() || torch::GradMode::is_enabled()) {
    return StockLayer(m, x, causal_mask);
  }
  return OurLayer(m, x);
}

}  // namespace dreamshot::models::blocks
