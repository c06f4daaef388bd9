// A value bound to a prepared-statement placeholder. Queries built from user
// input (filters, order-by) carry their literals as SqlValues, never as SQL text.
#ifndef DREAMSHOT_EXPERIMENTS_SQL_VALUE_H_
#define DREAMSHOT_EXPERIMENTS_SQL_VALUE_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <variant>
#include <vector>

namespace dreamshot::experiments {

using SqlValue = std::variant<int64_t, double, std::string>;

// A fragment of SQL with `?` placeholders and the values for them, in order.
struct SqlFragment {
  std::string sql;
  std::vector<SqlValue> bindings;
};

// SQLite integers are signed: a uint64 (seed, perceptual hash) is stored
// as its 64 bits and read back unchanged.
inline int64_t Uint64Bits(uint64_t value) {
  int64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}
inline uint64_t Uint64FromBits(int64_t bits) {
  uint64_t value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_SQL_VALUE_H_
