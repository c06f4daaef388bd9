#include "models/clip/tokenizer.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <iostream>
#include <set>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/testdata_paths.h"
#include "gtest/gtest.h"
#include "models/clip/byte_unicode.h"
#include "models/clip/testdata_reader.h"
#include "models/clip/tokenizer_files.h"
#include "nlohmann/json.hpp"

namespace dreamshot::models::clip {
namespace {

constexpr int64_t kBos = 49406;
constexpr int64_t kEos = 49407;

std::string TokenizerDir() { return core::ReferencePath("tiny_sd/tokenizer"); }

// One tokenizer for the whole suite: loading vocab.json takes ~100 ms.
const ClipTokenizer& Tokenizer() {
  static const ClipTokenizer* tokenizer = [] {
    absl::StatusOr<ClipTokenizer> loaded = ClipTokenizer::FromFolder(TokenizerDir());
    if (!loaded.ok()) {
      ADD_FAILURE() << loaded.status() << " (set DREAMSHOT_REFERENCE_DIR?)";
      std::abort();
    }
    return new ClipTokenizer(*std::move(loaded));
  }();
  return *tokenizer;
}

struct ReferenceCase {
  std::string prompt;
  std::vector<std::string> bpe_tokens;
  bool differs_without_ftfy = false;
};

struct Reference {
  std::vector<ReferenceCase> cases;
  Int64Tensor input_ids, input_ids_without_ftfy, attention_mask;
};

Reference LoadReference() {
  Reference ref;
  std::ifstream in(core::ReferencePath("cases/tokenizer_cases.json"));
  EXPECT_TRUE(in) << "missing cases/tokenizer_cases.json under " << core::ReferenceDir();
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json json = nlohmann::json::parse(text.str(), nullptr, false);
  EXPECT_FALSE(json.is_discarded());
  for (const auto& c : json.at("cases")) {
    ref.cases.push_back({c.at("prompt").get<std::string>(), c.at("bpe_tokens").get<std::vector<std::string>>(),
                         c.at("differs_without_ftfy").get<bool>()});
  }
  auto tensors = ReadInt64Safetensors(core::ReferencePath("cases/tokenizer_ids.safetensors"));
  EXPECT_TRUE(tensors.ok()) << tensors.status();
  if (tensors.ok()) {
    ref.input_ids = (*tensors)["input_ids"];
    ref.input_ids_without_ftfy = (*tensors)["input_ids_without_ftfy"];
    ref.attention_mask = (*tensors)["attention_mask"];
  }
  return ref;
}

std::vector<int64_t> Row(const Int64Tensor& t, size_t i) {
  const int64_t width = t.shape.at(1);
  return std::vector<int64_t>(t.values.begin() + i * width, t.values.begin() + (i + 1) * width);
}

std::vector<int64_t> ToVector(absl::Span<const int64_t> span) { return {span.begin(), span.end()}; }

// Prints where two id rows first differ, with the tokens there.
std::string Mismatch(const ClipTokenizer& tok, const std::vector<int64_t>& want, const std::vector<int64_t>& got) {
  size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i]) ++i;
  if (i == want.size() && i == got.size()) return "";
  auto at = [&](const std::vector<int64_t>& v) {
    return i < v.size() ? absl::StrCat(v[i], " '", tok.IdToToken(v[i]), "'") : std::string("<end>");
  };
  return absl::StrCat("first difference at position ", i, ": want ", at(want), ", got ", at(got));
}

TEST(ClipTokenizerTest, ReferenceShapes) {
  const Reference ref = LoadReference();
  ASSERT_EQ(ref.cases.size(), 40u);
  EXPECT_EQ(ref.input_ids.shape, (std::vector<int64_t>{40, 77}));
  EXPECT_EQ(ref.input_ids_without_ftfy.shape, (std::vector<int64_t>{40, 77}));
  EXPECT_EQ(ref.attention_mask.shape, (std::vector<int64_t>{40, 77}));
}

TEST(ClipTokenizerTest, AllReferencePromptsWithFtfy) {
  const Reference ref = LoadReference();
  ASSERT_EQ(ref.cases.size(), 40u);
  const ClipTokenizer& tok = Tokenizer();
  int matched = 0;
  for (size_t i = 0; i < ref.cases.size(); ++i) {
    const TokenizedBatch batch = tok.Tokenize({ref.cases[i].prompt});
    ASSERT_EQ(batch.seq_len, 77);
    const std::vector<int64_t> ids = ToVector(batch.ids_row(0));
    const std::string where = Mismatch(tok, Row(ref.input_ids, i), ids);
    EXPECT_EQ(where, "") << "case " << i << " '" << ref.cases[i].prompt << "'";
    EXPECT_EQ(ToVector(batch.mask_row(0)), Row(ref.attention_mask, i)) << "case " << i;
    matched += where.empty();
  }
  std::cout << "ftfy path: " << matched << "/40 reference prompts exact\n";
}

TEST(ClipTokenizerTest, AllReferencePromptsWithoutFtfy) {
  const Reference ref = LoadReference();
  ASSERT_EQ(ref.cases.size(), 40u);
  const ClipTokenizer tok = Tokenizer().WithCleanup(TextCleanup::kBasicTokenizer);
  int matched = 0;
  for (size_t i = 0; i < ref.cases.size(); ++i) {
    const TokenizedBatch batch = tok.Tokenize({ref.cases[i].prompt});
    const std::vector<int64_t> ids = ToVector(batch.ids_row(0));
    const std::string where = Mismatch(tok, Row(ref.input_ids_without_ftfy, i), ids);
    EXPECT_EQ(where, "") << "case " << i << " '" << ref.cases[i].prompt << "'";
    // The reference mask belongs to the ftfy ids; derive this one from eos.
    const auto& mask = batch.mask_row(0);
    const int64_t ones = std::count(mask.begin(), mask.end(), 1);
    EXPECT_EQ(ids[ones - 1], kEos);
    matched += where.empty();
  }
  std::cout << "BasicTokenizer path: " << matched << "/40 reference prompts exact\n";
}

TEST(ClipTokenizerTest, WholeBatchMatchesReferenceTensors) {
  const Reference ref = LoadReference();
  std::vector<std::string> prompts;
  for (const auto& c : ref.cases) prompts.push_back(c.prompt);
  const TokenizedBatch batch = Tokenizer().Tokenize(prompts);
  EXPECT_EQ(batch.batch_size, 40);
  EXPECT_EQ(batch.seq_len, 77);
  EXPECT_EQ(batch.input_ids, ref.input_ids.values);
  EXPECT_EQ(batch.attention_mask, ref.attention_mask.values);
}

TEST(ClipTokenizerTest, BpeTokenStringsMatchReference) {
  const Reference ref = LoadReference();
  const ClipTokenizer& tok = Tokenizer();
  for (size_t i = 0; i < ref.cases.size(); ++i) {
    std::vector<std::string> tokens;
    for (int64_t id : tok.Encode(ref.cases[i].prompt)) tokens.emplace_back(tok.IdToToken(id));
    EXPECT_EQ(absl::StrJoin(tokens, " "), absl::StrJoin(ref.cases[i].bpe_tokens, " ")) << "case " << i;
  }
}

TEST(ClipTokenizerTest, DifferenceFlagsMatchReference) {
  const Reference ref = LoadReference();
  const ClipTokenizer& ftfy = Tokenizer();
  const ClipTokenizer basic = ftfy.WithCleanup(TextCleanup::kBasicTokenizer);
  for (const auto& c : ref.cases) {
    EXPECT_EQ(ftfy.Encode(c.prompt) != basic.Encode(c.prompt), c.differs_without_ftfy) << c.prompt;
  }
}

// OpenAI's file is "#version: 0.2" plus merges, gzipped; merges.txt is the
// same list, so gzipping it rebuilds an equivalent bpe_simple_vocab file.
TEST(ClipTokenizerTest, FromOpenAiBpeMatchesFolder) {
  absl::StatusOr<std::string> merges = ReadTextFile(TokenizerDir() + "/merges.txt");
  ASSERT_TRUE(merges.ok()) << merges.status();
  const std::string gz_path = absl::StrCat(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp",
                                           "/bpe_simple_vocab_16e6.txt.gz");
  gzFile out = gzopen(gz_path.c_str(), "wb");
  ASSERT_NE(out, nullptr);
  ASSERT_EQ(gzwrite(out, merges->data(), static_cast<unsigned>(merges->size())), static_cast<int>(merges->size()));
  ASSERT_EQ(gzclose(out), Z_OK);

  absl::StatusOr<ClipTokenizer> openai = ClipTokenizer::FromOpenAiBpe(gz_path);
  ASSERT_TRUE(openai.ok()) << openai.status();
  const ClipTokenizer& folder = Tokenizer();
  ASSERT_EQ(openai->vocab_size(), 49408);
  ASSERT_EQ(openai->vocab_size(), folder.vocab_size());
  for (int64_t id = 0; id < folder.vocab_size(); ++id) {
    ASSERT_EQ(openai->IdToToken(id), folder.IdToToken(id)) << "id " << id;
  }
  EXPECT_EQ(openai->bos_id(), kBos);
  EXPECT_EQ(openai->eos_id(), kEos);
  const Reference ref = LoadReference();
  std::vector<std::string> prompts;
  for (const auto& c : ref.cases) prompts.push_back(c.prompt);
  EXPECT_EQ(openai->Tokenize(prompts).input_ids, ref.input_ids.values);
  EXPECT_EQ(openai->WithCleanup(TextCleanup::kBasicTokenizer).Tokenize(prompts).input_ids,
            ref.input_ids_without_ftfy.values);
}

TEST(ClipTokenizerTest, BytesToUnicodeTable) {
  const std::array<char32_t, 256> table = ByteToUnicode();
  std::set<char32_t> distinct(table.begin(), table.end());
  EXPECT_EQ(distinct.size(), 256u);
  EXPECT_EQ(table['!'], U'!');
  EXPECT_EQ(table['a'], U'a');
  EXPECT_EQ(table[0], U'\u0100');    // first non-printable byte
  EXPECT_EQ(table[' '], U'\u0120');  // 'Ġ'
  EXPECT_EQ(table[0xAD], U'\u0143'); // soft hyphen is the last of the 68
  for (int b = 0; b < 256; ++b) EXPECT_EQ(UnicodeToByte(table[b]), b);
  EXPECT_EQ(UnicodeToByte(U'\u0144'), -1);
  // The vocabulary starts with the byte characters in table order.
  EXPECT_EQ(Tokenizer().IdToToken(0), "!");
  EXPECT_EQ(Tokenizer().IdToToken(256), "!</w>");
}

TEST(ClipTokenizerTest, KnownMerges) {
  const ClipTokenizer& tok = Tokenizer();
  EXPECT_EQ(tok.bpe().num_merges(), 48894u);
  EXPECT_EQ(tok.bpe().MergeRank("i", "n"), 0);
  EXPECT_EQ(tok.bpe().MergeRank("t", "h"), 1);
  EXPECT_EQ(tok.bpe().MergeRank("q", "z"), -1);
  EXPECT_EQ(tok.Encode("a photo of sks dog"), (std::vector<int64_t>{320, 1125, 539, 48136, 1929}));
  EXPECT_EQ(tok.IdToToken(tok.Encode("in")[0]), "in</w>");
}

TEST(ClipTokenizerTest, EmptyPrompt) {
  const ClipTokenizer& tok = Tokenizer();
  EXPECT_TRUE(tok.Encode("").empty());
  EXPECT_TRUE(tok.Encode(" \t\n ").empty());
  const TokenizedBatch batch = tok.Tokenize({""});
  std::vector<int64_t> want(77, kEos);
  want[0] = kBos;
  EXPECT_EQ(ToVector(batch.ids_row(0)), want);
  EXPECT_EQ(std::count(batch.attention_mask.begin(), batch.attention_mask.end(), 1), 2);
}

TEST(ClipTokenizerTest, TruncationKeepsEosLast) {
  std::string prompt;
  for (int i = 0; i < 100; ++i) absl::StrAppend(&prompt, "dog ");
  const TokenizedBatch batch = Tokenizer().Tokenize({prompt});
  ASSERT_EQ(batch.seq_len, 77);
  EXPECT_EQ(batch.input_ids[0], kBos);
  EXPECT_EQ(batch.input_ids[75], 1929);
  EXPECT_EQ(batch.input_ids[76], kEos);
  EXPECT_EQ(std::count(batch.attention_mask.begin(), batch.attention_mask.end(), 1), 77);

  const TokenizedBatch untruncated = Tokenizer().Tokenize({prompt}, 77, /*pad=*/true, /*truncate=*/false);
  EXPECT_EQ(untruncated.seq_len, 102);
  EXPECT_EQ(untruncated.input_ids.back(), kEos);
}

TEST(ClipTokenizerTest, NoPaddingPadsToLongestRow) {
  const TokenizedBatch batch = Tokenizer().Tokenize({"a photo of dog", "a dog"}, 77, /*pad=*/false);
  EXPECT_EQ(batch.seq_len, 6);
  EXPECT_EQ(ToVector(batch.ids_row(1)), (std::vector<int64_t>{kBos, 320, 1929, kEos, kEos, kEos}));
  EXPECT_EQ(ToVector(batch.mask_row(1)), (std::vector<int64_t>{1, 1, 1, 1, 0, 0}));
}

TEST(ClipTokenizerTest, EmojiAndAccents) {
  const ClipTokenizer& tok = Tokenizer();
  // NFC: "e" + combining acute is the same word as "é".
  EXPECT_EQ(tok.Encode("cafe\u0301"), tok.Encode("café"));
  EXPECT_EQ(tok.Encode("CAFÉ"), tok.Encode("café"));
  // Emoji are byte-level tokens, never unknown.
  for (int64_t id : tok.Encode("🐶🔥")) EXPECT_NE(id, tok.unk_id());
  // Without ftfy, accents are stripped.
  EXPECT_EQ(tok.WithCleanup(TextCleanup::kBasicTokenizer).Encode("café"), tok.Encode("cafe"));
}

TEST(ClipTokenizerTest, WhitespaceCleanup) {
  const ClipTokenizer& tok = Tokenizer();
  EXPECT_EQ(tok.Encode("  a\t\tphoto \n\n of\u00a0dog\u3000 "), tok.Encode("a photo of dog"));
}

TEST(ClipTokenizerTest, LiteralSpecialTokens) {
  const ClipTokenizer& tok = Tokenizer();
  EXPECT_EQ(tok.Encode("<|startoftext|>dog<|endoftext|>"), (std::vector<int64_t>{kBos, 1929, kEos}));
  // After HTML unescaping the regex still recognises them.
  EXPECT_EQ(tok.Encode("&lt;|endoftext|&gt;"), (std::vector<int64_t>{kEos}));
}

TEST(ClipTokenizerTest, DecodeRoundTrip) {
  const ClipTokenizer& tok = Tokenizer();
  for (const char* text : {"a photo of sks dog", "close shot, sarah speaking directly to the camera",
                           "emoji party 🎉🐶🔥 done", "日本語のテキスト", "crème brûlée"}) {
    absl::StatusOr<std::string> decoded = tok.Decode(tok.Encode(text));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, text);
  }
  const TokenizedBatch batch = tok.Tokenize({"a photo of dog"});
  EXPECT_EQ(*tok.Decode(batch.input_ids), "a photo of dog");
  EXPECT_EQ(*tok.Decode(batch.ids_row(0).subspan(0, 6), /*skip_special_tokens=*/false),
            "<|startoftext|>a photo of dog <|endoftext|>");
  EXPECT_EQ(*tok.Decode(tok.Encode("hello , world !")), "hello, world!");
  EXPECT_FALSE(tok.Decode({123456}).ok());
}

TEST(ClipTokenizerTest, CacheIsBoundedAndClearable) {
  ClipTokenizerOptions options;
  options.cache_capacity = 4;
  absl::StatusOr<ClipTokenizer> tok = ClipTokenizer::FromFolder(TokenizerDir(), options);
  ASSERT_TRUE(tok.ok()) << tok.status();
  const std::vector<int64_t> first = tok->Encode("one two three four five six seven");
  EXPECT_EQ(tok->cache_size(), 4u);
  EXPECT_EQ(tok->Encode("one two three four five six seven"), first);
  tok->ClearCache();
  EXPECT_EQ(tok->cache_size(), 0u);
  EXPECT_EQ(tok->Encode("one two three four five six seven"), first);
}

TEST(ClipTokenizerTest, ConcurrentEncodeAgrees) {
  const Reference ref = LoadReference();
  const ClipTokenizer tok = Tokenizer().WithCleanup(TextCleanup::kFtfy);
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        for (size_t i = 0; i < ref.cases.size(); ++i) {
          if (tok.Tokenize({ref.cases[i].prompt}).input_ids != Row(ref.input_ids, i)) ++failures[t];
        }
        if (t == 0) tok.ClearCache();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

TEST(ClipTokenizerTest, FolderConfigOverridesDefaults) {
  const std::string dir = absl::StrCat(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp", "/sd2_tok");
  ASSERT_EQ(std::system(absl::StrCat("mkdir -p ", dir, " && cp ", TokenizerDir(), "/vocab.json ", TokenizerDir(),
                                     "/merges.txt ", dir, "/")
                            .c_str()),
            0);
  std::ofstream(dir + "/special_tokens_map.json") << R"({"pad_token": "!", "bos_token": {"content": "<|startoftext|>"}})";
  std::ofstream(dir + "/tokenizer_config.json") << R"({"model_max_length": 1000000000000000019884624838656})";
  absl::StatusOr<ClipTokenizer> tok = ClipTokenizer::FromFolder(dir);
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_EQ(tok->pad_id(), 0);
  EXPECT_GT(tok->model_max_length(), 1000000);
  const TokenizedBatch batch = tok->Tokenize({"dog"});
  EXPECT_EQ(ToVector(batch.ids_row(0).subspan(0, 4)), (std::vector<int64_t>{kBos, 1929, kEos, 0}));
  // Special-token strings are split out before the regex, as upstream does.
  EXPECT_EQ(tok->Encode("dog!"), (std::vector<int64_t>{1929, 0}));

  std::ofstream(dir + "/special_tokens_map.json") << R"({"pad_token": "<|notintheVocab|>"})";
  EXPECT_EQ(ClipTokenizer::FromFolder(dir).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ClipTokenizerTest, MissingFolderIsNotFound) {
  EXPECT_EQ(ClipTokenizer::FromFolder("/nonexistent/tokenizer").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ClipTokenizer::FromOpenAiBpe("/nonexistent/bpe.txt.gz").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace dreamshot::models::clip
