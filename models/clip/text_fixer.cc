#include "models/clip/text_fixer.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace dreamshot::models::clip {
namespace {

struct HtmlEntity {
  const char* name;
  const char* value;
};
struct NumericRemap {
  char32_t number;
  const char* value;
};

#include "models/clip/html_entities.inc"

bool IsAsciiAlnum(char32_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool IsHexDigit(char32_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

const HtmlEntity* FindEntity(const std::string& name) {
  const HtmlEntity* begin = std::begin(kHtmlEntities);
  const HtmlEntity* end = std::end(kHtmlEntities);
  const HtmlEntity* it = std::lower_bound(
      begin, end, name, [](const HtmlEntity& e, const std::string& n) { return std::strcmp(e.name, n.c_str()) < 0; });
  return it != end && name == it->name ? it : nullptr;
}

// html.unescape of a whole "&#...;" reference as ftfy uses it. Returns false
// when html.unescape would leave the ';' in place (partial match), in which
// case ftfy keeps the original text.
bool DecodeNumericReference(const CodePoints& body, CodePoints* out) {
  // body is what sits between "&#" and ';'.
  const bool hex = !body.empty() && (body[0] == 'x' || body[0] == 'X');
  const size_t first = hex ? 1 : 0;
  if (first >= body.size()) return false;
  uint64_t number = 0;
  for (size_t i = first; i < body.size(); ++i) {
    const char32_t c = body[i];
    if (hex ? !IsHexDigit(c) : !(c >= '0' && c <= '9')) return false;
    const uint32_t digit = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    number = number * (hex ? 16 : 10) + digit;
    if (number > 0x110000) number = 0x110000;  // Saturate: anything larger decodes the same.
  }
  for (const NumericRemap& remap : kNumericRemaps) {
    if (remap.number == number) {
      *out = DecodeUtf8(remap.value);
      return out->find(U';') == CodePoints::npos;
    }
  }
  if ((number >= 0xD800 && number <= 0xDFFF) || number > 0x10FFFF) {
    *out = U"\uFFFD";
    return true;
  }
  if (std::find(std::begin(kDroppedCodepoints), std::end(kDroppedCodepoints), number) !=
      std::end(kDroppedCodepoints)) {
    out->clear();
    return true;
  }
  *out = CodePoints(1, static_cast<char32_t>(number));
  return number != ';';  // "&#59;" decodes to ';', which ftfy rejects.
}

CodePoints UncurlQuotes(const CodePoints& text) {
  CodePoints out = text;
  for (char32_t& c : out) {
    if (c == 0x02BC || (c >= 0x2018 && c <= 0x201B)) {
      c = '\'';
    } else if (c >= 0x201C && c <= 0x201F) {
      c = '"';
    }
  }
  return out;
}

// Windows-1252 for 0x80..0x9F; the five undefined bytes map to themselves
// ("sloppy" decoding).
constexpr char16_t kCp1252High[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

CodePoints FixC1Controls(const CodePoints& text) {
  CodePoints out = text;
  for (char32_t& c : out) {
    if (c >= 0x80 && c <= 0x9F) c = kCp1252High[c - 0x80];
  }
  return out;
}

const char32_t* LigatureExpansion(char32_t c) {
  switch (c) {
    case 0x0132: return U"IJ";
    case 0x0133: return U"ij";
    case 0x0149: return U"\u02BCn";
    case 0x01C4: return U"D\u017D";
    case 0x01C5: return U"D\u017E";
    case 0x01C6: return U"d\u017E";
    case 0x01C7: return U"LJ";
    case 0x01C8: return U"Lj";
    case 0x01C9: return U"lj";
    case 0x01CA: return U"NJ";
    case 0x01CB: return U"Nj";
    case 0x01CC: return U"nj";
    case 0x01F1: return U"DZ";
    case 0x01F2: return U"Dz";
    case 0x01F3: return U"dz";
    case 0xFB00: return U"ff";
    case 0xFB01: return U"fi";
    case 0xFB02: return U"fl";
    case 0xFB03: return U"ffi";
    case 0xFB04: return U"ffl";
    case 0xFB05: return U"\u017Ft";
    case 0xFB06: return U"st";
    default: return nullptr;
  }
}

CodePoints FixLatinLigatures(const CodePoints& text) {
  CodePoints out;
  out.reserve(text.size());
  for (char32_t c : text) {
    const char32_t* expansion = LigatureExpansion(c);
    if (expansion != nullptr) {
      out += expansion;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

CodePoints FixLineBreaks(const CodePoints& text) {
  CodePoints out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char32_t c = text[i];
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;  // CRLF -> LF
    out.push_back(c == '\r' || c == 0x2028 || c == 0x2029 || c == 0x85 ? U'\n' : c);
  }
  return out;
}

CodePoints FixSurrogates(const CodePoints& text) {
  CodePoints out = text;
  for (char32_t& c : out) {
    if (c >= 0xD800 && c <= 0xDFFF) c = 0xFFFD;
  }
  return out;
}

// Removes ESC '[' [0-9;]* [A-Za-z].
CodePoints RemoveTerminalEscapes(const CodePoints& text) {
  CodePoints out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == 0x1B && i + 1 < text.size() && text[i + 1] == '[') {
      size_t j = i + 2;
      while (j < text.size() && ((text[j] >= '0' && text[j] <= '9') || text[j] == ';')) ++j;
      if (j < text.size() && ((text[j] | 0x20) >= 'a' && (text[j] | 0x20) <= 'z')) {
        i = j + 1;
        continue;
      }
    }
    out.push_back(text[i++]);
  }
  return out;
}

bool IsRemovedControl(char32_t c) {
  return c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F || (c >= 0x206A && c <= 0x206F) ||
         c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC) || (c >= 0x1D173 && c <= 0x1D17A) ||
         (c >= 0xE0000 && c <= 0xE007F);
}

CodePoints RemoveControlChars(const CodePoints& text) {
  CodePoints out;
  out.reserve(text.size());
  for (char32_t c : text) {
    if (!IsRemovedControl(c)) out.push_back(c);
  }
  return out;
}

// Printable ASCII without '&', plus tab, newline and form feed: no step
// below can change it, so typical prompts skip the loop.
bool IsTriviallyFixed(const CodePoints& text, bool unescape_html) {
  for (char32_t c : text) {
    const bool plain = (c >= 0x20 && c <= 0x7E) || c == '\t' || c == '\n' || c == '\f';
    if (!plain || (c == '&' && unescape_html)) return false;
  }
  return true;
}

// ftfy.fix_and_explain on one segment: all steps until a fixed point.
CodePoints FixSegment(CodePoints text, bool unescape_html) {
  if (IsTriviallyFixed(text, unescape_html)) return text;
  while (true) {
    const CodePoints original = text;
    if (unescape_html) text = UnescapeHtml(text);
    text = FixC1Controls(text);
    text = FixLatinLigatures(text);
    text = FixCharacterWidth(text);
    text = UncurlQuotes(text);
    text = FixLineBreaks(text);
    text = FixSurrogates(text);
    text = RemoveTerminalEscapes(text);
    text = RemoveControlChars(text);
    text = Normalize(text, NormalForm::kNfc);
    if (text == original) return text;
  }
}

}  // namespace

CodePoints UnescapeHtml(const CodePoints& text) {
  // ftfy's HTML_ENTITY_RE: &#?[0-9A-Za-z]{1,24};  scanned left to right.
  CodePoints out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '&') {
      out.push_back(text[i++]);
      continue;
    }
    const bool numeric = i + 1 < text.size() && text[i + 1] == '#';
    const size_t body_begin = i + (numeric ? 2 : 1);
    size_t j = body_begin;
    while (j < text.size() && j - body_begin < 24 && IsAsciiAlnum(text[j])) ++j;
    if (j == body_begin || j >= text.size() || text[j] != ';') {
      out.push_back(text[i++]);
      continue;
    }
    const CodePoints body = text.substr(body_begin, j - body_begin);
    const CodePoints whole = text.substr(i, j + 1 - i);
    CodePoints replacement;
    bool replaced = false;
    if (const HtmlEntity* entity = FindEntity(EncodeUtf8(whole))) {
      replacement = DecodeUtf8(entity->value);
      replaced = true;
    } else if (numeric) {
      replaced = DecodeNumericReference(body, &replacement);
    }
    out += replaced ? replacement : whole;
    i = j + 1;
  }
  return out;
}

CodePoints FixCharacterWidth(const CodePoints& text) {
  CodePoints out;
  out.reserve(text.size());
  for (char32_t c : text) {
    if (c == 0x3000) {
      out.push_back(' ');
    } else if (c >= 0xFF01 && c <= 0xFFEF) {
      out += Normalize(CodePoints(1, c), NormalForm::kNfkc);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

CodePoints FixText(const CodePoints& text) {
  // ftfy.fix_text: per line (each segment keeps its '\n'); once a line holds
  // a literal '<' the "auto" HTML unescaping stays off for the rest.
  CodePoints out;
  out.reserve(text.size());
  bool unescape_html = true;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(U'\n', pos);
    end = end == CodePoints::npos ? text.size() : end + 1;
    const CodePoints segment = text.substr(pos, end - pos);
    if (unescape_html && segment.find(U'<') != CodePoints::npos) unescape_html = false;
    out += FixSegment(segment, unescape_html);
    pos = end;
  }
  return out;
}

}  // namespace dreamshot::models::clip
