#include "services/train_sweep.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/status_macros.h"

namespace dreamshot::services {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// The metrics services/train_job.cc logs at every step (an early-stop rule
// on another key would never fire).
constexpr const char* kStepMetrics[] = {"loss",          "instance_loss", "prior_loss",
                                        "learning_rate", "grad_norm",     "seconds_per_step"};

std::string Where(int index, const std::string& field) {
  return absl::StrCat("spec.dimensions[", index, "] (", field, ")");
}

// The leaf field a dotted path names and the message holding it (made on
// the way down when a mutable root is given).
struct FieldAt {
  Message* message = nullptr;
  const Message* const_message = nullptr;
  const FieldDescriptor* field = nullptr;
};

absl::StatusOr<FieldAt> Resolve(const std::string& path, const Message& root, Message* mutable_root) {
  FieldAt at{mutable_root, &root, nullptr};
  const std::vector<std::string> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const google::protobuf::Descriptor* type = at.const_message->GetDescriptor();
    const FieldDescriptor* field = type->FindFieldByName(parts[i]);
    if (field == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(type->name(), " has no field '", parts[i], "'",
                       i > 0 ? absl::StrCat(" (in '", path, "')") : ""));
    }
    if (i + 1 == parts.size()) {
      at.field = field;
      break;
    }
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || field->is_repeated()) {
      return absl::InvalidArgumentError(absl::StrCat("'", parts[i], "' in '", path, "' is not a message field"));
    }
    if (at.message != nullptr) {
      at.message = at.message->GetReflection()->MutableMessage(at.message, field);
      at.const_message = at.message;
    } else {
      at.const_message = &at.const_message->GetReflection()->GetMessage(*at.const_message, field);
    }
  }
  if (at.field->is_map()) return absl::InvalidArgumentError(absl::StrCat("'", path, "' is a map: it cannot be swept"));
  if (at.field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is a message: sweep one of its fields ('", path, ".<field>')"));
  }
  return at;
}

bool IsFloat(const FieldDescriptor* f) {
  return f->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE || f->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT;
}

std::string FormatDouble(double v) { return absl::StrFormat("%g", v); }

absl::Status NotA(const FieldDescriptor* f, const std::string& text) {
  return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a valid ", f->cpp_type_name(), " for ",
                                                 f->name()));
}

// Sets one element (repeated) or the value (singular) from text.
absl::Status SetOne(Message* m, const FieldDescriptor* f, const std::string& raw) {
  const Reflection* r = m->GetReflection();
  const std::string text(absl::StripAsciiWhitespace(raw));
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t v;
      if (!absl::SimpleAtoi(text, &v)) return NotA(f, text);
      rep ? r->AddInt32(m, f, v) : r->SetInt32(m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t v;
      if (!absl::SimpleAtoi(text, &v)) return NotA(f, text);
      rep ? r->AddInt64(m, f, v) : r->SetInt64(m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t v;
      if (text.rfind('-', 0) == 0 || !absl::SimpleAtoi(text, &v)) return NotA(f, text);
      rep ? r->AddUInt32(m, f, v) : r->SetUInt32(m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t v;
      if (text.rfind('-', 0) == 0 || !absl::SimpleAtoi(text, &v)) return NotA(f, text);
      rep ? r->AddUInt64(m, f, v) : r->SetUInt64(m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      double v;
      if (!absl::SimpleAtod(text, &v) || !std::isfinite(v)) return NotA(f, text);
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT) {
        rep ? r->AddFloat(m, f, static_cast<float>(v)) : r->SetFloat(m, f, static_cast<float>(v));
      } else {
        rep ? r->AddDouble(m, f, v) : r->SetDouble(m, f, v);
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool v;
      if (!absl::SimpleAtob(text, &v)) return NotA(f, text);
      rep ? r->AddBool(m, f, v) : r->SetBool(m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const google::protobuf::EnumValueDescriptor* v = f->enum_type()->FindValueByName(text);
      if (v == nullptr) return NotA(f, text);
      rep ? r->AddEnum(m, f, v) : r->SetEnum(m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING:
      rep ? r->AddString(m, f, text) : r->SetString(m, f, text);
      break;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return NotA(f, text);
  }
  return absl::OkStatus();
}

// A value for the field; a repeated field takes a comma-separated list.
absl::Status SetValue(Message* m, const FieldDescriptor* f, const std::string& text) {
  if (!f->is_repeated()) return SetOne(m, f, text);
  m->GetReflection()->ClearField(m, f);
  if (text.empty()) return absl::OkStatus();
  for (absl::string_view part : absl::StrSplit(text, ',')) RETURN_IF_ERROR(SetOne(m, f, std::string(part)));
  return absl::OkStatus();
}

std::string FormatOne(const Message& m, const FieldDescriptor* f, int i) {
  const Reflection* r = m.GetReflection();
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: return absl::StrCat(rep ? r->GetRepeatedInt32(m, f, i) : r->GetInt32(m, f));
    case FieldDescriptor::CPPTYPE_INT64: return absl::StrCat(rep ? r->GetRepeatedInt64(m, f, i) : r->GetInt64(m, f));
    case FieldDescriptor::CPPTYPE_UINT32: return absl::StrCat(rep ? r->GetRepeatedUInt32(m, f, i) : r->GetUInt32(m, f));
    case FieldDescriptor::CPPTYPE_UINT64: return absl::StrCat(rep ? r->GetRepeatedUInt64(m, f, i) : r->GetUInt64(m, f));
    case FieldDescriptor::CPPTYPE_DOUBLE: return FormatDouble(rep ? r->GetRepeatedDouble(m, f, i) : r->GetDouble(m, f));
    case FieldDescriptor::CPPTYPE_FLOAT: return FormatDouble(rep ? r->GetRepeatedFloat(m, f, i) : r->GetFloat(m, f));
    case FieldDescriptor::CPPTYPE_BOOL:
      return (rep ? r->GetRepeatedBool(m, f, i) : r->GetBool(m, f)) ? "true" : "false";
    case FieldDescriptor::CPPTYPE_ENUM: return (rep ? r->GetRepeatedEnum(m, f, i) : r->GetEnum(m, f))->name();
    case FieldDescriptor::CPPTYPE_STRING: return rep ? r->GetRepeatedString(m, f, i) : r->GetString(m, f);
    case FieldDescriptor::CPPTYPE_MESSAGE: break;
  }
  return "";
}

std::string FormatValue(const Message& m, const FieldDescriptor* f) {
  if (!f->is_repeated()) return FormatOne(m, f, 0);
  std::vector<std::string> parts;
  for (int i = 0; i < m.GetReflection()->FieldSize(m, f); ++i) parts.push_back(FormatOne(m, f, i));
  return absl::StrJoin(parts, ",");
}

// One dimension, checked: its field and, for GRID and value lists, each
// value parsed once so a bad one is named before any child is made.
struct Dimension {
  std::string path;
  std::vector<std::string> values;
  bool log_uniform = false;
  double min = 0, max = 0;
};

absl::StatusOr<std::vector<Dimension>> CheckDimensions(const v1::TrainConfig& base, const v1::SweepSpec& spec) {
  const bool random = spec.mode() == v1::SweepSpec::RANDOM;
  std::vector<Dimension> out;
  std::set<std::string> seen;
  for (int i = 0; i < spec.dimensions_size(); ++i) {
    const v1::SweepDimension& d = spec.dimensions(i);
    if (d.field().empty()) return absl::InvalidArgumentError(absl::StrCat(Where(i, ""), ": give the field to sweep"));
    const std::string where = Where(i, d.field());
    if (!seen.insert(d.field()).second) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", d.field(), " is swept twice"));
    }
    if (d.field() == "seed" && spec.seeds_size() > 0) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": seed is swept twice (spec.seeds and a dimension)"));
    }
    if (d.field() == "seed" && random) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": in RANDOM mode give seeds in spec.seeds (each trial runs once per seed)"));
    }
    v1::TrainConfig scratch = base;
    absl::StatusOr<FieldAt> at = Resolve(d.field(), scratch, &scratch);
    if (!at.ok()) return absl::InvalidArgumentError(absl::StrCat(where, ": ", at.status().message()));
    Dimension dim;
    dim.path = d.field();
    const bool has_range = d.has_log_uniform();
    if (!random && has_range) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": log_uniform is for RANDOM sweeps; list values"));
    }
    if (d.values_size() == 0 && !has_range) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": give values", random ? " or log_uniform" : ""));
    }
    if (d.values_size() > 0 && has_range) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": give values or log_uniform, not both"));
    }
    if (has_range) {
      if (!IsFloat(at->field)) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": log_uniform needs a float field; ", d.field(), " is ", at->field->cpp_type_name()));
      }
      const double lo = d.log_uniform().min(), hi = d.log_uniform().max();
      if (!(lo > 0) || !(hi > lo) || !std::isfinite(hi)) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": log_uniform needs 0 < min < max, got [", FormatDouble(lo), ", ",
                         FormatDouble(hi), "]"));
      }
      dim.log_uniform = true;
      dim.min = lo;
      dim.max = hi;
    }
    for (const std::string& value : d.values()) {
      absl::Status parsed = SetValue(at->message, at->field, value);
      if (!parsed.ok()) return absl::InvalidArgumentError(absl::StrCat(where, ": ", parsed.message()));
      dim.values.push_back(value);
    }
    out.push_back(std::move(dim));
  }
  return out;
}

// Uniform in [0, 1) from 53 bits: std::mt19937_64's output is fixed by the
// standard, unlike the library's distributions, so a seed draws the same
// trials everywhere.
double Uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }


// The mean over steps (S - window, S], if the points reach S.
std::optional<double> WindowMean(const v1::EarlyStop& rule, const std::vector<MetricPoint>& points) {
  bool reached = false;
  double sum = 0;
  int n = 0;
  for (const MetricPoint& p : points) {
    if (p.step > rule.step() - rule.window() && p.step <= rule.step()) {
      sum += p.value;
      ++n;
      reached = reached || p.step == rule.step();
    }
  }
  if (!reached || n == 0) return std::nullopt;
  return sum / n;
}

std::string Num(double v) { return absl::StrFormat("%.6g", v); }


}  // namespace

absl::StatusOr<v1::EarlyStop> ValidateEarlyStop(const v1::EarlyStop& rule) {
  v1::EarlyStop out = rule;
  if (rule.step() == 0) {
    if (rule.ByteSizeLong() > 0) {
      return absl::InvalidArgumentError("spec.early_stop.step: give the step S ≥ 1 at which the rule looks");
    }
    return out;
  }
  if (rule.step() < 0) {
    return absl::InvalidArgumentError(absl::StrCat("spec.early_stop.step must be ≥ 1, got ", rule.step()));
  }
  if (out.metric().empty()) out.set_metric("loss");
  bool known = false;
  for (const char* m : kStepMetrics) known = known || out.metric() == m;
  if (!known) {
    std::vector<std::string> names(std::begin(kStepMetrics), std::end(kStepMetrics));
    return absl::InvalidArgumentError(absl::StrCat("spec.early_stop.metric '", out.metric(),
                                                   "' is not logged per step; one of ", absl::StrJoin(names, ", ")));
  }
  if (out.window() == 0) out.set_window(1);
  if (out.window() < 0 || out.window() > out.step()) {
    return absl::InvalidArgumentError(
        absl::StrCat("spec.early_stop.window must be within 1..step (", out.step(), "), got ", out.window()));
  }
  if (out.factor() == 0) out.set_factor(1.0);
  if (!(out.factor() > 0) || !std::isfinite(out.factor())) {
    return absl::InvalidArgumentError(
        absl::StrCat("spec.early_stop.factor must be a finite number above 0, got ", FormatDouble(out.factor())));
  }
  if (out.min_siblings() == 0) out.set_min_siblings(1);
  if (out.min_siblings() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("spec.early_stop.min_siblings must not be negative, got ", out.min_siblings()));
  }
  return out;
}

SweepValues ValuesOf(const v1::SweepSpec& spec, const v1::TrainConfig& config) {
  SweepValues out;
  for (const v1::SweepDimension& d : spec.dimensions()) {
    absl::StatusOr<FieldAt> at = Resolve(d.field(), config, nullptr);
    out.emplace_back(d.field(), at.ok() ? FormatValue(*at->const_message, at->field) : "");
  }
  if (spec.seeds_size() > 0) out.emplace_back("seed", absl::StrCat(config.seed()));
  return out;
}

std::string SweepChildName(const SweepValues& values) {
  std::vector<std::string> parts;
  for (const auto& [field, value] : values) {
    parts.push_back(absl::StrCat(field == "learning_rate" ? "lr" : field, "=", value));
  }
  return absl::StrJoin(parts, " ");
}

absl::StatusOr<std::vector<SweepChildConfig>> ExpandSweep(const v1::TrainConfig& base, const v1::SweepSpec& spec) {
  if (spec.dimensions_size() == 0 && spec.seeds_size() == 0) {
    return absl::InvalidArgumentError("spec: give at least one dimension or seeds");
  }
  if (spec.max_concurrent() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("spec.max_concurrent must not be negative, got ", spec.max_concurrent()));
  }
  const bool random = spec.mode() == v1::SweepSpec::RANDOM;
  if (random && spec.trials() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("spec.trials: a RANDOM sweep needs trials ≥ 1, got ", spec.trials()));
  }
  if (!random && spec.trials() != 0) return absl::InvalidArgumentError("spec.trials is for RANDOM sweeps");
  RETURN_IF_ERROR(ValidateEarlyStop(spec.early_stop()).status());
  ASSIGN_OR_RETURN(std::vector<Dimension> dims, CheckDimensions(base, spec));

  // Counted before anything is made, without overflow.
  std::vector<std::string> factors;
  int64_t configs = random ? spec.trials() : 1;
  if (random) factors.push_back(absl::StrCat(spec.trials(), " trials"));
  bool too_many = configs > kMaxSweepChildren;
  for (const Dimension& d : dims) {
    if (random) break;
    configs *= static_cast<int64_t>(d.values.size());
    factors.push_back(absl::StrCat(d.values.size(), " ", d.path));
    too_many = too_many || configs > kMaxSweepChildren;
  }
  const int64_t seeds = std::max(1, spec.seeds_size());
  if (spec.seeds_size() > 0) factors.push_back(absl::StrCat(spec.seeds_size(), " seeds"));
  if (too_many || configs * seeds > kMaxSweepChildren) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the sweep has ",
                     too_many ? absl::StrCat("more than ", kMaxSweepChildren) : absl::StrCat(configs * seeds),
                     " children (", absl::StrJoin(factors, " × "), "); at most ", kMaxSweepChildren));
  }

  // Each configuration as one value text per dimension.
  std::vector<std::vector<std::string>> points;
  if (random) {
    std::mt19937_64 rng(spec.sampling_seed());
    for (int t = 0; t < spec.trials(); ++t) {
      std::vector<std::string> point;
      for (const Dimension& d : dims) {
        if (d.log_uniform) {
          const double x = std::exp(std::log(d.min) + Uniform(rng) * (std::log(d.max) - std::log(d.min)));
          // Three significant digits, so the name shows the value used.
          point.push_back(absl::StrFormat("%.3g", x));
        } else {
          point.push_back(d.values[static_cast<size_t>(rng() % d.values.size())]);
        }
      }
      points.push_back(std::move(point));
    }
  } else {
    points.emplace_back();
    for (const Dimension& d : dims) {
      std::vector<std::vector<std::string>> next;
      for (const auto& point : points) {
        for (const std::string& v : d.values) {
          next.push_back(point);
          next.back().push_back(v);
        }
      }
      points = std::move(next);
    }
  }

  std::vector<SweepChildConfig> out;
  for (const auto& point : points) {
    v1::TrainConfig config = base;
    for (size_t i = 0; i < dims.size(); ++i) {
      ASSIGN_OR_RETURN(FieldAt at, Resolve(dims[i].path, config, &config));
      absl::Status set = SetValue(at.message, at.field, point[i]);
      if (!set.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(Where(static_cast<int>(i), dims[i].path), ": ", set.message()));
      }
    }
    for (int64_t s = 0; s < seeds; ++s) {
      SweepChildConfig child;
      child.config = config;
      if (spec.seeds_size() > 0) child.config.set_seed(spec.seeds(static_cast<int>(s)));
      child.values = ValuesOf(spec, child.config);
      child.name = SweepChildName(child.values);
      out.push_back(std::move(child));
    }
  }
  return out;
}

std::optional<std::string> EarlyStopVerdict(const v1::EarlyStop& rule,
                                            const std::vector<MetricPoint>& child,
                                            const std::vector<std::vector<MetricPoint>>& siblings) {
  if (rule.step() <= 0) return std::nullopt;
  const std::optional<double> mine = WindowMean(rule, child);
  if (!mine) return std::nullopt;
  std::vector<double> theirs;
  for (const auto& sibling : siblings) {
    if (std::optional<double> m = WindowMean(rule, sibling)) theirs.push_back(*m);
  }
  if (theirs.empty() || static_cast<int>(theirs.size()) < rule.min_siblings()) return std::nullopt;
  std::sort(theirs.begin(), theirs.end());
  const size_t n = theirs.size();
  const double median = n % 2 == 1 ? theirs[n / 2] : (theirs[n / 2 - 1] + theirs[n / 2]) / 2;
  if (!(*mine > rule.factor() * median)) return std::nullopt;
  const std::string what =
      rule.window() == 1
          ? absl::StrCat(rule.metric(), " at step ", rule.step())
          : absl::StrCat(rule.metric(), " (mean of steps ", rule.step() - rule.window() + 1, "-", rule.step(), ")");
  return absl::StrCat("stopped by the sweep's early-stop rule: ", what, " ", Num(*mine), " > ", Num(rule.factor()),
                      " × ", Num(median), ", the median of ", n, n == 1 ? " sibling" : " siblings", " at step ",
                      rule.step());
}

}  // namespace dreamshot::services
