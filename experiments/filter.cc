// Lexer, recursive-descent parser and SQL emitter for the run-search filter
// and order-by languages documented in filter.h.
//
// Safety rule: text from the input never reaches SqlFragment::sql. Key names
// and literals go to `bindings`; every SQL string appended below is a literal
// of this file (operators are mapped to fixed strings by the lexer, columns
// come from the attribute table).
#include "experiments/filter.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace dreamshot::experiments {
namespace {

// ---------------------------------------------------------------------------
// Errors

// Quotes a piece of user input for an error message: bounded in length and
// with control/non-ASCII bytes escaped, so messages stay printable.
std::string Snip(absl::string_view s) {
  constexpr size_t kMax = 40;
  std::string out = absl::CHexEscape(s.substr(0, kMax));
  if (s.size() > kMax) out += "...";
  return out;
}

absl::Status SyntaxError(absl::string_view what, absl::string_view message,
                         size_t column, absl::string_view hint = "") {
  return absl::InvalidArgumentError(
      absl::StrCat(what, ": ", message, " at column ", column,
                   hint.empty() ? "" : " (", hint, hint.empty() ? "" : ")"));
}

// ---------------------------------------------------------------------------
// Lexer

enum class TokKind {
  kIdent, kNumber, kString, kOp, kLParen, kRParen, kComma, kEnd, kError
};

struct Token {
  TokKind kind = TokKind::kEnd;
  size_t offset = 0;  // byte offset of the first character in the input
  size_t length = 0;  // bytes of input the token spans
  // kIdent: the name as written (without any backquoted part);
  // kString: the decoded string; kOp: the SQL operator (fixed strings only).
  std::string text;
  // kIdent written as `ns.` followed by a backquoted key: the decoded key.
  bool has_quoted_key = false;
  std::string quoted_key;
  // kNumber: the parsed value.
  bool is_int = false;
  int64_t int_value = 0;
  double double_value = 0;
  absl::Status error;  // kError: why lexing stopped here

  size_t column() const { return offset + 1; }
};

bool IsNameStart(char c) { return absl::ascii_isalpha(c) || c == '_'; }
bool IsNameChar(char c) {
  return absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-' ||
         c == '/' || c == ':';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Decodes the quoted text starting at in[*pos] (the opening quote) into *out
// and moves *pos past the closing quote. Backslash escapes \' \" \` \\ work
// in all quote styles; a doubled quote stands for itself in '...' and `...`.
absl::Status DecodeQuoted(absl::string_view in, size_t* pos, absl::string_view what,
                          std::string* out) {
  const char quote = in[*pos];
  const size_t start = *pos;
  size_t i = start + 1;
  while (i < in.size()) {
    const char c = in[i];
    if (c == '\\' && i + 1 < in.size()) {
      const char e = in[i + 1];
      if (e != '\'' && e != '"' && e != '`' && e != '\\') {
        return SyntaxError(what,
                           absl::StrCat("unknown escape '\\", Snip(in.substr(i + 1, 1)), "'"),
                           i + 1, "use \\\\ for a backslash");
      }
      *out += e;
      i += 2;
      continue;
    }
    if (c == quote) {
      if (quote != '"' && i + 1 < in.size() && in[i + 1] == quote) {
        *out += quote;
        i += 2;
        continue;
      }
      *pos = i + 1;
      return absl::OkStatus();
    }
    *out += c;
    ++i;
  }
  return SyntaxError(what,
                     quote == '`' ? "unterminated backquoted name starting"
                                  : "unterminated string starting",
                     start + 1);
}

// Scans a number literal at in[*pos] into the value fields of *t and moves
// *pos past it.
absl::Status LexNumber(absl::string_view in, size_t* pos, Token* t,
                       absl::string_view what) {
  const size_t i = *pos;
  size_t j = i;
  if (in[j] == '+' || in[j] == '-') ++j;
  bool real = false;
  while (j < in.size() && IsDigit(in[j])) ++j;
  if (j < in.size() && in[j] == '.') {
    real = true;
    ++j;
    while (j < in.size() && IsDigit(in[j])) ++j;
  }
  bool bad = false;
  if (j < in.size() && (in[j] == 'e' || in[j] == 'E')) {
    real = true;
    ++j;
    if (j < in.size() && (in[j] == '+' || in[j] == '-')) ++j;
    const size_t exp_start = j;
    while (j < in.size() && IsDigit(in[j])) ++j;
    bad = j == exp_start;
  }
  // "12abc", "1.2.3", "3-2": a number must end where a name would not go on.
  if (bad || (j < in.size() && (IsNameChar(in[j]) || in[j] == '+'))) {
    size_t k = j;
    while (k < in.size() && (IsNameChar(in[k]) || in[k] == '+')) ++k;
    return SyntaxError(what,
                       absl::StrCat("invalid number '", Snip(in.substr(i, k - i)), "'"),
                       i + 1);
  }
  absl::string_view digits = in.substr(i, j - i);
  if (digits[0] == '+') digits.remove_prefix(1);  // not every parser takes '+'
  if (!real && absl::SimpleAtoi(digits, &t->int_value)) {
    t->is_int = true;
  } else if (!absl::SimpleAtod(digits, &t->double_value) ||
             !std::isfinite(t->double_value)) {
    return SyntaxError(what,
                       absl::StrCat("number '", Snip(in.substr(i, j - i)), "' is out of range"),
                       i + 1);
  }
  *pos = j;
  return absl::OkStatus();
}

// Scans an operator at in[i] into t->text (a fixed SQL spelling); returns the
// offset past it, or 0 if in[i] does not start an operator.
size_t LexOp(absl::string_view in, size_t i, Token* t) {
  struct Op { absl::string_view spelling; const char* sql; };
  // Two-character spellings first, so "<=" is not read as "<" then "=".
  static constexpr Op kOps[] = {{"==", "="},  {"!=", "!="}, {"<>", "!="},
                                {"<=", "<="}, {">=", ">="}, {"=", "="},
                                {"<", "<"},   {">", ">"}};
  for (const Op& op : kOps) {
    if (absl::StartsWith(in.substr(i), op.spelling)) {
      t->text = op.sql;
      return i + op.spelling.size();
    }
  }
  return 0;
}

// Splits the whole input into tokens up front (inputs are at most 4096 bytes).
// A lexing error becomes a final kError token, so the parser reports it only
// if it gets that far: errors come out in input order.
std::vector<Token> Tokenize(absl::string_view in, absl::string_view what) {
  std::vector<Token> out;
  size_t i = 0;
  while (true) {
    while (i < in.size() && absl::ascii_isspace(in[i])) ++i;
    Token t;
    t.offset = i;
    if (i >= in.size()) {
      out.push_back(std::move(t));  // kEnd
      return out;
    }
    const char c = in[i];
    const char n = i + 1 < in.size() ? in[i + 1] : '\0';
    const char n2 = i + 2 < in.size() ? in[i + 2] : '\0';
    absl::Status error;
    if (c == '(' || c == ')' || c == ',') {
      t.kind = c == '(' ? TokKind::kLParen
                        : c == ')' ? TokKind::kRParen : TokKind::kComma;
      ++i;
    } else if (IsNameStart(c)) {
      size_t j = i;
      while (j < in.size() && IsNameChar(in[j])) ++j;
      t.kind = TokKind::kIdent;
      t.text = std::string(in.substr(i, j - i));
      if (t.text.back() == '.' && j < in.size() && in[j] == '`') {
        t.has_quoted_key = true;
        error = DecodeQuoted(in, &j, what, &t.quoted_key);
      }
      i = j;
    } else if (IsDigit(c) || (c == '.' && IsDigit(n)) ||
               ((c == '+' || c == '-') &&
                (IsDigit(n) || (n == '.' && IsDigit(n2))))) {
      t.kind = TokKind::kNumber;
      error = LexNumber(in, &i, &t, what);
    } else if (c == '\'' || c == '"') {
      t.kind = TokKind::kString;
      error = DecodeQuoted(in, &i, what, &t.text);
    } else if (c == '`') {
      error = SyntaxError(what, "a backquoted name needs a namespace", i + 1,
                          "e.g. params.`my key`");
    } else if (size_t end = LexOp(in, i, &t); end != 0) {
      t.kind = TokKind::kOp;
      i = end;
    } else {
      error = SyntaxError(
          what, absl::StrCat("unexpected character '", Snip(in.substr(i, 1)), "'"),
          i + 1);
    }
    if (!error.ok()) {
      t.kind = TokKind::kError;
      t.error = std::move(error);
      out.push_back(std::move(t));
      return out;
    }
    t.length = i - t.offset;
    out.push_back(std::move(t));
  }
}

// ---------------------------------------------------------------------------
// Fields

enum class Namespace { kParams, kMetrics, kTags, kAttributes };

enum class AttrType { kInt, kString, kStatus };

struct Attribute {
  const char* name;
  const char* column;  // fixed SQL, never input
  AttrType type;
};

constexpr Attribute kAttributes[] = {
    {"status", "r.status", AttrType::kStatus},
    {"name", "r.name", AttrType::kString},
    {"notes", "r.notes", AttrType::kString},
    {"id", "r.id", AttrType::kInt},
    {"run_id", "r.id", AttrType::kInt},
    {"experiment_id", "r.experiment_id", AttrType::kInt},
    {"parent_run_id", "r.parent_run_id", AttrType::kInt},
    {"start_time", "r.start_ms", AttrType::kInt},
    {"end_time", "r.end_ms", AttrType::kInt},
    {"created_time", "r.created_ms", AttrType::kInt},
};
constexpr char kAttributeList[] =
    "status, name, notes, id, run_id, experiment_id, parent_run_id, "
    "start_time, end_time, created_time";

constexpr const char* kStatuses[] = {"queued", "running", "finished", "failed",
                                     "cancelled"};

struct Field {
  Namespace ns = Namespace::kAttributes;
  std::string key;                    // params/metrics/tags key
  const Attribute* attr = nullptr;    // kAttributes only
  std::string display;                // as written, escaped, for messages
  size_t column = 0;
};

bool LookupNamespace(absl::string_view prefix, Namespace* ns) {
  struct Entry { const char* name; Namespace ns; };
  static constexpr Entry kEntries[] = {
      {"params", Namespace::kParams},         {"param", Namespace::kParams},
      {"metrics", Namespace::kMetrics},       {"metric", Namespace::kMetrics},
      {"tags", Namespace::kTags},             {"tag", Namespace::kTags},
      {"attributes", Namespace::kAttributes}, {"attribute", Namespace::kAttributes},
      {"attr", Namespace::kAttributes},       {"run", Namespace::kAttributes},
  };
  for (const Entry& e : kEntries) {
    if (absl::EqualsIgnoreCase(prefix, e.name)) {
      *ns = e.ns;
      return true;
    }
  }
  return false;
}

const Attribute* LookupAttribute(absl::string_view name) {
  for (const Attribute& a : kAttributes) {
    if (absl::EqualsIgnoreCase(name, a.name)) return &a;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------
// Parser (shared token handling + the filter and order-by grammars)

class Parser {
 public:
  Parser(absl::string_view input, absl::string_view what)
      : input_(input), what_(what), tokens_(Tokenize(input, what)) {}

  absl::Status ParseFilter(SqlFragment* out);
  absl::Status ParseOrderBy(SqlFragment* out);

 private:
  const Token& Peek() const { return tokens_[pos_]; }
  const Token& Next() {
    const Token& t = tokens_[pos_];
    if (t.kind != TokKind::kEnd && t.kind != TokKind::kError) ++pos_;
    return t;
  }
  absl::string_view Raw(const Token& t) const {
    return input_.substr(t.offset, t.length);
  }
  bool IsKeyword(const Token& t, absl::string_view keyword) const {
    return t.kind == TokKind::kIdent && !t.has_quoted_key &&
           absl::EqualsIgnoreCase(t.text, keyword);
  }
  bool IsReserved(const Token& t) const {
    for (const char* kw : {"AND", "OR", "NOT", "IN", "LIKE", "ASC", "DESC"}) {
      if (IsKeyword(t, kw)) return true;
    }
    return false;
  }
  absl::Status Error(size_t column, absl::string_view message,
                     absl::string_view hint = "") const {
    return SyntaxError(what_, message, column, hint);
  }
  // "unexpected X at column N (expected ...)", or the lexer's own error.
  absl::Status Unexpected(const Token& t, absl::string_view expected) const;

  absl::StatusOr<Field> ParseField();

  absl::Status ParseChain(int depth, bool is_or, SqlFragment* out);
  absl::Status CheckDepth(int depth, const Token& t) const;
  absl::Status ParseNot(int depth, SqlFragment* out);
  absl::Status ParsePrimary(int depth, SqlFragment* out);
  absl::Status ParseComparison(SqlFragment* out);
  absl::StatusOr<std::vector<const Token*>> ParseInList();

  // How `lit` compares with `f`: the column read and the value bound.
  absl::StatusOr<std::pair<const char*, SqlValue>> Operand(
      const Field& f, const Token& lit, bool check_status) const;
  void OpenScope(const Field& f, SqlFragment* out) const;

  absl::string_view input_;
  absl::string_view what_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

absl::Status Parser::Unexpected(const Token& t,
                                absl::string_view expected) const {
  if (t.kind == TokKind::kError) return t.error;
  const std::string desc =
      t.kind == TokKind::kEnd      ? "end of input"
      : t.kind == TokKind::kString ? absl::StrCat("string '", Snip(t.text), "'")
      : t.kind == TokKind::kNumber ? absl::StrCat("number ", Snip(Raw(t)))
                                   : absl::StrCat("'", Snip(Raw(t)), "'");
  return Error(t.column(), absl::StrCat("unexpected ", desc),
               absl::StrCat("expected ", expected));
}

absl::StatusOr<Field> Parser::ParseField() {
  const Token& t = Peek();
  if (t.kind != TokKind::kIdent || IsReserved(t)) {
    return Unexpected(t, "a field such as metrics.loss, params.lr or status");
  }
  Next();
  Field f;
  f.column = t.column();
  f.display = Snip(Raw(t));
  const absl::string_view text = t.text;
  const size_t dot = text.find('.');
  if (dot == absl::string_view::npos) {
    f.attr = LookupAttribute(text);
    if (f.attr == nullptr) {
      return Error(f.column, absl::StrCat("unknown attribute '", Snip(text), "'"),
                   absl::StrCat("expected one of ", kAttributeList,
                                "; keys need a prefix: params., metrics. or tags."));
    }
    return f;
  }
  const absl::string_view prefix = text.substr(0, dot);
  if (!LookupNamespace(prefix, &f.ns)) {
    return Error(f.column,
                 absl::StrCat("unknown field namespace '", Snip(prefix), "'"),
                 "expected params, metrics, tags or attributes");
  }
  // In "params.group.`my key`" the key is "group.my key".
  std::string name(text.substr(dot + 1));
  if (t.has_quoted_key) name += t.quoted_key;
  if (name.empty()) {
    return Error(f.column + dot + 1,
                 absl::StrCat("expected a key name after '", Snip(text.substr(0, dot + 1)), "'"));
  }
  if (f.ns == Namespace::kAttributes) {
    f.attr = LookupAttribute(name);
    if (f.attr == nullptr) {
      return Error(f.column + dot + 1,
                   absl::StrCat("unknown attribute '", Snip(name), "'"),
                   absl::StrCat("expected one of ", kAttributeList));
    }
  } else {
    f.key = std::move(name);
  }
  return f;
}

// ---- Filter ----

absl::Status Parser::ParseFilter(SqlFragment* out) {
  RETURN_IF_ERROR(ParseChain(0, /*is_or=*/true, out));
  const Token& t = Peek();
  if (t.kind == TokKind::kEnd) return absl::OkStatus();
  if (t.kind == TokKind::kError) return t.error;
  if (t.kind == TokKind::kRParen) return Error(t.column(), "unexpected ')'");
  return Error(t.column(),
               absl::StrCat("trailing input '", Snip(input_.substr(t.offset)), "'"));
}

// or_expr / and_expr: `child (KEYWORD child)*`. The group is parenthesised
// only when KEYWORD occurs; the '(' is inserted afterwards so that bindings
// keep placeholder order.
absl::Status Parser::ParseChain(int depth, bool is_or, SqlFragment* out) {
  const char* keyword = is_or ? "OR" : "AND";
  auto child = [&] { return is_or ? ParseChain(depth, false, out) : ParseNot(depth, out); };
  const size_t mark = out->sql.size();
  RETURN_IF_ERROR(child());
  if (!IsKeyword(Peek(), keyword)) return absl::OkStatus();
  out->sql.insert(mark, "(");
  while (IsKeyword(Peek(), keyword)) {
    Next();
    out->sql += is_or ? " OR " : " AND ";
    RETURN_IF_ERROR(child());
  }
  out->sql += ")";
  return absl::OkStatus();
}

absl::Status Parser::CheckDepth(int depth, const Token& t) const {
  if (depth <= kMaxFilterDepth) return absl::OkStatus();
  return Error(t.column(), absl::StrCat("nesting deeper than ", kMaxFilterDepth, " levels"));
}

absl::Status Parser::ParseNot(int depth, SqlFragment* out) {
  if (!IsKeyword(Peek(), "NOT")) return ParsePrimary(depth, out);
  const Token& t = Next();
  // NOT recurses like '(' does, so it counts toward the depth limit too.
  RETURN_IF_ERROR(CheckDepth(depth + 1, t));
  out->sql += "(NOT ";
  RETURN_IF_ERROR(ParseNot(depth + 1, out));
  out->sql += ")";
  return absl::OkStatus();
}

absl::Status Parser::ParsePrimary(int depth, SqlFragment* out) {
  const Token& open = Peek();
  if (open.kind != TokKind::kLParen) return ParseComparison(out);
  Next();
  RETURN_IF_ERROR(CheckDepth(depth + 1, open));
  RETURN_IF_ERROR(ParseChain(depth + 1, /*is_or=*/true, out));
  const Token& close = Peek();
  if (close.kind != TokKind::kRParen) {
    return Unexpected(close, absl::StrCat("')' to close '(' at column ", open.column()));
  }
  Next();
  return absl::OkStatus();
}

absl::StatusOr<std::pair<const char*, SqlValue>> Parser::Operand(
    const Field& f, const Token& lit, bool check_status) const {
  const bool number = lit.kind == TokKind::kNumber;
  SqlValue numeric = lit.is_int ? SqlValue(lit.int_value) : SqlValue(lit.double_value);
  // Text columns take a number literal as its text as written ("1.50").
  SqlValue text = number ? std::string(Raw(lit)) : lit.text;
  auto needs_number = [&]() {
    return Error(lit.column(),
                 absl::StrCat(f.display, " compares with numbers, got string '",
                              Snip(lit.text), "'"));
  };
  switch (f.ns) {
    case Namespace::kParams:
      if (number) return std::make_pair("p.value_num", std::move(numeric));
      return std::make_pair("p.value", std::move(text));
    case Namespace::kMetrics:
      if (!number) return needs_number();
      return std::make_pair("m.value", std::move(numeric));
    case Namespace::kTags:
      return std::make_pair("t.value", std::move(text));
    case Namespace::kAttributes:
      break;
  }
  switch (f.attr->type) {
    case AttrType::kInt:
      if (!number) return needs_number();
      return std::make_pair(f.attr->column, std::move(numeric));
    case AttrType::kString:
      return std::make_pair(f.attr->column, std::move(text));
    case AttrType::kStatus:
      break;
  }
  // Statuses are a closed set: an unknown one is a typo, not an empty result.
  std::string status = absl::AsciiStrToLower(std::get<std::string>(text));
  if (check_status) {
    bool known = false;
    for (const char* s : kStatuses) known = known || status == s;
    if (!known) {
      return Error(lit.column(), absl::StrCat("invalid status '", Snip(status), "'"),
                   "expected one of queued, running, finished, failed, cancelled");
    }
  }
  return std::make_pair(f.attr->column, SqlValue(std::move(status)));
}

// Opens the context a predicate on `f` is evaluated in; the caller appends
// the predicate and ")". Key lookups are EXISTS subqueries and nullable
// columns are guarded, so the result is never NULL and a missing key is false.
void Parser::OpenScope(const Field& f, SqlFragment* out) const {
  switch (f.ns) {
    case Namespace::kParams:
      out->sql += "EXISTS (SELECT 1 FROM params p WHERE p.run_id = r.id AND p.key = ? AND ";
      break;
    case Namespace::kMetrics:
      out->sql += "EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_id = r.id AND m.key = ? AND ";
      break;
    case Namespace::kTags:
      out->sql += "EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.id AND t.key = ? AND ";
      break;
    case Namespace::kAttributes:
      out->sql += absl::StrCat("(", f.attr->column, " IS NOT NULL AND ");
      return;
  }
  out->bindings.push_back(f.key);
}

absl::StatusOr<std::vector<const Token*>> Parser::ParseInList() {
  const Token& open = Peek();
  if (open.kind != TokKind::kLParen) return Unexpected(open, "'(' after IN");
  Next();
  std::vector<const Token*> items;
  while (true) {
    const Token& v = Peek();
    if (v.kind != TokKind::kNumber && v.kind != TokKind::kString) {
      return Unexpected(v, "a value in the IN list");
    }
    if (items.size() == kMaxInListValues) {
      return Error(v.column(), absl::StrCat("IN list has more than ", kMaxInListValues, " values"));
    }
    items.push_back(&Next());
    const Token& sep = Next();
    if (sep.kind == TokKind::kRParen) return items;
    if (sep.kind != TokKind::kComma) return Unexpected(sep, "',' or ')' in the IN list");
  }
}

absl::Status Parser::ParseComparison(SqlFragment* out) {
  ASSIGN_OR_RETURN(const Field f, ParseField());
  const Token& op = Peek();
  if (op.kind == TokKind::kOp) {
    Next();
    const Token& lit = Peek();
    if (lit.kind == TokKind::kError) return lit.error;
    if (lit.kind != TokKind::kNumber && lit.kind != TokKind::kString) {
      return Error(lit.column(), absl::StrCat("expected a value after '", Raw(op), "'"));
    }
    Next();
    ASSIGN_OR_RETURN(auto operand, Operand(f, lit, /*check_status=*/true));
    OpenScope(f, out);
    out->sql += absl::StrCat(operand.first, " ", op.text, " ?)");
    out->bindings.push_back(std::move(operand.second));
    return absl::OkStatus();
  }

  bool negated = false;
  if (IsKeyword(op, "NOT")) {
    Next();
    negated = true;
    if (!IsKeyword(Peek(), "IN") && !IsKeyword(Peek(), "LIKE")) {
      return Unexpected(Peek(), "IN or LIKE after NOT");
    }
  }
  const Token& kw = Peek();
  if (IsKeyword(kw, "IN")) {
    Next();
    ASSIGN_OR_RETURN(const std::vector<const Token*> items, ParseInList());
    std::vector<SqlValue> values;
    const char* column = nullptr;
    for (const Token* item : items) {
      ASSIGN_OR_RETURN(auto operand, Operand(f, *item, /*check_status=*/true));
      // Only params switch columns by literal type; one list, one column.
      if (column != nullptr && absl::string_view(column) != operand.first) {
        return Error(item->column(), "IN list mixes numbers and strings");
      }
      column = operand.first;
      values.push_back(std::move(operand.second));
    }
    OpenScope(f, out);
    out->sql += absl::StrCat(column, negated ? " NOT IN (" : " IN (");
    for (size_t i = 0; i < values.size(); ++i) out->sql += i == 0 ? "?" : ", ?";
    out->sql += "))";
    for (SqlValue& v : values) out->bindings.push_back(std::move(v));
    return absl::OkStatus();
  }
  if (IsKeyword(kw, "LIKE")) {
    Next();
    if (f.ns == Namespace::kMetrics ||
        (f.ns == Namespace::kAttributes && f.attr->type == AttrType::kInt)) {
      return Error(kw.column(),
                   absl::StrCat(f.display, " is numeric and does not support LIKE"));
    }
    const Token& pattern = Peek();
    if (pattern.kind == TokKind::kError) return pattern.error;
    if (pattern.kind != TokKind::kString) {
      return Error(pattern.column(), "expected a quoted string pattern after LIKE");
    }
    Next();
    ASSIGN_OR_RETURN(auto operand, Operand(f, pattern, /*check_status=*/false));
    OpenScope(f, out);
    out->sql += absl::StrCat(operand.first, negated ? " NOT LIKE ?)" : " LIKE ?)");
    out->bindings.push_back(std::move(operand.second));
    return absl::OkStatus();
  }
  return Unexpected(kw, absl::StrCat("an operator after ", f.display,
                                     ": =, !=, <, <=, >, >=, IN or LIKE"));
}

// ---- Order-by ----

// The run's value for a key (NULL when the run lacks it), for ORDER BY.
const char* KeyValueSubquery(Namespace ns, bool params_text) {
  switch (ns) {
    case Namespace::kParams:
      return params_text
                 ? "(SELECT p.value FROM params p WHERE p.run_id = r.id AND p.key = ?)"
                 : "(SELECT p.value_num FROM params p WHERE p.run_id = r.id AND p.key = ?)";
    case Namespace::kMetrics:
      return "(SELECT m.value FROM latest_metrics m WHERE m.run_id = r.id AND m.key = ?)";
    default:
      return "(SELECT t.value FROM run_tags t WHERE t.run_id = r.id AND t.key = ?)";
  }
}

absl::Status Parser::ParseOrderBy(SqlFragment* out) {
  size_t terms = 0;
  while (true) {
    ASSIGN_OR_RETURN(const Field f, ParseField());
    if (++terms > kMaxOrderByTerms) {
      return Error(f.column, absl::StrCat("more than ", kMaxOrderByTerms, " order-by terms"));
    }
    const char* dir = " ASC NULLS LAST";
    if (IsKeyword(Peek(), "ASC")) {
      Next();
    } else if (IsKeyword(Peek(), "DESC")) {
      Next();
      dir = " DESC NULLS LAST";
    }
    if (terms > 1) out->sql += ", ";
    // NULLS LAST in both directions: runs without the key always sort last.
    if (f.ns == Namespace::kAttributes) {
      out->sql += absl::StrCat(f.attr->column, dir);
    } else {
      out->sql += absl::StrCat(KeyValueSubquery(f.ns, /*params_text=*/false), dir);
      out->bindings.push_back(f.key);
    }
    if (f.ns == Namespace::kParams) {  // numbers first, by value; then by text
      out->sql += absl::StrCat(", ", KeyValueSubquery(f.ns, /*params_text=*/true), dir);
      out->bindings.push_back(f.key);
    }
    const Token& t = Next();
    if (t.kind == TokKind::kEnd) break;
    if (t.kind != TokKind::kComma) return Unexpected(t, "',', ASC, DESC or end of input");
  }
  out->sql += ", r.id DESC";
  return absl::OkStatus();
}

absl::Status CheckLength(absl::string_view what, absl::string_view input) {
  if (input.size() <= kMaxFilterLength) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      what, ": too long (", input.size(), " bytes, at most ", kMaxFilterLength, ")"));
}

}  // namespace

absl::StatusOr<SqlFragment> CompileRunFilter(absl::string_view filter) {
  RETURN_IF_ERROR(CheckLength("filter", filter));
  if (absl::StripAsciiWhitespace(filter).empty()) return SqlFragment{"1", {}};
  SqlFragment out;
  RETURN_IF_ERROR(Parser(filter, "filter").ParseFilter(&out));
  return out;
}

absl::StatusOr<SqlFragment> CompileRunOrderBy(absl::string_view order_by) {
  RETURN_IF_ERROR(CheckLength("order_by", order_by));
  if (absl::StripAsciiWhitespace(order_by).empty()) {
    return SqlFragment{"r.start_ms DESC, r.id DESC", {}};
  }
  SqlFragment out;
  RETURN_IF_ERROR(Parser(order_by, "order_by").ParseOrderBy(&out));
  return out;
}

}  // namespace dreamshot::experiments
