#include "cli/run_format.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/table.h"

namespace dreamshot::cli {
namespace {

std::string Lower(v1::RunStatus status) {
  return status == v1::RUN_STATUS_UNSPECIFIED ? "-" : absl::AsciiStrToLower(v1::RunStatus_Name(status));
}

bool IsNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' || c == '/' ||
         c == ':';
}

std::string Indent(const std::string& text) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    absl::StrAppend(&out, "  ", line, "\n");
  }
  return out;
}

// "key  value" lines with the values aligned.
std::string Fields(const std::vector<std::pair<std::string, std::string>>& rows) {
  size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  std::string out;
  for (const auto& row : rows) {
    absl::StrAppend(&out, "  ", row.first, std::string(width - row.first.size() + 2, ' '), row.second, "\n");
  }
  return out;
}

// Keys in priority order: preferred (if present), then `rest` in order; capped.
std::vector<std::string> PickColumns(const std::vector<std::string>& preferred,
                                     const std::vector<std::string>& rest, const std::set<std::string>& present) {
  std::vector<std::string> out;
  auto add = [&](const std::string& key) {
    if (out.size() < kMaxListColumns && present.count(key) &&
        std::find(out.begin(), out.end(), key) == out.end()) {
      out.push_back(key);
    }
  };
  for (const auto& key : preferred) add(key);
  for (const auto& key : rest) add(key);
  return out;
}

const v1::MetricSummary* FindMetric(const v1::Run& run, const std::string& key) {
  for (const auto& m : run.metrics()) {
    if (m.key() == key) return &m;
  }
  return nullptr;
}

const std::string* FindParam(const google::protobuf::RepeatedPtrField<v1::Param>& params, const std::string& key) {
  for (const auto& p : params) {
    if (p.key() == key) return &p.value();
  }
  return nullptr;
}

std::string MetricCellText(const v1::MetricCell& cell) {
  if (!cell.present()) return "-";
  if (cell.count() <= 1) return FormatNumber(cell.last());
  return absl::StrCat(FormatNumber(cell.last()), " (", FormatNumber(cell.min()), "..", FormatNumber(cell.max()), ")");
}

std::string AggregateCellText(const v1::MetricAggregate& m, int64_t group_n) {
  if (m.n() == 0) return "-";
  std::string text = FormatNumber(m.mean());
  const double half = (m.ci_high() - m.ci_low()) / 2;
  if (m.n() > 1 && std::isfinite(half)) {
    absl::StrAppend(&text, " \xC2\xB1 ", FormatNumber(half), " [", FormatNumber(m.ci_low()), ", ",
                    FormatNumber(m.ci_high()), "]");
  }
  if (m.n() != group_n) absl::StrAppend(&text, " (n=", m.n(), ")");
  return text;
}

}  // namespace

std::vector<std::string> KeysMentioned(absl::string_view expression, absl::string_view ns) {
  const std::string singular(ns.substr(0, ns.size() - 1));  // "params" -> "param"
  const std::string lower = absl::AsciiStrToLower(expression);
  std::vector<std::string> keys;
  for (size_t i = 0; i < lower.size(); ++i) {
    if (i > 0 && IsNameChar(lower[i - 1])) continue;  // inside another word
    size_t start = std::string::npos;
    for (const std::string& prefix : {std::string(ns) + ".", singular + "."}) {
      if (lower.compare(i, prefix.size(), prefix) == 0) {
        start = i + prefix.size();
        break;
      }
    }
    if (start == std::string::npos) continue;
    std::string key;
    if (start < expression.size() && expression[start] == '`') {
      const size_t close = expression.find('`', start + 1);
      if (close == absl::string_view::npos) continue;
      key = std::string(expression.substr(start + 1, close - start - 1));
    } else {
      size_t end = start;
      while (end < expression.size() && IsNameChar(expression[end])) ++end;
      key = std::string(expression.substr(start, end - start));
    }
    if (!key.empty() && std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    i = start;
  }
  return keys;
}

std::string RunDuration(const v1::Run& run, int64_t now_ms) {
  if (run.start_ms() <= 0) return "-";
  if (run.end_ms() > 0) return FormatDuration(run.end_ms() - run.start_ms());
  if (run.status() == v1::RUNNING) return FormatDuration(now_ms - run.start_ms());
  return "-";
}

std::string RunsTable(const std::vector<v1::Run>& runs, const std::vector<std::string>& preferred_params,
                      const std::vector<std::string>& preferred_metrics, int64_t now_ms) {
  // Params: the ones that vary between runs first, then the constant ones.
  std::map<std::string, std::set<std::string>> param_values;
  std::map<std::string, int> param_count, metric_count;
  for (const v1::Run& run : runs) {
    for (const auto& p : run.params()) {
      param_values[p.key()].insert(p.value());
      ++param_count[p.key()];
    }
    for (const auto& m : run.metrics()) ++metric_count[m.key()];
  }
  std::set<std::string> params_present, metrics_present;
  std::vector<std::string> varying, constant, metric_order;
  for (const auto& [key, values] : param_values) {
    params_present.insert(key);
    const bool varies = values.size() > 1 || param_count[key] != static_cast<int>(runs.size());
    (varies ? varying : constant).push_back(key);
  }
  varying.insert(varying.end(), constant.begin(), constant.end());
  for (const auto& [key, count] : metric_count) {
    metrics_present.insert(key);
    metric_order.push_back(key);
  }
  std::stable_sort(metric_order.begin(), metric_order.end(),
                   [&](const std::string& a, const std::string& b) { return metric_count[a] > metric_count[b]; });
  const std::vector<std::string> params = PickColumns(preferred_params, varying, params_present);
  const std::vector<std::string> metrics = PickColumns(preferred_metrics, metric_order, metrics_present);

  std::vector<std::string> header = {"ID", "NAME", "STATUS", "START", "DURATION"};
  header.insert(header.end(), params.begin(), params.end());
  header.insert(header.end(), metrics.begin(), metrics.end());
  Table table(header);
  table.SetAlign(4, Table::Align::kRight);
  for (const v1::Run& run : runs) {
    std::vector<std::string> row = {absl::StrCat(run.id()), run.name().empty() ? "-" : run.name(),
                                    Lower(run.status()), FormatTime(run.start_ms()), RunDuration(run, now_ms)};
    for (const auto& key : params) {
      const std::string* value = FindParam(run.params(), key);
      row.push_back(value ? *value : "-");
    }
    for (const auto& key : metrics) {
      const v1::MetricSummary* m = FindMetric(run, key);
      row.push_back(m ? FormatNumber(m->value()) : "-");
    }
    table.AddRow(std::move(row));
  }
  return table.Render();
}

std::string ArtifactsTable(const v1::ListArtifactsResponse& response) {
  Table table({"ID", "PATH", "KIND", "SIZE", "SHA256", "CREATED"});
  table.SetAlign(3, Table::Align::kRight);
  table.SetMaxWidth(4, 0);
  table.SetAlign(4, Table::Align::kLeft);
  for (const v1::ArtifactRef& a : response.artifacts()) {
    table.AddRow({absl::StrCat(a.id()), a.path(), a.kind(), FormatBytes(a.size_bytes()), a.sha256(),
                  FormatTime(a.created_ms())});
  }
  return table.Render();
}

std::string RunDetails(const v1::Run& run, const std::string& experiment_name,
                       const v1::ListArtifactsResponse& artifacts, int64_t now_ms) {
  std::string out = absl::StrCat("run ", run.id(), run.name().empty() ? "" : "  ", run.name(), "\n");
  std::vector<std::pair<std::string, std::string>> fields = {
      {"experiment", experiment_name.empty() ? absl::StrCat(run.experiment_id())
                                             : absl::StrCat(experiment_name, " (", run.experiment_id(), ")")},
      {"status", Lower(run.status())},
      {"created", FormatTime(run.created_ms())},
      {"started", FormatTime(run.start_ms())},
      {"ended", FormatTime(run.end_ms())},
      {"duration", RunDuration(run, now_ms)},
      {"parent", run.parent_run_id() > 0 ? absl::StrCat(run.parent_run_id()) : "-"},
  };
  if (!run.config_type().empty()) fields.emplace_back("config", run.config_type());
  fields.emplace_back("notes", run.notes().empty() ? "-" : run.notes());
  out += Fields(fields);

  const std::map<std::string, std::string> tags(run.tags().begin(), run.tags().end());
  absl::StrAppend(&out, "\ntags (", tags.size(), ")\n");
  std::vector<std::pair<std::string, std::string>> tag_rows(tags.begin(), tags.end());
  out += Fields(tag_rows);

  absl::StrAppend(&out, "\nparams (", run.params_size(), ")\n");
  if (run.params_size() > 0) {
    Table params({"KEY", "VALUE"});
    params.SetMaxWidth(1, 100);
    params.SetAlign(1, Table::Align::kLeft);
    for (const auto& p : run.params()) params.AddRow({p.key(), p.value()});
    out += Indent(params.Render());
  }

  absl::StrAppend(&out, "\nmetrics (", run.metrics_size(), ")\n");
  if (run.metrics_size() > 0) {
    Table metrics({"KEY", "LAST", "STEP", "MIN", "MAX", "COUNT", "UPDATED"});
    for (const auto& m : run.metrics()) {
      metrics.AddRow({m.key(), FormatNumber(m.value()), absl::StrCat(m.step()), FormatNumber(m.min()),
                      FormatNumber(m.max()), absl::StrCat(m.count()), FormatTime(m.wall_ms())});
    }
    out += Indent(metrics.Render());
  }

  absl::StrAppend(&out, "\nartifacts (", artifacts.artifacts_size(), ")\n");
  if (artifacts.artifacts_size() > 0) out += Indent(ArtifactsTable(artifacts));
  return out;
}

std::string CompareTables(const v1::CompareRunsResponse& response) {
  std::vector<std::string> header = {"", "PARAM"};
  for (const v1::Run& run : response.runs()) header.push_back(absl::StrCat("run ", run.id()));
  const size_t n = response.runs_size();

  Table params(header);
  params.SetAlign(0, Table::Align::kLeft);
  auto attribute_row = [&](const std::string& name, auto value_of) {
    std::vector<std::string> row = {"", name};
    std::set<std::string> distinct;
    for (const v1::Run& run : response.runs()) {
      row.push_back(value_of(run));
      distinct.insert(row.back());
    }
    if (distinct.size() > 1) row[0] = "*";
    params.AddRow(std::move(row));
  };
  attribute_row("(name)", [](const v1::Run& r) { return r.name().empty() ? std::string("-") : r.name(); });
  attribute_row("(status)", [](const v1::Run& r) { return Lower(r.status()); });
  attribute_row("(experiment)", [](const v1::Run& r) { return absl::StrCat(r.experiment_id()); });
  for (const v1::ParamRow& p : response.params()) {
    std::vector<std::string> row = {p.differs() ? "*" : "", p.key()};
    for (size_t i = 0; i < n; ++i) {
      const bool present = i < static_cast<size_t>(p.present_size()) ? p.present(i) : true;
      row.push_back(present && i < static_cast<size_t>(p.values_size()) ? p.values(i) : "-");
    }
    params.AddRow(std::move(row));
  }
  std::string out = params.Render();

  if (response.metrics_size() > 0) {
    header[1] = "METRIC";
    Table metrics(header);
    for (const v1::MetricRow& m : response.metrics()) {
      std::vector<std::string> row = {"", m.key()};
      for (size_t i = 0; i < n; ++i) {
        row.push_back(i < static_cast<size_t>(m.cells_size()) ? MetricCellText(m.cells(i)) : "-");
      }
      metrics.AddRow(std::move(row));
    }
    absl::StrAppend(&out, "\n", metrics.Render());
  }
  absl::StrAppend(&out, "\n* differs between the runs; metrics: last (min..max)\n");
  return out;
}

std::string AggregateTable(const v1::AggregateRunsResponse& response) {
  // Param columns: keys whose value differs between groups (all keys when
  // there is one group); metric columns: every metric of any group.
  std::map<std::string, std::set<std::string>> values;
  std::vector<std::string> metric_keys;
  for (const v1::RunGroup& g : response.groups()) {
    for (const auto& p : g.params()) values[p.key()];
    for (const auto& m : g.metrics()) {
      if (std::find(metric_keys.begin(), metric_keys.end(), m.key()) == metric_keys.end()) {
        metric_keys.push_back(m.key());
      }
    }
  }
  for (const v1::RunGroup& g : response.groups()) {
    for (auto& [key, seen] : values) {
      const std::string* v = FindParam(g.params(), key);
      seen.insert(v ? *v : std::string("\x01missing"));
    }
  }
  std::vector<std::string> param_keys;
  for (const auto& [key, seen] : values) {
    if (seen.size() > 1 || response.groups_size() == 1) param_keys.push_back(key);
  }
  if (param_keys.size() > kMaxListColumns && response.groups_size() == 1) param_keys.resize(kMaxListColumns);
  std::sort(metric_keys.begin(), metric_keys.end());

  std::vector<std::string> header = param_keys;
  header.push_back("N");
  header.push_back("RUNS");
  header.insert(header.end(), metric_keys.begin(), metric_keys.end());
  Table table(header);
  const size_t runs_column = param_keys.size() + 1;
  table.SetMaxWidth(runs_column, 24);
  table.SetAlign(runs_column, Table::Align::kLeft);
  // Rows in the order of their param values, numbers compared as numbers.
  std::vector<const v1::RunGroup*> groups;
  for (const v1::RunGroup& g : response.groups()) groups.push_back(&g);
  std::stable_sort(groups.begin(), groups.end(), [&](const v1::RunGroup* a, const v1::RunGroup* b) {
    for (const auto& key : param_keys) {
      const std::string* va = FindParam(a->params(), key);
      const std::string* vb = FindParam(b->params(), key);
      if (!va || !vb) {
        if (va != vb) return va != nullptr;  // groups lacking the param last
        continue;
      }
      double da = 0, db = 0;
      if (absl::SimpleAtod(*va, &da) && absl::SimpleAtod(*vb, &db) && da != db) return da < db;
      if (*va != *vb) return *va < *vb;
    }
    return false;
  });
  for (const v1::RunGroup* group : groups) {
    const v1::RunGroup& g = *group;
    std::vector<std::string> row;
    for (const auto& key : param_keys) {
      const std::string* v = FindParam(g.params(), key);
      row.push_back(v ? *v : "-");
    }
    row.push_back(absl::StrCat(g.run_ids_size()));
    row.push_back(absl::StrJoin(g.run_ids(), ","));
    for (const auto& key : metric_keys) {
      const v1::MetricAggregate* found = nullptr;
      for (const auto& m : g.metrics()) {
        if (m.key() == key) found = &m;
      }
      row.push_back(found ? AggregateCellText(*found, g.run_ids_size()) : "-");
    }
    table.AddRow(std::move(row));
  }
  const double confidence = response.confidence() > 0 ? response.confidence() : 0.95;
  return absl::StrCat(table.Render(), "\nmean \xC2\xB1 half-width [", FormatNumber(confidence * 100),
                      "% confidence interval, Student t] over the latest value of each run\n");
}

}  // namespace dreamshot::cli
