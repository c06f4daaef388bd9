// One CSV field as RFC 4180 writes it: quoted when it holds a comma, a
// quote or a line break, with quotes doubled. For every CSV export.
#ifndef DREAMSHOT_CORE_CSV_FIELD_H_
#define DREAMSHOT_CORE_CSV_FIELD_H_

#include <string>

namespace dreamshot::core {

inline std::string CsvField(const std::string& value) {
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_CSV_FIELD_H_
