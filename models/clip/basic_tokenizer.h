// transformers' BERT BasicTokenizer(do_lower_case=True), which CLIPTokenizer
// falls back to when ftfy is not installed: drop control characters, space
// out CJK ideographs, NFC, split on whitespace, lower-case, strip accents
// (NFD minus Mn), split every punctuation character off. The CLIP tokenizer
// then joins the result with single spaces.
#ifndef DREAMSHOT_MODELS_CLIP_BASIC_TOKENIZER_H_
#define DREAMSHOT_MODELS_CLIP_BASIC_TOKENIZER_H_

#include <vector>

#include "models/clip/unicode_text.h"

namespace dreamshot::models::clip {

std::vector<CodePoints> BasicTokenize(const CodePoints& text);

// " ".join(BasicTokenize(text)).
CodePoints BasicTokenizeJoined(const CodePoints& text);

}  // namespace dreamshot::models::clip

#endif  // DREAMSHOT_MODELS_CLIP_BASIC_TOKENIZER_H_
