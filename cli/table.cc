#include "cli/table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace dreamshot::cli {
namespace {

constexpr absl::string_view kEllipsis = "\xE2\x80\xA6";  // "…"

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

std::string Pad(absl::string_view text, size_t width, bool right) {
  const size_t w = DisplayWidth(text);
  const std::string fill(w < width ? width - w : 0, ' ');
  return right ? absl::StrCat(fill, text) : absl::StrCat(text, fill);
}

}  // namespace

size_t DisplayWidth(absl::string_view text) {
  size_t width = 0;
  for (char c : text) {
    if (!IsContinuationByte(c)) ++width;
  }
  return width;
}

std::string Truncate(absl::string_view text, size_t width) {
  if (width == 0 || DisplayWidth(text) <= width) return std::string(text);
  // Keep width-1 code points, then the ellipsis.
  size_t kept = 0, i = 0;
  for (; i < text.size(); ++i) {
    if (!IsContinuationByte(text[i])) {
      if (kept == width - 1) break;
      ++kept;
    }
  }
  return absl::StrCat(text.substr(0, i), kEllipsis);
}

bool LooksNumeric(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (text.empty() || text == "-") return true;
  if (absl::EndsWith(text, "%")) text.remove_suffix(1);
  double ignored = 0;
  return absl::SimpleAtod(text, &ignored);
}

Table::Table(std::vector<std::string> header)
    : header_(std::move(header)),
      align_(header_.size(), Align::kAuto),
      max_width_(header_.size(), kDefaultMaxWidth) {}

void Table::SetAlign(size_t column, Align align) {
  if (column < align_.size()) align_[column] = align;
}

void Table::SetMaxWidth(size_t column, size_t width) {
  if (column < max_width_.size()) max_width_[column] = width;
}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(header_.size());
  for (size_t c = 0; c < cells.size(); ++c) cells[c] = Truncate(cells[c], max_width_[c]);
  rows_.push_back(std::move(cells));
}

std::string Table::Render() const {
  const size_t n = header_.size();
  std::vector<size_t> width(n, 0);
  std::vector<bool> right(n, false);
  for (size_t c = 0; c < n; ++c) {
    width[c] = DisplayWidth(header_[c]);
    bool numeric = !rows_.empty();
    for (const auto& row : rows_) {
      width[c] = std::max(width[c], DisplayWidth(row[c]));
      numeric = numeric && LooksNumeric(row[c]);
    }
    right[c] = align_[c] == Align::kRight || (align_[c] == Align::kAuto && numeric);
  }
  std::string out;
  auto append_row = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t c = 0; c < n; ++c) {
      if (c > 0) line += "  ";
      line += Pad(cells[c], width[c], right[c]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    absl::StrAppend(&out, line, "\n");
  };
  append_row(header_);
  for (const auto& row : rows_) append_row(row);
  return out;
}

std::string FormatTime(int64_t ms_since_epoch) {
  if (ms_since_epoch <= 0) return "-";
  const std::time_t seconds = static_cast<std::time_t>(ms_since_epoch / 1000);
  std::tm local{};
  if (localtime_r(&seconds, &local) == nullptr) return absl::StrCat(ms_since_epoch);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%d %H:%M:%S", &local);
  return buffer;
}

std::string FormatDuration(int64_t ms) {
  if (ms < 0) return "-";
  if (ms < 1000) return absl::StrCat(ms, "ms");
  if (ms < 60 * 1000) return absl::StrFormat("%.1fs", ms / 1000.0);
  const int64_t s = ms / 1000;
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  if (s < 86400) return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
  return absl::StrFormat("%dd%02dh", s / 86400, (s % 86400) / 3600);
}

std::string FormatNumber(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return absl::StrFormat("%.6g", value);
}

std::string FormatBytes(int64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = bytes / 1024.0;
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.1f %s", value, units[unit]);
}

}  // namespace dreamshot::cli
