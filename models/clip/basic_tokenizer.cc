#include "models/clip/basic_tokenizer.h"

namespace dreamshot::models::clip {
namespace {

bool IsControl(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  return IsOtherCategory(c);
}

bool IsBertWhitespace(char32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || IsSpaceSeparator(c);
}

bool IsBertPunctuation(char32_t c) {
  // All non-alphanumeric ASCII counts, e.g. '^', '$', '`' (not category P).
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  return IsPunctuationCategory(c);
}

bool IsCjkIdeograph(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// str.split(): runs of str.isspace() characters separate tokens.
std::vector<CodePoints> SplitOnPySpace(const CodePoints& text) {
  std::vector<CodePoints> tokens;
  CodePoints current;
  for (char32_t c : text) {
    if (IsPySpace(c)) {
      if (!current.empty()) tokens.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) tokens.push_back(std::move(current));
  return tokens;
}

CodePoints StripAccents(const CodePoints& token) {
  CodePoints out;
  for (char32_t c : Normalize(token, NormalForm::kNfd)) {
    if (!IsNonspacingMark(c)) out.push_back(c);
  }
  return out;
}

}  // namespace

std::vector<CodePoints> BasicTokenize(const CodePoints& text) {
  CodePoints cleaned;
  cleaned.reserve(text.size());
  for (char32_t c : text) {
    if (c == 0 || c == 0xFFFD || IsControl(c)) continue;
    if (IsBertWhitespace(c)) {
      cleaned.push_back(' ');
    } else if (IsCjkIdeograph(c)) {
      cleaned.push_back(' ');
      cleaned.push_back(c);
      cleaned.push_back(' ');
    } else {
      cleaned.push_back(c);
    }
  }
  std::vector<CodePoints> split;
  for (const CodePoints& token : SplitOnPySpace(Normalize(cleaned, NormalForm::kNfc))) {
    const CodePoints lowered = StripAccents(ToLower(token));
    CodePoints current;
    for (char32_t c : lowered) {
      if (IsBertPunctuation(c)) {
        if (!current.empty()) split.push_back(std::move(current));
        current.clear();
        split.push_back(CodePoints(1, c));
      } else {
        current.push_back(c);
      }
    }
    if (!current.empty()) split.push_back(std::move(current));
  }
  // Upstream re-splits " ".join(split) on whitespace; lower-casing and accent
  // stripping can expose new whitespace only in pathological cases, so do
  // the same to stay exact.
  std::vector<CodePoints> out;
  for (const CodePoints& token : split) {
    for (CodePoints& piece : SplitOnPySpace(token)) out.push_back(std::move(piece));
  }
  return out;
}

CodePoints BasicTokenizeJoined(const CodePoints& text) {
  CodePoints joined;
  for (const CodePoints& token : BasicTokenize(text)) {
    if (!joined.empty()) joined.push_back(' ');
    joined += token;
  }
  return joined;
}

}  // namespace dreamshot::models::clip
