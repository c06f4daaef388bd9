// A value bound to a prepared-statement placeholder. Queries built from user
// input (filters, order-by) carry their literals as SqlValues, never as SQL text.
#ifndef DREAMSHOT_EXPERIMENTS_SQL_VALUE_H_
#define DREAMSHOT_EXPERIMENTS_SQL_VALUE_H_

#include <cstdint>
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

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_SQL_VALUE_H_
