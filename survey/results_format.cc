#include "survey/results_format.h"

#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace dreamshot::survey {
namespace {

// The document both renderers print: one layout, two syntaxes.
struct Block {
  enum Kind { kTitle, kHeading, kParagraph, kTable } kind;
  std::string text;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

std::string Percent(double share) { return absl::StrFormat("%.1f", 100.0 * share); }

std::string Share(const ShareEstimate& e) {
  return absl::StrCat(Percent(e.share), "% (", Percent(e.bootstrap.low), "–", Percent(e.bootstrap.high), ") [",
                      Percent(e.wilson.low), "–", Percent(e.wilson.high), "]");
}

std::string PValue(double p) { return p < 0.001 ? "<0.001" : absl::StrFormat("%.3g", p); }

std::vector<Block> Layout(const ResultsHeading& heading, const SurveyResults& r) {
  std::vector<Block> doc;
  auto paragraph = [&](std::string text) { doc.push_back({Block::kParagraph, std::move(text), {}, {}}); };
  doc.push_back({Block::kTitle,
                 absl::StrCat("Survey results: ", heading.survey, " (", SurveyStatusName(heading.status), ")"),
                 {},
                 {}});
  std::string who = absl::StrCat("Participants: ", r.participants_joined, " joined, ", r.participants_answered,
                                 " answered, ", r.participants_included, " included");
  if (r.excluded_attention > 0) {
    absl::StrAppend(&who, "; ", r.excluded_attention, " excluded for failing more than ",
                    r.options.max_attention_failures, " attention check(s)");
  }
  if (r.excluded_unfinished > 0) absl::StrAppend(&who, "; ", r.excluded_unfinished, " excluded as unfinished");
  absl::StrAppend(&who, ". Median time per pair: ", absl::StrFormat("%.1f", r.median_seconds_per_pair), " s over ",
                  r.timed_pairs, " pairs.");
  paragraph(std::move(who));
  const std::string level = absl::StrFormat("%g%%", 100.0 * r.options.level);
  paragraph(absl::StrCat("Shares are % of answers. (low–high): ", level, " percentile bootstrap over participants (",
                         r.options.resamples, " resamples, seed ", r.options.seed, "); [low–high]: ", level,
                         " Wilson interval over answers. p: two-sided exact sign test of the two systems without "
                         "\"neither\", over answers and over each participant's majority."));

  std::string current;
  for (const ShareRow& row : r.rows) {
    const std::string title = absl::StrCat(row.system_x, " vs ", row.system_y);
    if (title != current) {
      current = title;
      doc.push_back({Block::kHeading, title, {}, {}});
      doc.push_back({Block::kTable,
                     "",
                     {"Question", "Shot type", "Answers", "Participants", row.system_x, row.system_y, "Neither",
                      "p (answers)", "p (participants)"},
                     {}});
    }
    doc.back().rows.push_back({row.question, row.shot_type.empty() ? "all" : row.shot_type, absl::StrCat(row.answers),
                               absl::StrCat(row.participants), Share(row.x), Share(row.y), Share(row.neither),
                               PValue(row.sign_test_p),
                               absl::StrCat(PValue(row.participant_sign_test_p), " (", row.participants_prefer_x, ":",
                                            row.participants_prefer_y, ")")});
  }
  if (r.rows.empty()) paragraph("No pairs of systems to compare.");

  doc.push_back({Block::kHeading, "Agreement (Fleiss' κ)", {}, {}});
  doc.push_back({Block::kTable, "", {"Question", "Pairs rated twice or more", "Ratings", "κ"}, {}});
  for (const Agreement& a : r.agreement) {
    doc.back().rows.push_back({a.question, absl::StrCat(a.items), absl::StrCat(a.ratings),
                               a.kappa ? absl::StrFormat("%.3f", *a.kappa) : absl::StrCat("– (", a.note, ")")});
  }

  if (!r.rankings.empty()) {
    doc.push_back({Block::kHeading, "Bradley–Terry strengths", {}, {}});
    paragraph("π with P(i beats j) = π_i / (π_i + π_j), geometric mean 1; \"neither\" counts half a win each.");
    doc.push_back({Block::kTable, "", {"Question", "System", "Strength π", "Answers"}, {}});
    for (const Ranking& ranking : r.rankings) {
      if (ranking.systems.empty()) doc.back().rows.push_back({ranking.question, "–", ranking.note, ""});
      for (const SystemStrength& s : ranking.systems) {
        doc.back().rows.push_back(
            {ranking.question, s.system, absl::StrFormat("%.3f", s.strength), absl::StrCat(s.comparisons)});
      }
    }
  }

  doc.push_back({Block::kHeading, "Attention checks", {}, {}});
  int64_t failing = 0;
  for (const AttentionReport& a : r.attention) failing += a.failed > 0;
  if (r.attention.empty()) {
    paragraph("No attention checks were answered.");
  } else {
    paragraph(absl::StrCat(static_cast<int64_t>(r.attention.size()) - failing, " of ", r.attention.size(),
                           " participants who met a check passed every one",
                           failing > 0 ? "; those who failed one:" : "."));
  }
  if (failing > 0) {
    doc.push_back({Block::kTable, "", {"Participant", "Checks", "Failed", "Excluded"}, {}});
    for (const AttentionReport& a : r.attention) {
      if (a.failed == 0) continue;
      doc.back().rows.push_back(
          {absl::StrCat(a.participant), absl::StrCat(a.checks), absl::StrCat(a.failed), a.excluded ? "yes" : "no"});
    }
  }
  return doc;
}

std::string MarkdownCell(const std::string& text) {
  return absl::StrReplaceAll(text, {{"\\", "\\\\"}, {"|", "\\|"}, {"\n", " "}});
}

std::string HtmlEscape(const std::string& text) {
  return absl::StrReplaceAll(text, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}, {"'", "&#39;"}});
}

}  // namespace

std::string ResultsMarkdown(const ResultsHeading& heading, const SurveyResults& results) {
  std::string out;
  for (const Block& b : Layout(heading, results)) {
    switch (b.kind) {
      case Block::kTitle:
        absl::StrAppend(&out, "# ", b.text, "\n\n");
        break;
      case Block::kHeading:
        absl::StrAppend(&out, "## ", b.text, "\n\n");
        break;
      case Block::kParagraph:
        absl::StrAppend(&out, b.text, "\n\n");
        break;
      case Block::kTable: {
        std::vector<std::string> header, rule;
        for (const std::string& h : b.header) {
          header.push_back(MarkdownCell(h));
          rule.push_back("---");
        }
        absl::StrAppend(&out, "| ", absl::StrJoin(header, " | "), " |\n|", absl::StrJoin(rule, "|"), "|\n");
        for (const auto& row : b.rows) {
          std::vector<std::string> cells;
          for (const std::string& c : row) cells.push_back(MarkdownCell(c));
          absl::StrAppend(&out, "| ", absl::StrJoin(cells, " | "), " |\n");
        }
        absl::StrAppend(&out, "\n");
        break;
      }
    }
  }
  return out;
}

std::string ResultsHtml(const ResultsHeading& heading, const SurveyResults& results) {
  std::string out = absl::StrCat(
      "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>",
      HtmlEscape(absl::StrCat("Survey results: ", heading.survey)),
      "</title>\n<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}"
      "table{border-collapse:collapse;margin-bottom:1.5em}th,td{border:1px solid #ccc;padding:.3em .6em;"
      "text-align:left}td{font-variant-numeric:tabular-nums}th{background:#f3f3f3}</style>\n</head>\n<body>\n");
  for (const Block& b : Layout(heading, results)) {
    switch (b.kind) {
      case Block::kTitle:
        absl::StrAppend(&out, "<h1>", HtmlEscape(b.text), "</h1>\n");
        break;
      case Block::kHeading:
        absl::StrAppend(&out, "<h2>", HtmlEscape(b.text), "</h2>\n");
        break;
      case Block::kParagraph:
        absl::StrAppend(&out, "<p>", HtmlEscape(b.text), "</p>\n");
        break;
      case Block::kTable:
        absl::StrAppend(&out, "<table>\n<tr>");
        for (const std::string& h : b.header) absl::StrAppend(&out, "<th>", HtmlEscape(h), "</th>");
        absl::StrAppend(&out, "</tr>\n");
        for (const auto& row : b.rows) {
          absl::StrAppend(&out, "<tr>");
          for (const std::string& c : row) absl::StrAppend(&out, "<td>", HtmlEscape(c), "</td>");
          absl::StrAppend(&out, "</tr>\n");
        }
        absl::StrAppend(&out, "</table>\n");
        break;
    }
  }
  absl::StrAppend(&out, "</body>\n</html>\n");
  return out;
}

}  // namespace dreamshot::survey
