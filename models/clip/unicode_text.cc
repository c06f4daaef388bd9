#include "models/clip/unicode_text.h"

#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <vector>

namespace dreamshot::models::clip {
namespace {

icu::UnicodeString ToIcu(const CodePoints& text) {
  return icu::UnicodeString::fromUTF32(reinterpret_cast<const UChar32*>(text.data()),
                                       static_cast<int32_t>(text.size()));
}

CodePoints FromIcu(const icu::UnicodeString& s) {
  CodePoints out;
  out.reserve(s.length());
  for (int32_t i = 0; i < s.length();) {
    const UChar32 c = s.char32At(i);
    out.push_back(static_cast<char32_t>(c));
    i += U16_LENGTH(c);
  }
  return out;
}

bool IsAscii(const CodePoints& text) {
  for (char32_t c : text) {
    if (c >= 0x80) return false;
  }
  return true;
}

}  // namespace

CodePoints DecodeUtf8(absl::string_view utf8) {
  CodePoints out;
  out.reserve(utf8.size());
  const auto* s = reinterpret_cast<const uint8_t*>(utf8.data());
  const int32_t length = static_cast<int32_t>(utf8.size());
  int32_t i = 0;
  while (i < length) {
    UChar32 c;
    // U8_NEXT advances past the maximal ill-formed subpart and yields c < 0.
    U8_NEXT(s, i, length, c);
    out.push_back(c < 0 ? U'\uFFFD' : static_cast<char32_t>(c));
  }
  return out;
}

void AppendUtf8(char32_t c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string EncodeUtf8(const CodePoints& text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) AppendUtf8(c, &out);
  return out;
}

CodePoints ToLower(const CodePoints& text) {
  // Prompts are mostly ASCII; skip the ICU round trip for them.
  if (IsAscii(text)) {
    CodePoints out = text;
    for (char32_t& c : out) {
      if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
    }
    return out;
  }
  icu::UnicodeString s = ToIcu(text);
  s.toLower(icu::Locale::getRoot());
  return FromIcu(s);
}

CodePoints Normalize(const CodePoints& text, NormalForm form) {
  if (IsAscii(text)) return text;  // ASCII is invariant under NFC/NFD/NFKC.
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* normalizer = nullptr;
  switch (form) {
    case NormalForm::kNfc:
      normalizer = icu::Normalizer2::getNFCInstance(status);
      break;
    case NormalForm::kNfd:
      normalizer = icu::Normalizer2::getNFDInstance(status);
      break;
    case NormalForm::kNfkc:
      normalizer = icu::Normalizer2::getNFKCInstance(status);
      break;
  }
  if (U_FAILURE(status) || normalizer == nullptr) return text;  // ICU data missing.
  const icu::UnicodeString normalized = normalizer->normalize(ToIcu(text), status);
  if (U_FAILURE(status)) return text;
  return FromIcu(normalized);
}

bool IsPySpace(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
  if (u_charType(c) == U_SPACE_SEPARATOR) return true;
  const UCharDirection dir = u_charDirection(c);
  return dir == U_WHITE_SPACE_NEUTRAL || dir == U_BLOCK_SEPARATOR || dir == U_SEGMENT_SEPARATOR;
}

bool IsWhiteSpace(char32_t c) { return u_isUWhiteSpace(c); }

bool IsLetter(char32_t c) {
  if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
  return (U_GET_GC_MASK(c) & U_GC_L_MASK) != 0;
}

bool IsNumber(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  return (U_GET_GC_MASK(c) & U_GC_N_MASK) != 0;
}

char32_t SimpleFold(char32_t c) { return static_cast<char32_t>(u_foldCase(c, U_FOLD_CASE_DEFAULT)); }

bool IsOtherCategory(char32_t c) { return (U_GET_GC_MASK(c) & U_GC_C_MASK) != 0; }

bool IsPunctuationCategory(char32_t c) { return (U_GET_GC_MASK(c) & U_GC_P_MASK) != 0; }

bool IsNonspacingMark(char32_t c) { return u_charType(c) == U_NON_SPACING_MARK; }

bool IsSpaceSeparator(char32_t c) { return u_charType(c) == U_SPACE_SEPARATOR; }

}  // namespace dreamshot::models::clip
