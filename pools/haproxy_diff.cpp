// line_diff: what `lbctl plan` shows of a file lbctl would rewrite.

#include <algorithm>
#include <cstdint>
#include <fmt/format.h>

#include "pools/haproxy_cfg.hpp"
#include "pools/haproxy_cfg_text.hpp"

namespace lbctl::pools {

namespace {

using haproxy_text::TextLine;

constexpr std::size_t k_context = 3;
// Cells of the longest-common-subsequence table (4 bytes each). Past it the
// changed middle shows as all removed, then all added: still a correct diff.
constexpr std::size_t k_max_cells = 4'000'000;

struct Step {
  char op = ' ';      // ' ' same, '-' removed, '+' added
  std::size_t a = 0;  // lines of `before` above this step
  std::size_t b = 0;  // lines of `after` above this step
  const TextLine* line = nullptr;
};

// A line end counts: a file that loses its final newline shows it.
bool same_line(const TextLine& x, const TextLine& y) { return x.content == y.content && x.eol == y.eol; }

void all_replaced(const std::vector<TextLine>& a, const std::vector<TextLine>& b, std::size_t a0, std::size_t a1,
                  std::size_t b0, std::size_t b1, std::vector<Step>& steps) {
  for (std::size_t i = a0; i < a1; ++i) steps.push_back({'-', i, b0, &a[i]});
  for (std::size_t j = b0; j < b1; ++j) steps.push_back({'+', a1, j, &b[j]});
}

// Steps for a[a0,a1) against b[b0,b1), removals before additions in each change.
void diff_middle(const std::vector<TextLine>& a, const std::vector<TextLine>& b, std::size_t a0, std::size_t a1,
                 std::size_t b0, std::size_t b1, std::vector<Step>& steps) {
  const std::size_t n = a1 - a0, m = b1 - b0;
  if (n != 0 && (m + 1) > k_max_cells / (n + 1)) return all_replaced(a, b, a0, a1, b0, b1, steps);
  std::vector<std::uint32_t> table((n + 1) * (m + 1), 0);
  const auto cell = [&](std::size_t i, std::size_t j) -> std::uint32_t& { return table[i * (m + 1) + j]; };
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t j = m; j-- > 0;) {
      cell(i, j) = same_line(a[a0 + i], b[b0 + j]) ? cell(i + 1, j + 1) + 1 : std::max(cell(i + 1, j), cell(i, j + 1));
    }
  }
  std::size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && same_line(a[a0 + i], b[b0 + j])) {
      steps.push_back({' ', a0 + i, b0 + j, &a[a0 + i]});
      ++i, ++j;
    } else if (i < n && (j == m || cell(i + 1, j) >= cell(i, j + 1))) {
      steps.push_back({'-', a0 + i, b0 + j, &a[a0 + i]});
      ++i;
    } else {
      steps.push_back({'+', a0 + i, b0 + j, &b[b0 + j]});
      ++j;
    }
  }
}

std::vector<Step> diff_steps(const std::vector<TextLine>& a, const std::vector<TextLine>& b) {
  // lbctl changes one section, so the common head and tail are most of the file.
  std::size_t head = 0;
  while (head < a.size() && head < b.size() && same_line(a[head], b[head])) ++head;
  std::size_t tail = 0;
  while (tail < a.size() - head && tail < b.size() - head &&
         same_line(a[a.size() - 1 - tail], b[b.size() - 1 - tail])) {
    ++tail;
  }
  std::vector<Step> steps;
  for (std::size_t i = 0; i < head; ++i) steps.push_back({' ', i, i, &a[i]});
  diff_middle(a, b, head, a.size() - tail, head, b.size() - tail, steps);
  for (std::size_t k = tail; k-- > 0;) {
    steps.push_back({' ', a.size() - 1 - k, b.size() - 1 - k, &a[a.size() - 1 - k]});
  }
  return steps;
}

// "3,2"; "3" for one line; for none, the line above and ",0", as GNU diff does.
std::string range(std::size_t above, std::size_t count) {
  if (count == 1) return std::to_string(above + 1);
  if (count == 0) return fmt::format("{},0", above);
  return fmt::format("{},{}", above + 1, count);
}

// A line as plan shows it: the secrets a haproxy.cfg may hold (the
// `dynamic-cookie-key`, `stats auth`'s password, a userlist's `user ...
// password`) are replaced by "(redacted)", the words before them kept.
std::string shown(std::string_view content) {
  const auto words = haproxy_text::split_words(content);
  const auto& w = words.words;
  if (w.empty()) return std::string(content);
  std::size_t keep = 0;  // words kept before the redaction; 0: none redacted
  if (w[0].value == "dynamic-cookie-key") keep = 1;
  if (w[0].value == "stats" && w.size() > 1 && w[1].value == "auth") keep = 2;
  if (w[0].value == "user") {
    for (std::size_t i = 1; i < w.size(); ++i) {
      if (w[i].value == "password" || w[i].value == "insecure-password") keep = i + 1;
    }
  }
  if (keep == 0 || keep >= w.size()) return std::string(content);
  return std::string(content.substr(0, w[keep - 1].end)) + " (redacted)";
}

void write_hunk(const std::vector<Step>& steps, std::size_t begin, std::size_t end, std::string& out) {
  std::size_t a_count = 0, b_count = 0;
  for (std::size_t k = begin; k < end; ++k) {
    if (steps[k].op != '+') ++a_count;
    if (steps[k].op != '-') ++b_count;
  }
  out += fmt::format("@@ -{} +{} @@\n", range(steps[begin].a, a_count), range(steps[begin].b, b_count));
  for (std::size_t k = begin; k < end; ++k) {
    out += steps[k].op;
    out += shown(steps[k].line->content);
    out += '\n';
    if (!steps[k].line->has_newline()) out += "\\ No newline at end of file\n";
  }
}

std::size_t next_change(const std::vector<Step>& steps, std::size_t from) {
  while (from < steps.size() && steps[from].op == ' ') ++from;
  return from;
}

}  // namespace

std::string line_diff(std::string_view before, std::string_view after, std::string_view label) {
  if (before == after) return {};
  const auto a = haproxy_text::split_lines(before);
  const auto b = haproxy_text::split_lines(after);
  const auto steps = diff_steps(a, b);
  std::string out = fmt::format("--- {}\n+++ {}\n", label, label);
  std::size_t done = 0;
  for (std::size_t change = next_change(steps, 0); change < steps.size();) {
    const std::size_t begin = std::max(done, change >= k_context ? change - k_context : 0);
    std::size_t end = change;
    // Changes closer than twice the context share a hunk.
    while (true) {
      while (end < steps.size() && steps[end].op != ' ') ++end;
      const std::size_t next = next_change(steps, end);
      if (next >= steps.size() || next - end > 2 * k_context) break;
      end = next;
    }
    end = std::min(steps.size(), end + k_context);
    write_hunk(steps, begin, end, out);
    done = end;
    change = next_change(steps, end);
  }
  return out;
}

}  // namespace lbctl::pools
