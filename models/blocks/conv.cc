#include "models/blocks/conv.h"

#include <torch/torch.h>

namespace dreamshot::models {
namespace {

// Output columns per output channel below which the weight reorder
// dominates oneDNN's time (measured crossover: 1280 channels win at 8×8 and
// lose at 16×16, batch 2).
constexpr int64_t kMinChannelsPerColumn = 4;

int64_t OutputEdge(int64_t in, int64_t kernel, int64_t stride, int64_t padding) {
  return (in + 2 * padding - kernel) / stride + 1;
}

struct ConvGeometry {
  int64_t kh, kw, sh, sw, ph, pw, out_h, out_w;
};

// False for what only conv->forward handles: groups, dilation, non-zero
// padding modes, "same"/"valid" padding, non-float32 or non-CPU tensors.
bool Geometry(const torch::nn::Conv2dImpl& conv, const torch::Tensor& x, ConvGeometry* g) {
  const auto& o = conv.options;
  if (!x.device().is_cpu() || x.scalar_type() != torch::kFloat || x.dim() != 4) return false;
  if (o.groups() != 1 || (*o.dilation())[0] != 1 || (*o.dilation())[1] != 1) return false;
  if (!c10::holds_alternative<torch::enumtype::kZeros>(o.padding_mode())) return false;
  const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
  if (padding == nullptr) return false;
  g->kh = (*o.kernel_size())[0];
  g->kw = (*o.kernel_size())[1];
  g->sh = (*o.stride())[0];
  g->sw = (*o.stride())[1];
  g->ph = (**padding)[0];
  g->pw = (**padding)[1];
  g->out_h = OutputEdge(x.size(2), g->kh, g->sh, g->ph);
  g->out_w = OutputEdge(x.size(3), g->kw, g->sw, g->pw);
  return g->out_h > 0 && g->out_w > 0;
}

bool WeightHeavy(const torch::nn::Conv2dImpl& conv, const torch::Tensor& x, const ConvGeometry& g) {
  const int64_t columns = x.size(0) * g.out_h * g.out_w;
  return conv.options.out_channels() >= kMinChannelsPerColumn * columns;
}

}  // namespace

Conv2dAlgorithm ChooseConv2dAlgorithm(const torch::nn::Conv2dImpl& conv, const torch::Tensor& x) {
  ConvGeometry g;
  if (!Geometry(conv, x, &g)) return Conv2dAlgorithm::kLibTorch;
  return WeightHeavy(conv, x, g) ? Conv2dAlgorithm::kBatchGemm : Conv2dAlgorithm::kLibTorch;
}

torch::Tensor Conv2dForward(torch::nn::Conv2dImpl& conv, const torch::Tensor& x) {
  return Conv2dForwardWith(ChooseConv2dAlgorithm(conv, x), conv, x);
}

torch::Tensor Conv2dForwardWith(Conv2dAlgorithm algorithm, torch::nn::Conv2dImpl& conv, const torch::Tensor& x) {
  ConvGeometry g;
  if (algorithm == Conv2dAlgorithm::kLibTorch || !Geometry(conv, x, &g)) return conv.forward(x);
  // [B, Cin·kh·kw, L] → [Cin·kh·kw, B·L]: one GEMM for the whole batch reads
  // the weight once.
  const int64_t b = x.size(0), cout = conv.options.out_channels();
  torch::Tensor cols = torch::im2col(x.contiguous(), {g.kh, g.kw}, {1, 1}, {g.ph, g.pw}, {g.sh, g.sw});
  cols = cols.permute({1, 0, 2}).reshape({cols.size(1), b * g.out_h * g.out_w});
  const torch::Tensor w = conv.weight.view({cout, -1});
  torch::Tensor out = conv.bias.defined() ? torch::addmm(conv.bias.unsqueeze(1), w, cols) : torch::mm(w, cols);
  return out.view({cout, b, g.out_h, g.out_w}).permute({1, 0, 2, 3}).contiguous();
}

}  // namespace dreamshot::models
