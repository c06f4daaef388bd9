// GPT-2/CLIP's reversible byte -> printable-character table
// (bytes_to_unicode): printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ')
// map to themselves, the other 68 bytes to U+0100.. in byte order. BPE
// vocabularies are written in these characters.
#ifndef DREAMSHOT_MODELS_CLIP_BYTE_UNICODE_H_
#define DREAMSHOT_MODELS_CLIP_BYTE_UNICODE_H_

#include <array>
#include <cstdint>

namespace dreamshot::models::clip {

// ByteToUnicode()[b] is the character for byte b.
std::array<char32_t, 256> ByteToUnicode();
// The byte a table character stands for, or -1.
int UnicodeToByte(char32_t c);
// Bytes in the order upstream's dict lists them (printable ranges first, then
// the rest): the first 256 entries of the OpenAI vocabulary.
std::array<uint8_t, 256> BytesInTableOrder();

}  // namespace dreamshot::models::clip

#endif  // DREAMSHOT_MODELS_CLIP_BYTE_UNICODE_H_
