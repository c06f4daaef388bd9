#include "models/clip/pretokenizer.h"

#include "models/clip/basic_tokenizer.h"
#include "models/clip/text_fixer.h"

namespace dreamshot::models::clip {
namespace {

// Compares text[pos..] with an ASCII literal under IGNORECASE (simple case
// folding, as the `regex` module does by default: 'ſ' matches 's').
bool MatchesFolded(const CodePoints& text, size_t pos, const char* literal, size_t* length) {
  size_t k = 0;
  for (; literal[k] != '\0'; ++k) {
    if (pos + k >= text.size()) return false;
    const char32_t want = static_cast<unsigned char>(literal[k]);
    const char32_t have = text[pos + k];
    if (have != want && SimpleFold(have) != SimpleFold(want)) return false;
  }
  *length = k;
  return true;
}

bool IsOtherSymbol(char32_t c) { return !IsWhiteSpace(c) && !IsLetter(c) && !IsNumber(c); }

}  // namespace

CodePoints WhitespaceClean(const CodePoints& text) {
  CodePoints out;
  out.reserve(text.size());
  bool pending_space = false;
  for (char32_t c : text) {
    if (IsPySpace(c)) {
      pending_space = true;
      continue;
    }
    if (pending_space && !out.empty()) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

CodePoints CleanText(const CodePoints& chunk, TextCleanup cleanup) {
  switch (cleanup) {
    case TextCleanup::kFtfy:
      return ToLower(WhitespaceClean(FixText(chunk)));
    case TextCleanup::kBasicTokenizer:
      return BasicTokenizeJoined(chunk);
  }
  return chunk;
}

std::vector<Word> SplitWords(const CodePoints& text) {
  static constexpr const char* kContractions[] = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};
  std::vector<Word> words;
  const size_t n = text.size();
  size_t i = 0;
  auto emit = [&](Word::Kind kind, size_t begin, size_t end) {
    Word word;
    word.kind = kind;
    for (size_t k = begin; k < end; ++k) AppendUtf8(text[k], &word.utf8);
    words.push_back(std::move(word));
  };
  while (i < n) {
    size_t length = 0;
    if (text[i] == '<') {
      if (MatchesFolded(text, i, "<|startoftext|>", &length)) {
        emit(Word::kStartOfText, i, i + length);
        i += length;
        continue;
      }
      if (MatchesFolded(text, i, "<|endoftext|>", &length)) {
        emit(Word::kEndOfText, i, i + length);
        i += length;
        continue;
      }
    }
    if (text[i] == '\'') {
      bool matched = false;
      for (const char* contraction : kContractions) {
        if (MatchesFolded(text, i, contraction, &length)) {
          matched = true;
          break;
        }
      }
      if (matched) {
        emit(Word::kText, i, i + length);
        i += length;
        continue;
      }
    }
    size_t j = i;
    if (IsLetter(text[i])) {
      while (j < n && IsLetter(text[j])) ++j;
    } else if (IsNumber(text[i])) {
      j = i + 1;
    } else if (IsOtherSymbol(text[i])) {
      while (j < n && IsOtherSymbol(text[j])) ++j;
    } else {
      ++i;  // Whitespace separates matches and is never part of one.
      continue;
    }
    emit(Word::kText, i, j);
    i = j;
  }
  return words;
}

}  // namespace dreamshot::models::clip
