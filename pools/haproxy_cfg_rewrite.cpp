// rewrite_backend_servers: the smallest change to haproxy.cfg that makes a
// backend's server lines say what the live LB holds.

#include <algorithm>
#include <fmt/format.h>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "pools/haproxy_cfg.hpp"
#include "pools/haproxy_cfg_text.hpp"

namespace lbctl::pools {

namespace {

using haproxy_text::TextLine;
using haproxy_text::Words;

constexpr std::string_view k_default_indent = "    ";

// A change to one line, in offsets of the line as written.
struct Edit {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string text;
};

// Where new lines go and what they inherit there.
struct Layout {
  std::size_t anchor = 0;  // 0-based line new lines follow
  std::string indent;
  unsigned default_weight = 1;
  bool default_disabled = false;
};

// A line the plan writes, and the server it must read back as.
struct Written {
  const CfgServerLine* was = nullptr;  // the line it replaces; null for an added line
  const DesiredServer* want = nullptr;
};

struct Plan {
  std::vector<std::optional<std::string>> replaced;  // by 0-based line
  std::vector<bool> removed;
  std::size_t anchor = 0;
  std::vector<std::string> added;
  Layout layout;                 // what added lines inherit
  std::vector<Written> edited;   // each replaced line, in the order of `replaced`
  std::vector<Written> fresh;    // each added line, in the order of `added`

  bool changes_nothing() const {
    return added.empty() && std::none_of(removed.begin(), removed.end(), [](bool r) { return r; }) &&
           std::none_of(replaced.begin(), replaced.end(), [](const auto& r) { return r.has_value(); });
  }
};

std::string apply_edits(std::string_view line, std::vector<Edit> edits) {
  // An insertion at p sorts before a removal that starts at p, so a word
  // appended after the last kept word survives the removal of the next one.
  std::sort(edits.begin(), edits.end(),
            [](const Edit& a, const Edit& b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
  std::string out;
  std::size_t cursor = 0;
  for (const auto& edit : edits) {
    out += line.substr(cursor, edit.begin - cursor);
    out += edit.text;
    cursor = edit.end;
  }
  out += line.substr(cursor);
  return out;
}

// The new text of an existing server line, or nullopt when it already says
// `want`. Only `weight` and `disabled`/`enabled` change; added words go after
// the last word, before any blanks and trailing comment.
Result<std::optional<std::string>> edit_server_line(const CfgServerLine& line, const DesiredServer& want) {
  const Words words = haproxy_text::split_words(line.text);
  auto params = haproxy_text::scan_params(words, 3, line.line);
  if (!params) return std::unexpected(params.error());
  const auto& list = words.words;
  std::vector<Edit> edits;
  std::string appended;
  if (line.effective_weight() != want.weight) {
    if (params->weight_word) {
      const auto& value = list[*params->weight_word];
      edits.push_back({value.begin, value.end, std::to_string(want.weight)});
    } else {
      appended += fmt::format(" weight {}", want.weight);
    }
  }
  std::vector<bool> removed(list.size(), false);
  if (line.disabled != want.maint) {
    // Every `disabled`/`enabled` goes with the blanks before it; what is
    // left is the default-server's word, added back only when it is wrong.
    for (const std::size_t i : params->state_words) {
      removed[i] = true;
      edits.push_back({list[i - 1].end, list[i].end, ""});
    }
    if (line.default_disabled != want.maint) appended += want.maint ? " disabled" : " enabled";
  }
  if (!appended.empty()) {
    std::size_t last = list.size() - 1;
    while (removed[last]) --last;  // stops at the address at the latest
    edits.push_back({list[last].end, list[last].end, std::move(appended)});
  }
  if (edits.empty()) return std::nullopt;
  return apply_edits(line.text, std::move(edits));
}

// One word HAProxy reads back as written: no blanks, quotes, escapes,
// comments or control bytes.
bool is_plain_word(std::string_view word) {
  return !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte > 0x20 && byte != 0x7f && c != '#' && c != '"' && c != '\'' && c != '\\';
  });
}

Result<std::string> new_server_line(const DesiredServer& want, const Layout& layout) {
  if (!is_plain_word(want.name) || !is_plain_word(want.address)) {
    return fail(ErrorKind::invalid, fmt::format("server `{}` at `{}`: a name and an address are written as one word "
                                                "each, without blanks, quotes, '\\' or '#'",
                                                want.name, want.address));
  }
  const auto first = want.options.find_first_not_of(" \t");
  const auto last = want.options.find_last_not_of(" \t");
  const std::string_view options =
      first == std::string::npos ? std::string_view() : std::string_view(want.options).substr(first, last - first + 1);
  if (options.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
    return fail(ErrorKind::invalid, fmt::format("server `{}`: its options must be one line", want.name));
  }
  std::string line = fmt::format("{}server {} {}", layout.indent, want.name, want.address);
  if (want.id != 0) line += fmt::format(" id {}", want.id);
  if (!options.empty()) line += fmt::format(" {}", options);
  if (want.weight != layout.default_weight) line += fmt::format(" weight {}", want.weight);
  if (want.maint)
    line += " disabled";
  else if (layout.default_disabled)
    line += " enabled";
  return line;
}

std::string_view leading_blanks(std::string_view line) {
  const auto end = line.find_first_not_of(" \t");
  return line.substr(0, end == std::string_view::npos ? line.size() : end);
}

Layout layout_of(const CfgBackend& backend, const std::vector<TextLine>& lines) {
  Layout layout;
  if (!backend.servers.empty()) {
    const auto& last = backend.servers.back();
    // A default-server below the last server line does not reach lines
    // written right after it, so they inherit what that line inherits.
    return Layout{last.line - 1, std::string(leading_blanks(last.text)), last.default_weight, last.default_disabled};
  }
  layout.anchor = backend.header_line - 1;
  layout.default_weight = backend.default_weight;
  layout.default_disabled = backend.default_disabled;
  std::optional<std::string_view> indent;
  for (std::size_t i = backend.header_line; i < backend.last_line; ++i) {
    // Comments and blanks at the end of a section usually introduce the next one.
    if (haproxy_text::split_words(lines[i].content).words.empty()) continue;
    layout.anchor = i;
    const auto blanks = leading_blanks(lines[i].content);
    if (!indent && !blanks.empty()) indent = blanks;
  }
  layout.indent = std::string(indent.value_or(k_default_indent));
  return layout;
}

Result<Plan> plan_changes(const CfgBackend& backend, const std::vector<TextLine>& lines,
                          const std::vector<DesiredServer>& servers) {
  std::unordered_map<std::string_view, const DesiredServer*> wanted;
  for (const auto& server : servers) {
    if (!wanted.emplace(server.name, &server).second) {
      return fail(ErrorKind::invalid, fmt::format("server `{}` is listed twice", server.name));
    }
  }
  Plan plan;
  plan.replaced.resize(lines.size());
  plan.removed.assign(lines.size(), false);
  std::unordered_set<std::string_view> present;
  for (const auto& line : backend.servers) {
    present.insert(line.name);
    const auto it = wanted.find(line.name);
    if (it == wanted.end()) {
      plan.removed[line.line - 1] = true;
      continue;
    }
    // Most lines already say what is wanted: only the others are cut into words.
    if (line.effective_weight() == it->second->weight && line.disabled == it->second->maint) continue;
    auto edited = edit_server_line(line, *it->second);
    if (!edited) return std::unexpected(edited.error());
    if (!*edited) continue;
    plan.replaced[line.line - 1] = std::move(*edited);
    plan.edited.push_back({&line, it->second});
  }
  plan.layout = layout_of(backend, lines);
  plan.anchor = plan.layout.anchor;
  for (const auto& server : servers) {
    if (present.contains(server.name)) continue;
    auto line = new_server_line(server, plan.layout);
    if (!line) return std::unexpected(line.error());
    plan.added.push_back(std::move(*line));
    plan.fresh.push_back({nullptr, &server});
  }
  return plan;
}

std::string write_plan(const std::vector<TextLine>& lines, const Plan& plan) {
  const std::string_view eol = haproxy_text::dominant_eol(lines);
  haproxy_text::LineWriter writer(eol);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (!plan.removed[i]) writer.write(plan.replaced[i] ? *plan.replaced[i] : lines[i].content, lines[i].eol);
    if (i != plan.anchor) continue;
    for (const auto& added : plan.added) writer.write(added, eol);
  }
  return std::move(writer).finish(lines);
}

// Reads each line the plan writes back as HAProxy would and checks it says
// what was asked: the only way options that hold `weight`, `disabled` or a
// '#' can slip through. Lines the plan keeps were read from the file already
// and said it; a server line changes nothing for the lines around it (only
// `default-server` does, and lbctl never writes one), so the written lines
// are all there is to read again.
Result<void> verify_line(std::string_view text, const Written& written, const Layout& layout) {
  const auto& want = *written.want;
  const Words words = haproxy_text::split_words(text);
  const auto& list = words.words;
  bool same = !words.open_quote && list.size() >= 3 && list[0].value == "server" && list[1].value == want.name;
  if (same) {
    auto params = haproxy_text::scan_params(words, 3, 0);
    const unsigned default_weight = written.was ? written.was->default_weight : layout.default_weight;
    const bool default_disabled = written.was ? written.was->default_disabled : layout.default_disabled;
    same = params && params->weight.value_or(default_weight) == want.weight &&
           params->disabled.value_or(default_disabled) == want.maint &&
           (written.was || (list[2].value == want.address &&
                            params->id == (want.id ? std::optional(want.id) : std::nullopt)));
  }
  if (!same) {
    return fail(ErrorKind::invalid,
                fmt::format("server `{}`: the line lbctl would write does not read back as weight {}{}; do its "
                            "options hold `weight`, `disabled`, `enabled`, `id`, a quote or '#'?",
                            want.name, want.weight, want.maint ? ", disabled" : ""));
  }
  return {};
}

Result<void> verify(const Plan& plan) {
  for (const auto& written : plan.edited) {
    if (auto checked = verify_line(*plan.replaced[written.was->line - 1], written, plan.layout); !checked) return checked;
  }
  for (std::size_t i = 0; i < plan.added.size(); ++i) {
    if (auto checked = verify_line(plan.added[i], plan.fresh[i], plan.layout); !checked) return checked;
  }
  return {};
}

}  // namespace

Result<std::string> rewrite_backend_servers(std::string_view text, std::string_view backend,
                                            const std::vector<DesiredServer>& servers) {
  auto found = find_backend(text, backend);
  if (!found) return std::unexpected(found.error());
  const auto lines = haproxy_text::split_lines(text);
  auto plan = plan_changes(*found, lines, servers);
  if (!plan) return std::unexpected(plan.error());
  if (plan->changes_nothing()) return std::string(text);
  if (auto checked = verify(*plan); !checked) return std::unexpected(checked.error());
  return write_plan(lines, *plan);
}

}  // namespace lbctl::pools
