// What a trained adapter's __metadata__ records, in dreamshot.* and kohya's
// ss_* keys.
#include "services/adapter_metadata.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dreamshot::services {
namespace {

using ::testing::HasSubstr;

v1::TrainConfig Config() {
  v1::TrainConfig c;
  c.set_base_model("/models/sd15");
  c.set_token("sks");
  c.set_shot_scale("close");
  c.set_resolution(512);
  c.set_rank(8);
  c.add_target_modules("to_q");
  c.add_target_modules("to_v");
  c.set_learning_rate(1e-4);
  c.set_lr_scheduler("cosine");
  c.set_max_train_steps(400);
  c.set_gradient_accumulation_steps(2);
  c.set_prior_loss_weight(1);
  c.set_max_grad_norm(1);
  c.set_seed(7);
  return c;
}

AdapterFacts Facts() {
  AdapterFacts f;
  f.base_model_sha256 = "ab12";
  f.dataset_sha256 = "cd34";
  f.dataset_source = "pool run 3 split 'train' (close)";
  f.captions = {"a man, a desk", "a \"quoted\" man", ""};
  f.class_images = 5;
  f.run_id = 42;
  f.steps = 400;
  f.started_ms = 1000;
  f.finished_ms = 61500;
  return f;
}

TEST(AdapterMetadataTest, RecordsIdentityConfigAndData) {
  auto m = AdapterMetadata(Config(), Facts());
  EXPECT_EQ(m["dreamshot.run_id"], "42");
  EXPECT_EQ(m["dreamshot.base_model_sha256"], "ab12");
  EXPECT_EQ(m["dreamshot.rank"], "8");
  EXPECT_EQ(m["dreamshot.alpha"], "8");  // the rank when unset
  EXPECT_EQ(m["dreamshot.target_modules"], "to_q,to_v");
  EXPECT_EQ(m["dreamshot.shot_scale"], "close");
  EXPECT_EQ(m["dreamshot.token"], "sks");
  EXPECT_EQ(m["dreamshot.dataset_sha256"], "cd34");
  EXPECT_EQ(m["dreamshot.dataset"], "pool run 3 split 'train' (close)");
  EXPECT_FALSE(m["dreamshot.version"].empty());
  EXPECT_THAT(m["dreamshot.train_config"], HasSubstr("\"lr_scheduler\":\"cosine\""));
  EXPECT_THAT(m["dreamshot.train_config"], HasSubstr("\"rank\":8"));
}

TEST(AdapterMetadataTest, KohyaKeysAsSdScriptsWritesThem) {
  v1::TrainConfig c = Config();
  c.set_alpha(1);
  auto m = AdapterMetadata(c, Facts());
  EXPECT_EQ(m["ss_network_module"], "networks.lora");
  EXPECT_EQ(m["ss_network_dim"], "8");
  EXPECT_EQ(m["ss_network_alpha"], "1.0");
  EXPECT_EQ(m["ss_learning_rate"], "0.0001");
  EXPECT_EQ(m["ss_resolution"], "(512, 512)");
  EXPECT_EQ(m["ss_base_model_version"], "sd_v1");
  EXPECT_EQ(m["ss_text_encoder_lr"], "None");
  EXPECT_EQ(m["ss_min_snr_gamma"], "None");
  EXPECT_EQ(m["ss_num_train_images"], "3");
  EXPECT_EQ(m["ss_num_reg_images"], "5");
  EXPECT_EQ(m["ss_steps"], "400");
  EXPECT_EQ(m["ss_gradient_accumulation_steps"], "2");
  EXPECT_EQ(m["ss_training_started_at"], "1.000");
  EXPECT_EQ(m["ss_training_finished_at"], "61.500");
  EXPECT_EQ(m["ss_optimizer"], "torch.optim.adamw.AdamW(weight_decay=0.01,betas=(0.9, 0.999),eps=1e-08)");
  // Tags are the captions' comma-separated parts, counted; JSON-escaped.
  EXPECT_EQ(m["ss_tag_frequency"],
            "{\"pool run 3 split 'train' (close)\": {\"a \\\"quoted\\\" man\": 1, \"a desk\": 1, \"a man\": 1}}");
  EXPECT_EQ(m["ss_dataset_dirs"], "{\"pool run 3 split 'train' (close)\": {\"n_repeats\": 1, \"img_count\": 3}}");
  c.set_snr_gamma(5);
  EXPECT_EQ(AdapterMetadata(c, Facts())["ss_min_snr_gamma"], "5.0");
}

}  // namespace
}  // namespace dreamshot::services
