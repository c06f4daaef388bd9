#include "models/vae/autoencoder_kl.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/json_config.h"
#include "core/model_source.h"
#include "core/safetensors.h"
#include "core/testdata_paths.h"
#include "models/module_shapes.h"
#include "models/vae/tiling.h"

namespace dreamshot::models::vae {
namespace {

using ::testing::HasSubstr;

// Parity check as the reference cases define it; prints the largest error and where.
void ExpectClose(const std::string& name, const at::Tensor& actual, const at::Tensor& expected, double atol,
                 double rtol) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << name;
  const torch::Tensor a = actual.to(torch::kDouble), e = expected.to(torch::kDouble);
  const torch::Tensor err = (a - e).abs();
  const int64_t at_index = err.flatten().argmax().item<int64_t>();
  const double max_err = err.flatten()[at_index].item<double>();
  std::vector<int64_t> where(actual.dim());
  for (int64_t d = actual.dim() - 1, rest = at_index; d >= 0; --d) {
    where[d] = rest % actual.size(d);
    rest /= actual.size(d);
  }
  const bool ok = (err <= atol + rtol * e.abs()).all().item<bool>();
  std::cout << name << ": max abs err " << max_err << " at [" << absl::StrJoin(where, ", ") << "]\n";
  EXPECT_TRUE(ok) << name << ": max abs err " << max_err << " at [" << absl::StrJoin(where, ", ") << "] got "
                  << a.flatten()[at_index].item<double>() << " expected " << e.flatten()[at_index].item<double>();
}

VaeConfig TinyConfig() {
  VaeConfig c;
  c.block_out_channels = {32, 64};
  c.layers_per_block = 1;
  c.sample_size = 32;
  return c;
}

std::unique_ptr<AutoencoderKL> LoadReferenceVae() {
  auto source = core::ModelSource::Open(core::ReferencePath("tiny_sd"));
  EXPECT_TRUE(source.ok()) << source.status() << " (set DREAMSHOT_REFERENCE_DIR)";
  if (!source.ok()) return nullptr;
  auto json = source->ComponentConfig("vae");
  EXPECT_TRUE(json.ok()) << json.status();
  auto config = VaeConfig::FromJson(*json);
  EXPECT_TRUE(config.ok()) << config.status();
  auto model = AutoencoderKL::Create(*config, {});
  EXPECT_TRUE(model.ok()) << model.status();
  auto weights = source->LoadComponent("vae", {});
  EXPECT_TRUE(weights.ok()) << weights.status();
  absl::Status loaded = (*model)->LoadWeights(*weights, "tiny_sd/vae");
  EXPECT_TRUE(loaded.ok()) << loaded;
  return loaded.ok() ? std::move(*model) : nullptr;
}

TEST(VaeTest, MatchesDiffusersReference) {
  auto vae = LoadReferenceVae();
  ASSERT_NE(vae, nullptr);
  EXPECT_DOUBLE_EQ(vae->scaling_factor(), 0.18215);
  EXPECT_EQ(vae->config().downscale_factor(), 2);
  auto io = core::SafetensorsFile::Open(core::ReferencePath("cases/vae_io.safetensors"));
  ASSERT_TRUE(io.ok()) << io.status();
  auto load = [&](const char* name) {
    auto t = io->Load(name, torch::kFloat);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? *t : torch::Tensor();
  };
  constexpr double kAtol = 1e-4, kRtol = 1e-4;
  auto dist = vae->Encode(load("image"));
  ASSERT_TRUE(dist.ok()) << dist.status();
  ExpectClose("latent_mean", dist->mean, load("latent_mean"), kAtol, kRtol);
  ExpectClose("latent_std", dist->std, load("latent_std"), kAtol, kRtol);
  ExpectClose("latent_logvar", dist->logvar, load("latent_logvar"), kAtol, kRtol);
  const torch::Tensor z = load("z");
  auto decoded = vae->Decode(z);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ExpectClose("decoded", *decoded, load("decoded"), kAtol, kRtol);
  auto decoded_scaled = vae->Decode(z / vae->scaling_factor());
  ASSERT_TRUE(decoded_scaled.ok()) << decoded_scaled.status();
  ExpectClose("decoded_from_z_over_scaling_factor", *decoded_scaled, load("decoded_from_z_over_scaling_factor"),
              kAtol, kRtol);
}

TEST(VaeTest, NonSquareAndBatchedShapes) {
  auto vae = AutoencoderKL::Create(TinyConfig(), {});
  ASSERT_TRUE(vae.ok()) << vae.status();
  torch::manual_seed(1);
  const torch::Tensor image = torch::rand({3, 3, 24, 40}) * 2 - 1;
  auto dist = (*vae)->Encode(image);
  ASSERT_TRUE(dist.ok()) << dist.status();
  EXPECT_EQ(dist->mean.sizes(), (std::vector<int64_t>{3, 4, 12, 20}));
  EXPECT_EQ(dist->std.sizes(), dist->mean.sizes());
  EXPECT_LE(dist->logvar.max().item<double>(), 20.0);
  EXPECT_GE(dist->logvar.min().item<double>(), -30.0);
  auto decoded = (*vae)->Decode(dist->mean);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->sizes(), (std::vector<int64_t>{3, 3, 24, 40}));
  // Batch elements are independent: sample 1 alone gives the same result.
  auto single = (*vae)->Decode(dist->mean.narrow(0, 1, 1));
  ASSERT_TRUE(single.ok());
  EXPECT_TRUE(torch::allclose(*single, decoded->narrow(0, 1, 1), 1e-5, 1e-5));
}

TEST(VaeTest, SlicingEncodesAndDecodesOneSampleAtATime) {
  auto vae = AutoencoderKL::Create(TinyConfig(), {});
  ASSERT_TRUE(vae.ok()) << vae.status();
  torch::manual_seed(2);
  const torch::Tensor image = torch::rand({3, 3, 16, 24}) * 2 - 1;
  auto whole = (*vae)->Encode(image);
  ASSERT_TRUE(whole.ok()) << whole.status();
  auto decoded_whole = (*vae)->Decode(whole->mean);
  ASSERT_TRUE(decoded_whole.ok());

  std::vector<int64_t> batch_sizes;
  (*vae)->set_activation_observer([&](const std::string& label, const at::Tensor& a) {
    if (label == "decoder.conv_in" || label == "encoder.conv_in") batch_sizes.push_back(a.size(0));
  });
  (*vae)->set_slicing(true);
  auto sliced = (*vae)->Encode(image);
  ASSERT_TRUE(sliced.ok()) << sliced.status();
  auto decoded_sliced = (*vae)->Decode(sliced->mean);
  ASSERT_TRUE(decoded_sliced.ok());
  EXPECT_EQ(batch_sizes, std::vector<int64_t>(6, 1));  // 3 encodes + 3 decodes of one sample
  EXPECT_TRUE(torch::allclose(sliced->mean, whole->mean, 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(sliced->logvar, whole->logvar, 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(*decoded_sliced, *decoded_whole, 1e-5, 1e-5));
}

TEST(VaeTest, RejectsBadInputs) {
  auto vae = AutoencoderKL::Create(TinyConfig(), {});
  ASSERT_TRUE(vae.ok());
  EXPECT_EQ((*vae)->Encode(torch::zeros({1, 4, 8, 8})).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*vae)->Decode(torch::zeros({1, 4, 8})).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string((*vae)->Decode(torch::zeros({1, 3, 8, 8})).status().message()), HasSubstr("latents"));
}

TEST(VaeTest, ConfigFromJson) {
  auto json = core::JsonConfig::FromString(
      R"({"block_out_channels": [32, 64], "layers_per_block": 1, "sample_size": 32,
          "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D"],
          "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D"], "unknown_key": 1})",
      "cfg.json");
  ASSERT_TRUE(json.ok());
  auto c = VaeConfig::FromJson(*json);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->block_out_channels, (std::vector<int64_t>{32, 64}));
  EXPECT_EQ(c->latent_channels, 4);
  EXPECT_DOUBLE_EQ(c->scaling_factor, 0.18215);

  auto bad_block = core::JsonConfig::FromString(
      R"({"block_out_channels": [32], "down_block_types": ["DownBlock2D"]})", "cfg.json");
  auto s = VaeConfig::FromJson(*bad_block).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("down_block_types"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("DownBlock2D"));

  auto bad_act = core::JsonConfig::FromString(R"({"block_out_channels": [32], "act_fn": "gelu"})", "cfg.json");
  EXPECT_THAT(std::string(VaeConfig::FromJson(*bad_act).status().message()), HasSubstr("act_fn"));
  auto latents_mean =
      core::JsonConfig::FromString(R"({"block_out_channels": [32], "latents_mean": [0, 0, 0, 0]})", "cfg.json");
  EXPECT_THAT(std::string(VaeConfig::FromJson(*latents_mean).status().message()), HasSubstr("latents_mean"));
  auto missing = core::JsonConfig::FromString(R"({"layers_per_block": 2})", "cfg.json");
  EXPECT_THAT(std::string(VaeConfig::FromJson(*missing).status().message()), HasSubstr("block_out_channels"));
}

// The diffusers key set of an AutoencoderKL, written out from the naming
// pattern (independent of the module code).
std::set<std::string> ExpectedKeys(const std::vector<int64_t>& ch, int layers) {
  std::set<std::string> keys;
  auto add = [&](const std::string& m) {
    keys.insert(m + ".weight");
    keys.insert(m + ".bias");
  };
  auto resnet = [&](const std::string& p, bool shortcut) {
    for (const char* m : {"norm1", "conv1", "norm2", "conv2"}) add(p + "." + m);
    if (shortcut) add(p + ".conv_shortcut");
  };
  auto mid = [&](const std::string& p) {
    for (const char* m : {"group_norm", "to_q", "to_k", "to_v", "to_out.0"}) add(p + ".attentions.0." + m);
    resnet(p + ".resnets.0", false);
    resnet(p + ".resnets.1", false);
  };
  const int n = static_cast<int>(ch.size());
  add("encoder.conv_in");
  for (int i = 0; i < n; ++i) {
    const int64_t in = i == 0 ? ch[0] : ch[i - 1];
    for (int j = 0; j < layers; ++j) {
      resnet(absl::StrCat("encoder.down_blocks.", i, ".resnets.", j), j == 0 && in != ch[i]);
    }
    if (i + 1 < n) add(absl::StrCat("encoder.down_blocks.", i, ".downsamplers.0.conv"));
  }
  mid("encoder.mid_block");
  add("encoder.conv_norm_out");
  add("encoder.conv_out");
  add("quant_conv");
  add("post_quant_conv");
  add("decoder.conv_in");
  mid("decoder.mid_block");
  for (int i = 0; i < n; ++i) {
    const int64_t out = ch[n - 1 - i];
    const int64_t in = i == 0 ? ch[n - 1] : ch[n - i];
    for (int j = 0; j < layers + 1; ++j) {
      resnet(absl::StrCat("decoder.up_blocks.", i, ".resnets.", j), j == 0 && in != out);
    }
    if (i + 1 < n) add(absl::StrCat("decoder.up_blocks.", i, ".upsamplers.0.conv"));
  }
  add("decoder.conv_norm_out");
  add("decoder.conv_out");
  return keys;
}

TEST(VaeTest, FullSizeSd15ParameterCountAndKeys) {
  auto vae = AutoencoderKL::Create(VaeConfig{}, {});
  ASSERT_TRUE(vae.ok()) << vae.status();
  int64_t count = 0;
  std::set<std::string> names;
  for (const auto& p : (*vae)->module().named_parameters()) {
    count += p.value().numel();
    names.insert(p.key());
  }
  EXPECT_EQ(count, 83653863);
  const ExpectedTensors sd15 = AutoencoderKL::ExpectedWeights(VaeConfig{});
  EXPECT_TRUE(CheckExpectedMatchesModule(sd15, (*vae)->module()).ok())
      << CheckExpectedMatchesModule(sd15, (*vae)->module());
  EXPECT_EQ(sd15.NumElements(), 83653863);
  EXPECT_TRUE((*vae)->module().named_buffers().is_empty());
  const std::set<std::string> expected = ExpectedKeys({128, 256, 512, 512}, 2);
  std::vector<std::string> missing, unexpected;
  std::set_difference(expected.begin(), expected.end(), names.begin(), names.end(), std::back_inserter(missing));
  std::set_difference(names.begin(), names.end(), expected.begin(), expected.end(), std::back_inserter(unexpected));
  EXPECT_TRUE(missing.empty()) << "missing: " << absl::StrJoin(missing, ", ");
  EXPECT_TRUE(unexpected.empty()) << "unexpected: " << absl::StrJoin(unexpected, ", ");
  EXPECT_EQ(names.size(), expected.size());
}

// ExpectedWeights mirrors the module for the options that change shapes.
TEST(VaeTest, ExpectedWeightsMatchTheBuiltModule) {
  std::vector<VaeConfig> configs = {TinyConfig()};
  VaeConfig c = TinyConfig();
  c.block_out_channels = {16, 32, 32};
  c.layers_per_block = 2;
  c.norm_num_groups = 8;
  c.in_channels = 1;
  c.out_channels = 5;
  c.latent_channels = 3;
  c.mid_block_add_attention = false;
  configs.push_back(c);
  for (size_t i = 0; i < configs.size(); ++i) {
    auto vae = AutoencoderKL::Create(configs[i], {});
    ASSERT_TRUE(vae.ok()) << vae.status();
    const ExpectedTensors expected = AutoencoderKL::ExpectedWeights(configs[i]);
    EXPECT_TRUE(CheckExpectedMatchesModule(expected, (*vae)->module()).ok())
        << "config " << i << ": " << CheckExpectedMatchesModule(expected, (*vae)->module());
  }
}

TEST(VaeTest, ConfigRangesNameTheKey) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"block_out_channels": [1000000000, 1000000000]})", "block_out_channels[0] = 1000000000 is outside [1, 16384]"},
      {R"({"block_out_channels": []})", "block_out_channels has 0 entries"},
      {R"({"block_out_channels": [32], "layers_per_block": 0})", "layers_per_block = 0 is outside [1, 16]"},
      {R"({"block_out_channels": [32], "latent_channels": 1000000})", "latent_channels = 1000000 is outside"},
      {R"({"block_out_channels": [32], "norm_num_groups": 5})", "block_out_channels[0] = 32 is not divisible by norm_num_groups 5"},
      {R"({"block_out_channels": [32], "scaling_factor": -1})", "scaling_factor = -1 must be in (0, 1e6]"},
      {R"({"block_out_channels": [32], "sample_size": 0})", "sample_size = 0 is outside"},
  };
  for (const auto& [text, expected] : cases) {
    auto json = core::JsonConfig::FromString(text, "vae/config.json");
    ASSERT_TRUE(json.ok());
    const absl::Status s = VaeConfig::FromJson(*json).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(std::string(s.message()), HasSubstr("vae/config.json: "));
    EXPECT_THAT(std::string(s.message()), HasSubstr(expected));
  }
}

TEST(VaeTest, TinyReferenceKeysFollowThePattern) {
  auto vae = AutoencoderKL::Create(TinyConfig(), {});
  ASSERT_TRUE(vae.ok());
  std::set<std::string> names;
  for (const auto& p : (*vae)->module().named_parameters()) names.insert(p.key());
  EXPECT_EQ(names, ExpectedKeys({32, 64}, 1));
}

TEST(VaeTest, SamplingIsReproducibleWithASeededCpuGenerator) {
  auto vae = AutoencoderKL::Create(TinyConfig(), {});
  ASSERT_TRUE(vae.ok());
  torch::manual_seed(3);
  auto dist = (*vae)->Encode(torch::rand({2, 3, 16, 16}) * 2 - 1);
  ASSERT_TRUE(dist.ok());
  at::Generator g1 = at::detail::createCPUGenerator(42), g2 = at::detail::createCPUGenerator(42),
                g3 = at::detail::createCPUGenerator(43);
  auto a = dist->Sample(g1), b = dist->Sample(g2), c = dist->Sample(g3);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_TRUE(torch::equal(*a, *b));
  EXPECT_FALSE(torch::equal(*a, *c));
  // mean + std · ε with ε the generator's first normal draws.
  at::Generator g4 = at::detail::createCPUGenerator(42);
  const torch::Tensor eps = at::randn(dist->mean.sizes(), g4, torch::kFloat);
  EXPECT_TRUE(torch::allclose(*a, dist->mean + dist->std * eps, 1e-6, 1e-6));
  // The generator advances: a second draw differs.
  auto again = dist->Sample(g1);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(torch::equal(*a, *again));
  EXPECT_TRUE(torch::equal(dist->Mode(), dist->mean));
}

TEST(VaeTilingTest, BlendMatchesTheUpstreamLoop) {
  torch::manual_seed(0);
  const torch::Tensor a = torch::rand({1, 2, 6, 5}), b = torch::rand({1, 2, 4, 5});
  const torch::Tensor v = BlendV(a, b, 3);
  torch::Tensor expected = b.clone();
  for (int y = 0; y < 3; ++y) {
    expected.select(2, y).copy_(a.select(2, 6 - 3 + y) * (1 - y / 3.0) + b.select(2, y) * (y / 3.0));
  }
  EXPECT_TRUE(torch::allclose(v, expected, 1e-6, 1e-6));
  EXPECT_TRUE(torch::equal(BlendV(a, b, 0), b));
  // extent is capped by the smaller tile.
  const torch::Tensor h = BlendH(torch::rand({1, 2, 4, 2}), b, 4);
  EXPECT_TRUE(torch::equal(h.narrow(3, 2, 3), b.narrow(3, 2, 3)));
}

TEST(VaeTilingTest, TileAndBlendWithIdentityReassemblesTheInput) {
  torch::manual_seed(0);
  const torch::Tensor x = torch::rand({2, 3, 37, 29});
  TileGeometry g{8, 6, 8, 2};
  // Identical overlapping content blends to itself.
  EXPECT_TRUE(torch::allclose(TileAndBlend(x, g, [](const at::Tensor& t) { return t; }), x, 1e-6, 1e-6));
}

// Mean |a - b| over pixels at least tile/4 from the edges of the tile they
// come from (the first tile row/column has no upper/left seam).
double InteriorMeanAbsDiff(const torch::Tensor& a, const torch::Tensor& b, int64_t tile) {
  const int64_t stride = tile * 3 / 4, margin = tile / 4;
  auto interior = [&](int64_t n) {
    torch::Tensor keep = torch::zeros({n}, torch::kBool);
    for (int64_t i = 0; i < n; ++i) keep[i] = i < stride || i % stride >= margin;
    return keep;
  };
  const torch::Tensor mask = interior(a.size(2)).view({-1, 1}) & interior(a.size(3)).view({1, -1});
  return (a - b).abs().masked_select(mask.expand_as(a)).mean().item<double>();
}

TEST(VaeTilingTest, TiledDecodeConvergesToUntiledAwayFromSeams) {
  auto vae = LoadReferenceVae();  // tiny weights, downscale factor 2
  ASSERT_NE(vae, nullptr);
  // A stationary latent (i.i.d. noise), so that per-tile GroupNorm statistics
  // resemble the global ones. GroupNorm and the mid-block attention are not
  // local, so tiles are never exact (nor are they in diffusers).
  torch::manual_seed(5);
  const torch::Tensor z = torch::randn({1, 4, 48, 60});
  auto full = vae->Decode(z);
  ASSERT_TRUE(full.ok()) << full.status();
  const double scale = full->abs().mean().item<double>();
  std::vector<double> errors;
  for (int64_t tile : {16, 32, 64}) {
    VaeTiling tiling;
    tiling.enabled = true;
    tiling.tile_sample_size = tile;
    vae->set_tiling(tiling);
    auto tiled = vae->Decode(z);
    ASSERT_TRUE(tiled.ok()) << tiled.status();
    ASSERT_EQ(tiled->sizes(), (std::vector<int64_t>{1, 3, 96, 120}));
    errors.push_back(InteriorMeanAbsDiff(*tiled, *full, tile));
    std::cout << "tile " << tile << " px: interior mean abs diff " << errors.back() << " (mean |untiled| " << scale
              << ")\n";
  }
  EXPECT_LT(errors[1], errors[0]);
  EXPECT_LT(errors[2], errors[1]);
  EXPECT_LT(errors[2], 0.15 * scale);

  // A latent no larger than the tile is decoded untiled, exactly.
  VaeTiling big;
  big.enabled = true;
  big.tile_sample_size = 120;
  vae->set_tiling(big);
  auto untiled = vae->Decode(z);
  ASSERT_TRUE(untiled.ok());
  EXPECT_TRUE(torch::equal(*untiled, *full));
}

TEST(VaeTilingTest, TilingNeverBuildsAnActivationLargerThanATile) {
  auto vae = LoadReferenceVae();
  ASSERT_NE(vae, nullptr);
  torch::manual_seed(6);
  const torch::Tensor z = torch::randn({2, 4, 24, 30});
  const torch::Tensor image = torch::rand({2, 3, 50, 36}) * 2 - 1;
  VaeTiling tiling;
  tiling.enabled = true;
  tiling.tile_sample_size = 16;  // latent tile 8: stride 6 latents, blend 4 px
  vae->set_tiling(tiling);
  EXPECT_EQ(vae->tile_latent_size(), 8);
  int64_t max_h = 0, max_w = 0, observed = 0;
  vae->set_activation_observer([&](const std::string&, const at::Tensor& t) {
    max_h = std::max(max_h, t.size(2));
    max_w = std::max(max_w, t.size(3));
    ++observed;
  });
  auto decoded = vae->Decode(z);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->sizes(), (std::vector<int64_t>{2, 3, 48, 60}));
  EXPECT_GT(observed, 0);
  EXPECT_LE(max_h, 16);
  EXPECT_LE(max_w, 16);

  max_h = max_w = observed = 0;
  auto dist = vae->Encode(image);
  ASSERT_TRUE(dist.ok()) << dist.status();
  EXPECT_EQ(dist->mean.sizes(), (std::vector<int64_t>{2, 4, 25, 18}));
  EXPECT_EQ(dist->std.sizes(), dist->mean.sizes());
  EXPECT_GT(observed, 0);
  EXPECT_LE(max_h, 16);
  EXPECT_LE(max_w, 16);

  // Without tiling the decoder's last block output is the whole image.
  vae->set_tiling({});
  max_h = max_w = 0;
  ASSERT_TRUE(vae->Decode(z).ok());
  EXPECT_EQ(max_h, 48);
  EXPECT_EQ(max_w, 60);
}

TEST(VaeTilingTest, TiledEncodeConvergesToUntiled) {
  auto vae = LoadReferenceVae();
  ASSERT_NE(vae, nullptr);
  torch::manual_seed(7);
  const torch::Tensor image = torch::rand({1, 3, 96, 120}) * 2 - 1;
  auto full = vae->Encode(image);
  ASSERT_TRUE(full.ok());
  const double scale = full->mean.abs().mean().item<double>();
  std::vector<double> errors;
  for (int64_t tile : {32, 64}) {
    VaeTiling tiling;
    tiling.enabled = true;
    tiling.tile_sample_size = tile;
    vae->set_tiling(tiling);
    auto tiled = vae->Encode(image);
    ASSERT_TRUE(tiled.ok()) << tiled.status();
    ASSERT_EQ(tiled->mean.sizes(), (std::vector<int64_t>{1, 4, 48, 60}));
    errors.push_back(InteriorMeanAbsDiff(tiled->mean, full->mean, tile / 2));
    std::cout << "encode tile " << tile << " px: interior mean abs diff " << errors.back() << " (mean |untiled| "
              << scale << ")\n";
  }
  EXPECT_LT(errors[1], errors[0]);
  EXPECT_LT(errors[1], 0.15 * scale);
}

}  // namespace
}  // namespace dreamshot::models::vae
