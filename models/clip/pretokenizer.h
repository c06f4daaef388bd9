// The text side of transformers' CLIPTokenizer._tokenize: cleanup and the
// word-splitting regex
//   <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
// (IGNORECASE), written as a hand scanner over code points so the character
// classes come from ICU and match the `regex` module's, and alternation is
// first-match like Python's (not leftmost-longest).
#ifndef DREAMSHOT_MODELS_CLIP_PRETOKENIZER_H_
#define DREAMSHOT_MODELS_CLIP_PRETOKENIZER_H_

#include <string>
#include <vector>

#include "models/clip/unicode_text.h"

namespace dreamshot::models::clip {

enum class TextCleanup {
  // ftfy.fix_text (the subset in text_fixer.h), whitespace_clean, lower():
  // what Stable Diffusion users get (diffusers installs ftfy).
  kFtfy,
  // transformers' fallback without ftfy: BERT BasicTokenizer, joined by ' '.
  kBasicTokenizer,
};

// re.sub(r"\s+", " ", text).strip() with Python's \s.
CodePoints WhitespaceClean(const CodePoints& text);

// The text CLIPTokenizer feeds to its regex, for one chunk of a prompt (a
// chunk is the text between literal special tokens).
CodePoints CleanText(const CodePoints& chunk, TextCleanup cleanup);

struct Word {
  enum Kind { kText, kStartOfText, kEndOfText };
  Kind kind = kText;
  std::string utf8;  // The matched text; BPE runs over its UTF-8 bytes.
};

// re.findall(pattern, text) for the CLIP pattern.
std::vector<Word> SplitWords(const CodePoints& text);

}  // namespace dreamshot::models::clip

#endif  // DREAMSHOT_MODELS_CLIP_PRETOKENIZER_H_
