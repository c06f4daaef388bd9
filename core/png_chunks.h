// The chunk types of a PNG file in order, for tests that check what a file
// holds beyond its pixels (texts, no ancillary chunks in blinded pictures).
#ifndef DREAMSHOT_CORE_PNG_CHUNKS_H_
#define DREAMSHOT_CORE_PNG_CHUNKS_H_

#include <string>
#include <vector>

namespace dreamshot::core {

// "IHDR", "tEXt", ..., read from the chunk lengths after the signature; a
// truncated last chunk is left out.
std::vector<std::string> PngChunkTypes(const std::string& png);

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_PNG_CHUNKS_H_
