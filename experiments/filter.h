// Run-search filter and order-by compiler: turns the small query language that
// users type ("metrics.clip_t > 0.3 AND params.lora_rank IN (4, 8)") into a
// parameterised SQLite expression over the runs table aliased `r`.
//
// Every key name and literal from the input is returned as a binding for a `?`
// placeholder; the SQL text is assembled only from fixed fragments in
// filter.cc, so no input can change the shape of the query.
//
// ---------------------------------------------------------------------------
// Filter grammar (keywords AND, OR, NOT, IN, LIKE are case-insensitive)
//
//   expr       := or_expr
//   or_expr    := and_expr ( OR and_expr )*
//   and_expr   := not_expr ( AND not_expr )*
//   not_expr   := NOT not_expr | primary
//   primary    := '(' expr ')' | comparison
//   comparison := field op literal
//               | field [NOT] IN '(' literal (',' literal)* ')'
//               | field [NOT] LIKE string
//   op         := '=' | '==' | '!=' | '<>' | '<' | '<=' | '>' | '>='
//   field      := namespace '.' name | attribute_name
//   namespace  := params | param | metrics | metric | tags | tag
//               | attributes | attribute | attr | run
//   name       := [A-Za-z0-9_.\-/:]+        (after the first '.', dots are part
//                                            of the key: params.opt.lr -> "opt.lr")
//               | `backquoted text`          (any text; \` and \\ escapes, or ``)
//   literal    := number                     (-3, 4, 1.5, .5, 2e-4, +1E3)
//               | 'single quoted'            (escapes \' \" \\, and '' for ')
//               | "double quoted"            (escapes \' \" \\)
//
// Precedence: NOT binds tighter than AND, which binds tighter than OR, so
// `NOT a AND b OR c` means `((NOT a) AND b) OR c`. Namespace prefixes are
// case-insensitive; key names are case-sensitive.
//
// Attributes (bare, or prefixed with attributes./attribute./attr./run.;
// names are case-insensitive):
//   status                 string; each value must be one of queued, running,
//                          finished, failed, cancelled (LIKE patterns are free)
//   name, notes            strings (a number literal compares as its text)
//   id, run_id             integer run id
//   experiment_id          integer
//   parent_run_id          integer
//   start_time, end_time,  integers, milliseconds since the Unix epoch
//   created_time           (columns start_ms, end_ms, created_ms)
//
// Semantics:
//   * params: a number literal compares the value parsed as a number
//     (params.value_num), so non-numeric values never match it; a string
//     literal compares the stored text (params.value). An IN list must be all
//     numbers or all strings.
//   * metrics: the latest logged value of the metric; number literals only,
//     no LIKE.
//   * tags: text; a number literal compares as its text as written.
//   * A comparison on a key (or nullable attribute) a run does not have is
//     FALSE, whatever the operator: `tags.keep != 'yes'` excludes runs without
//     a `keep` tag. NOT negates the whole comparison, so
//     `NOT tags.keep = 'yes'` includes them. Results are always true or false,
//     never SQL NULL, so NOT behaves as in two-valued logic.
//   * LIKE is SQLite's LIKE: '%' and '_' wildcards, ASCII case-insensitive.
//
// Limits (exceeding one is an error, not a crash): filter length 4096 bytes,
// nesting depth 64 (parentheses and NOTs), 1000 values per IN list.
// Errors are InvalidArgument and name the problem and its 1-based byte column,
// e.g. "filter: expected a value after '>' at column 23".
//
// ---------------------------------------------------------------------------
// Order-by grammar:
//
//   order_by := term ( ',' term )*        (at most 8 terms)
//   term     := field [ ASC | DESC ]      (default ASC; same fields as above)
//
// Runs missing the key (or with a NULL attribute) sort last in either
// direction. params sort by their numeric value, then by their text (so
// numeric values come before non-numeric ones). An empty order-by means
// "r.start_ms DESC, r.id DESC"; otherwise ", r.id DESC" is appended as a
// deterministic tiebreak.
#ifndef DREAMSHOT_EXPERIMENTS_FILTER_H_
#define DREAMSHOT_EXPERIMENTS_FILTER_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "experiments/sql_value.h"

namespace dreamshot::experiments {

inline constexpr size_t kMaxFilterLength = 4096;
inline constexpr int kMaxFilterDepth = 64;
inline constexpr size_t kMaxInListValues = 1000;
inline constexpr size_t kMaxOrderByTerms = 8;

// Compiles a filter expression into a SQL boolean expression over `runs r`
// (also referencing params, latest_metrics and run_tags in subqueries).
// An empty or all-whitespace filter yields {"1", {}}.
absl::StatusOr<SqlFragment> CompileRunFilter(absl::string_view filter);

// Compiles an order-by clause such as "metrics.clip_t desc, params.lora_rank"
// into ORDER BY terms (without the words ORDER BY), always ending in a
// deterministic tiebreak on r.id.
absl::StatusOr<SqlFragment> CompileRunOrderBy(absl::string_view order_by);

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_FILTER_H_
