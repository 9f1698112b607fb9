// find_backend: the sections of a haproxy.cfg, the one lbctl manages, and
// what `default-server` says for its servers.

#include "pools/haproxy_cfg.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <unordered_map>

#include "pools/haproxy_cfg_text.hpp"

namespace lbctl::pools {

namespace {

using haproxy_text::line_error;
using haproxy_text::TextLine;
using haproxy_text::Words;

constexpr auto k_section_keywords = std::to_array<std::string_view>(
    {"global", "defaults", "frontend", "backend", "listen", "userlist", "peers", "resolvers", "mailers", "program",
     "http-errors", "ring", "cache", "log-forward", "fcgi-app"});

struct Section {
  std::string keyword;
  std::string name;
  std::string from;       // `from NAME` on the header, "" when absent
  std::size_t first = 0;  // 0-based index of the header line
  std::size_t last = 0;   // 0-based index of the section's last line
};

struct Defaults {
  unsigned weight = 1;
  bool disabled = false;
  std::string hash_type;  // `hash-type`'s method ("map-based", "consistent"); "" when none says
  CfgPersistence persistence;  // what a defaults section may say of it: cookie, dynamic-cookie-key, option persist
};

std::string_view trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// Reads the persistence keywords a section (or, with `in_defaults`, a
// defaults section) may hold into `out`. `line` is the line as written.
void note_persistence(const Words& words, std::string_view line, std::string_view section, bool in_defaults,
                      CfgPersistence& out) {
  const auto& w = words.words;
  if (w.empty()) return;
  const std::string& keyword = w[0].value;
  if (keyword == "cookie" && w.size() >= 2) {
    out.cookie.clear();
    out.cookie_dynamic = false;
    for (std::size_t i = 1; i < w.size(); ++i) {
      out.cookie += (i > 1 ? " " : "") + w[i].value;
      if (w[i].value == "dynamic") out.cookie_dynamic = true;
    }
  } else if (keyword == "dynamic-cookie-key") {
    out.dynamic_cookie_key = w.size() >= 2;
  } else if ((keyword == "option" || (keyword == "no" && w.size() >= 3 && w[1].value == "option")) &&
             w.back().value == "persist") {
    out.option_persist = keyword == "option";
  } else if (in_defaults) {
    return;
  } else if (keyword == "force-persist") {
    out.force_persist = true;
  } else if (keyword == "stick-table" || (keyword == "stick" && w.size() >= 2)) {
    out.stick.emplace_back(trimmed(line.substr(0, words.stop)));
    std::string table = keyword == "stick-table" ? std::string(section) : std::string();
    for (std::size_t i = 1; keyword == "stick" && i + 1 < w.size(); ++i) {
      if (w[i].value == "table") table = w[i + 1].value;
    }
    if (keyword == "stick" && table.empty()) return;  // the section's own, named when its stick-table is seen
    if (std::find(out.stick_tables.begin(), out.stick_tables.end(), table) == out.stick_tables.end()) {
      out.stick_tables.push_back(std::move(table));
    }
  }
}

// `hash-type METHOD [FUNCTION]`: the method, when `words` is that line.
std::optional<std::string> hash_type_of(const Words& words) {
  if (words.words.size() < 2 || words.words[0].value != "hash-type") return std::nullopt;
  return words.words[1].value;
}

bool is_section_keyword(std::string_view word) {
  return std::find(k_section_keywords.begin(), k_section_keywords.end(), word) != k_section_keywords.end();
}

// A line's first word as split_words cuts it, without cutting the rest:
// nullopt when the word holds a quote or a backslash (then only the whole
// line can say what it is).
std::optional<std::string_view> plain_first_word(std::string_view line) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f'; };
  std::size_t begin = 0;
  while (begin < line.size() && blank(line[begin])) ++begin;
  std::size_t end = begin;
  for (; end < line.size() && !blank(line[end]) && line[end] != '#' && line[end] != '\r'; ++end) {
    if (line[end] == '"' || line[end] == '\'' || line[end] == '\\') return std::nullopt;
  }
  return line.substr(begin, end - begin);
}

std::vector<Section> find_sections(const std::vector<TextLine>& lines) {
  std::vector<Section> sections;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    // Nearly every line starts with a word that opens no section: it is not cut further.
    if (const auto first = plain_first_word(lines[i].content); first && !is_section_keyword(*first)) continue;
    const Words words = haproxy_text::split_words(lines[i].content);
    if (words.words.empty()) continue;
    const auto& keyword = words.words[0].value;
    if (!is_section_keyword(keyword)) continue;
    if (!sections.empty()) sections.back().last = i - 1;
    Section section{keyword, "", "", i, lines.size() - 1};
    // `defaults [NAME] [from OTHER]`, `backend NAME [from DEFAULTS]`.
    std::size_t at = 1;
    if (at < words.words.size() && !(keyword == "defaults" && words.words[at].value == "from")) {
      section.name = words.words[at++].value;
    }
    if (at + 1 < words.words.size() && words.words[at].value == "from") section.from = words.words[at + 1].value;
    sections.push_back(std::move(section));
  }
  return sections;
}

bool is_proxy_named(const Section& section, std::string_view name) {
  return (section.keyword == "backend" || section.keyword == "listen") && section.name == name;
}

Result<const Section*> find_proxy(const std::vector<Section>& sections, std::string_view name) {
  const Section* found = nullptr;
  for (const auto& section : sections) {
    if (!is_proxy_named(section, name)) continue;
    if (found) {
      return std::unexpected(line_error(section.first + 1, fmt::format("a second `{} {}` (the first is on line {})",
                                                                       section.keyword, name, found->first + 1)));
    }
    found = &section;
  }
  if (!found) {
    return fail(ErrorKind::invalid, fmt::format("no `backend {0}` or `listen {0}` section", name));
  }
  return found;
}

// Applies one `default-server` line to what the lines below it inherit.
Result<void> apply_default_server(const Words& words, std::size_t line_no, Defaults& defaults) {
  auto params = haproxy_text::scan_params(words, 1, line_no);
  if (!params) return std::unexpected(params.error());
  if (params->weight) defaults.weight = *params->weight;
  if (params->disabled) defaults.disabled = *params->disabled;
  return {};
}

// The defaults section that section `at` starts from: `from NAME` when
// given, else the last defaults section above it. A defaults section without
// `from` starts afresh (nullopt).
Result<std::optional<std::size_t>> parent_of(const std::vector<Section>& sections, std::size_t at) {
  const Section& section = sections[at];
  for (std::size_t i = at; i-- > 0;) {
    if (sections[i].keyword != "defaults") continue;
    if (section.from.empty() ? section.keyword != "defaults" : sections[i].name == section.from) return i;
  }
  if (!section.from.empty()) {
    return std::unexpected(line_error(
        section.first + 1, fmt::format("`from {}`: no defaults section of that name above it", section.from)));
  }
  return std::nullopt;
}

// What section `at` inherits, applying the `default-server` lines of its
// chain of defaults sections from the oldest (a loop, not recursion: the
// chain is as long as the file makes it).
Result<Defaults> inherited(const std::vector<Section>& sections, const std::vector<TextLine>& lines, std::size_t at) {
  std::vector<std::size_t> chain;
  for (auto parent = parent_of(sections, at);; parent = parent_of(sections, chain.back())) {
    if (!parent) return std::unexpected(parent.error());
    if (!*parent) break;
    chain.push_back(**parent);
  }
  Defaults defaults;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    for (std::size_t i = sections[*it].first + 1; i <= sections[*it].last; ++i) {
      const Words words = haproxy_text::split_words(lines[i].content);
      if (auto method = hash_type_of(words)) defaults.hash_type = *method;
      note_persistence(words, lines[i].content, sections[*it].name, true, defaults.persistence);
      if (words.words.empty() || words.words[0].value != "default-server") continue;
      if (auto applied = apply_default_server(words, i + 1, defaults); !applied) {
        return std::unexpected(applied.error());
      }
    }
  }
  return defaults;
}

// The reasons lbctl will not rewrite a backend, for one line of it.
std::optional<Error> refuse_line(const Words& words, std::size_t line_no, std::string_view backend) {
  const std::string& keyword = words.words[0].value;
  if (words.open_quote) return line_error(line_no, "a quote is not closed");
  if (keyword == ".if" || keyword == ".elif" || keyword == ".else" || keyword == ".endif") {
    return line_error(line_no, fmt::format("`{}` in backend `{}`: lbctl cannot tell which of its lines HAProxy "
                                           "reads, so it does not rewrite it",
                                           keyword, backend));
  }
  if (keyword == "server-template") {
    return line_error(line_no, fmt::format("`server-template` in backend `{}`: lbctl cannot write back the servers "
                                           "a template makes",
                                           backend));
  }
  if (keyword == "server" && words.words.size() < 3) return line_error(line_no, "`server` needs a name and an address");
  return std::nullopt;
}

Result<CfgServerLine> read_server_line(const TextLine& line, const Words& words, std::size_t line_no,
                                       const Defaults& defaults) {
  auto params = haproxy_text::scan_params(words, 3, line_no);
  if (!params) return std::unexpected(params.error());
  CfgServerLine server;
  server.name = words.words[1].value;
  server.address = words.words[2].value;
  server.line = line_no;
  server.text = std::string(line.content);
  server.weight = params->weight;
  server.disabled = params->disabled.value_or(defaults.disabled);
  server.id = params->id;
  server.default_weight = defaults.weight;
  server.default_disabled = defaults.disabled;
  return server;
}

Result<void> read_section(const std::vector<TextLine>& lines, const Section& section, Defaults defaults,
                          CfgBackend& backend) {
  std::unordered_map<std::string, std::size_t> seen;  // server name -> line
  for (std::size_t i = section.first + 1; i <= section.last; ++i) {
    const Words words = haproxy_text::split_words(lines[i].content);
    if (words.words.empty()) continue;
    if (auto refused = refuse_line(words, i + 1, section.name)) return std::unexpected(*refused);
    const std::string& keyword = words.words[0].value;
    if (keyword == "default-server") {
      if (auto applied = apply_default_server(words, i + 1, defaults); !applied) return applied;
      continue;
    }
    if (auto method = hash_type_of(words)) defaults.hash_type = *method;
    note_persistence(words, lines[i].content, section.name, false, defaults.persistence);
    if (keyword != "server") continue;
    auto server = read_server_line(lines[i], words, i + 1, defaults);
    if (!server) return std::unexpected(server.error());
    const auto [it, fresh] = seen.emplace(server->name, i + 1);
    if (!fresh) {
      return std::unexpected(
          line_error(i + 1, fmt::format("server `{}` again (the first is on line {})", server->name, it->second)));
    }
    backend.servers.push_back(std::move(*server));
  }
  backend.default_weight = defaults.weight;
  backend.default_disabled = defaults.disabled;
  backend.hash_type = defaults.hash_type;
  backend.persistence = std::move(defaults.persistence);
  return {};
}

}  // namespace

Result<CfgBackend> find_backend(std::string_view text, std::string_view backend) {
  if (const auto nul = haproxy_text::line_of_nul(text)) return std::unexpected(line_error(nul, "a NUL byte"));
  const auto lines = haproxy_text::split_lines(text);
  const auto sections = find_sections(lines);
  auto found = find_proxy(sections, backend);
  if (!found) return std::unexpected(found.error());
  const Section& section = **found;
  auto defaults = inherited(sections, lines, static_cast<std::size_t>(&section - sections.data()));
  if (!defaults) return std::unexpected(defaults.error());
  CfgBackend result;
  result.kind = section.keyword;
  result.name = section.name;
  result.header_line = section.first + 1;
  result.last_line = section.last + 1;
  if (auto read = read_section(lines, section, *defaults, result); !read) return std::unexpected(read.error());
  return result;
}

}  // namespace lbctl::pools
