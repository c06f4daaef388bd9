#include "models/clip/text_fixer.h"

#include "gtest/gtest.h"
#include "models/clip/basic_tokenizer.h"
#include "models/clip/pretokenizer.h"
#include "models/clip/unicode_text.h"

namespace dreamshot::models::clip {
namespace {

std::string Fix(const std::string& text) { return EncodeUtf8(FixText(DecodeUtf8(text))); }

TEST(TextFixerTest, UnescapesHtmlUnlessALiteralAngleBracketAppears) {
  EXPECT_EQ(Fix("html &amp; entities &lt;b&gt; &quot;x&quot;"), "html & entities <b> \"x\"");
  EXPECT_EQ(Fix("<b>&amp;</b>"), "<b>&amp;</b>");
  EXPECT_EQ(Fix("&amp;amp;"), "&");            // repeated to a fixed point
  EXPECT_EQ(Fix("P&EACUTE;REZ"), "PÉREZ");     // ftfy's upper-case entities
  EXPECT_EQ(Fix("&nTILDE;"), "&nTILDE;");
  EXPECT_EQ(Fix("&#x41;&#66;&#x1F436;"), "AB🐶");
  EXPECT_EQ(Fix("&#59;"), "&#59;");            // decodes to ';': kept
  EXPECT_EQ(Fix("&#x92;s"), "'s");             // Windows-1252 remap, then uncurled
  EXPECT_EQ(Fix("&amp"), "&amp");              // needs the ';'
  EXPECT_EQ(Fix("a\n<\n&amp;"), "a\n<\n&amp;"); // off for later lines too
}

TEST(TextFixerTest, QuotesLigaturesWidthControls) {
  EXPECT_EQ(Fix("“smart” ‘single’ ʼ"), "\"smart\" 'single' '");
  EXPECT_EQ(Fix("ﬁ ﬂuﬃeﬆ Ĳ"), "fi fluffiest IJ");
  EXPECT_EQ(Fix("ＬＯＵＤ　ＮＯＩＳＥＳ"), "LOUD NOISES");
  EXPECT_EQ(Fix("Ｕﾀｰﾝ"), "Uターン");
  EXPECT_EQ(Fix("\xEF\xBB\xBFhi\x01\x7F"), "hi");
  EXPECT_EQ(Fix("\x1b[36;44mblue\x1b[0m"), "blue");
  EXPECT_EQ(Fix("a\r\nb\rc"), "a\nb\nc");
  EXPECT_EQ(Fix("\xC2\x85"), "…");  // C1 fix runs before fix_line_breaks
  EXPECT_EQ(Fix("\xC2\x80"), "€");
  EXPECT_EQ(Fix("cafe\xCC\x81"), "café");
  EXPECT_EQ(Fix("— – … 𝕓"), "— – … 𝕓");  // left alone (not NFKC)
}

TEST(PretokenizerTest, RegexSplitsLikeUpstream) {
  auto words = [](const std::string& text) {
    std::vector<std::string> out;
    for (const Word& w : SplitWords(DecodeUtf8(text))) out.push_back(w.utf8);
    return out;
  };
  EXPECT_EQ(words("don't 'starry 1889 !!!?? a-b"),
            (std::vector<std::string>{"don", "'t", "'s", "tarry", "1", "8", "8", "9", "!!!??", "a", "-", "b"}));
  EXPECT_EQ(words("x<|endoftext|>y <<|startoftext|>"),
            (std::vector<std::string>{"x", "<|endoftext|>", "y", "<<|", "startoftext", "|>"}));
  EXPECT_EQ(words("'ſ"), (std::vector<std::string>{"'ſ"}));  // IGNORECASE folds ſ to s
}

TEST(PretokenizerTest, WhitespaceCleanUsesPythonSpaces) {
  EXPECT_EQ(EncodeUtf8(WhitespaceClean(DecodeUtf8("\x1c a\xC2\xA0\xE2\x80\x89 b \xE2\x80\x8B"))),
            "a b \xE2\x80\x8B");  // U+200B is not a space in Python
}

TEST(BasicTokenizerTest, MatchesBertBasicTokenizer) {
  EXPECT_EQ(EncodeUtf8(BasicTokenizeJoined(DecodeUtf8("Hello, World! how's naïve 日本 a\xE2\x80\x8D" "b"))),
            "hello , world ! how ' s naive 日 本 ab");
}

}  // namespace
}  // namespace dreamshot::models::clip
