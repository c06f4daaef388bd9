#include "survey/participant_token.h"

#include <cstdint>
#include <random>

#include "core/sha256.h"

namespace dreamshot::survey {

std::string NewParticipantToken() {
  std::random_device os;  // /dev/urandom on Linux
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (int i = 0; i < 8; ++i) {
    uint32_t word = os();
    for (int j = 0; j < 8; ++j) {
      token.push_back(kHex[word & 0xF]);
      word >>= 4;
    }
  }
  return token;
}

std::string TokenHash(const std::string& token) { return core::Sha256Hex(token); }

bool WellFormedToken(const std::string& token) {
  if (token.size() != 64) return false;
  for (char c : token) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace dreamshot::survey
