// Code-point level helpers over ICU that reproduce the Python string semantics
// the upstream CLIP tokenizer relies on (str.isspace, str.lower,
// unicodedata.normalize/category). Text is handled as UTF-32 so that the
// tokenizer's scanners can index characters the way Python indexes a str.
#ifndef DREAMSHOT_MODELS_CLIP_UNICODE_TEXT_H_
#define DREAMSHOT_MODELS_CLIP_UNICODE_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace dreamshot::models::clip {

using CodePoints = std::u32string;

// Ill-formed UTF-8 becomes U+FFFD per maximal subpart, like Python's
// bytes.decode("utf-8", errors="replace").
CodePoints DecodeUtf8(absl::string_view utf8);
std::string EncodeUtf8(const CodePoints& text);
void AppendUtf8(char32_t c, std::string* out);

// Python's str.lower(): full Unicode lower-case mapping without locale
// tailoring (ICU root locale; final-sigma context included).
CodePoints ToLower(const CodePoints& text);

enum class NormalForm { kNfc, kNfd, kNfkc };
CodePoints Normalize(const CodePoints& text, NormalForm form);

// str.isspace(): general category Zs or bidi class WS, B or S. This is the
// class of Python's `re` `\s` and of str.split()/str.strip().
bool IsPySpace(char32_t c);
// The `regex` module's `\s` (Unicode White_Space).
bool IsWhiteSpace(char32_t c);
// \p{L} and \p{N}.
bool IsLetter(char32_t c);
bool IsNumber(char32_t c);
// Simple case folding (CaseFolding.txt C+S), what the `regex` module's
// IGNORECASE compares literals with.
char32_t SimpleFold(char32_t c);
// unicodedata.category(c)[0] == 'C', 'P' and category == "Mn".
bool IsOtherCategory(char32_t c);
bool IsPunctuationCategory(char32_t c);
bool IsNonspacingMark(char32_t c);
bool IsSpaceSeparator(char32_t c);

}  // namespace dreamshot::models::clip

#endif  // DREAMSHOT_MODELS_CLIP_UNICODE_TEXT_H_
