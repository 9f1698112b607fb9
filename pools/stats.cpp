#include "pools/stats.hpp"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>
#include <optional>
#include <unordered_map>

#include "pools/answer.hpp"

namespace lbctl::pools {

namespace {

// Splits one CSV line; HAProxy quotes a field that holds a comma or a quote.
// At most `max_fields` fields are split off the front: the columns after
// the last one read are never looked at.
void split_csv(std::string_view line, std::vector<std::string_view>& fields, std::string& scratch,
               std::size_t max_fields = static_cast<std::size_t>(-1)) {
  fields.clear();
  scratch.clear();
  if (max_fields == 0) return;
  // Nearly every row holds no quote: one pass over its bytes, not a search per field.
  if (line.find('"') == std::string_view::npos) {
    const char* const end = line.data() + line.size();
    const char* field = line.data();
    for (const char* c = field;; ++c) {
      if (c != end && *c != ',') continue;
      fields.emplace_back(field, static_cast<std::size_t>(c - field));
      if (c == end || fields.size() == max_fields) return;
      field = c + 1;
    }
  }
  std::size_t pos = 0;
  while (pos <= line.size() && fields.size() < max_fields) {
    if (pos < line.size() && line[pos] == '"') {
      // Quoted: unescape "" into scratch, which is reserved so views stay valid.
      const std::size_t start = scratch.size();
      ++pos;
      while (pos < line.size()) {
        if (line[pos] == '"') {
          if (pos + 1 < line.size() && line[pos + 1] == '"') {
            scratch.push_back('"');
            pos += 2;
            continue;
          }
          ++pos;
          break;
        }
        scratch.push_back(line[pos++]);
      }
      fields.emplace_back(scratch.data() + start, scratch.size() - start);
      if (pos < line.size() && line[pos] == ',') ++pos;
      else break;
      continue;
    }
    const std::size_t comma = line.find(',', pos);
    if (comma == std::string_view::npos) {
      fields.push_back(line.substr(pos));
      break;
    }
    fields.push_back(line.substr(pos, comma - pos));
    pos = comma + 1;
  }
}

std::uint64_t to_u64(std::string_view text) {
  std::uint64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

}  // namespace

std::unordered_map<std::string_view, const ServerStat*> index_by_name(const std::vector<ServerStat>& stats) {
  std::unordered_map<std::string_view, const ServerStat*> index;
  index.reserve(stats.size());
  for (const auto& s : stats) index.emplace(s.name, &s);
  return index;
}

std::string not_yet(const std::vector<ServerStat>& stats, const std::vector<std::string>& names,
                    const std::function<bool(const ServerStat&)>& done) {
  std::vector<std::string> missing;
  const auto by_name = index_by_name(stats);
  for (const auto& name : names) {
    const auto it = by_name.find(name);
    if (it == by_name.end()) {
      missing.push_back(name + " (absent)");
    } else if (!done(*it->second)) {
      const auto& s = *it->second;
      missing.push_back(fmt::format("{} ({}{}{})", name, s.status, s.check_status.empty() ? "" : ", check ", s.check_status));
    }
  }
  return fmt::format("{}", fmt::join(missing, ", "));
}

bool ServerStat::is_up() const { return starts_with(status, "UP") || status == "no check"; }
bool ServerStat::is_fully_up() const { return status == "UP" || status == "no check"; }
bool ServerStat::is_nolb() const { return starts_with(status, "NOLB"); }
bool ServerStat::is_drain() const { return starts_with(status, "DRAIN"); }
bool ServerStat::is_maint() const { return starts_with(status, "MAINT"); }
bool ServerStat::is_down() const { return starts_with(status, "DOWN"); }
bool ServerStat::check_passed() const {
  return check_status == "L7OK" || check_status == "L6OK" || check_status == "L4OK";
}

namespace {

constexpr std::size_t k_absent = static_cast<std::size_t>(-1);

// The columns parse_show_stat reads, found once per header line: a row is
// then split only up to the last of them, and each field is an index away.
struct StatColumns {
  enum Name : std::size_t {
    pxname, svname, status, type, scur, qcur,  // required
    addr, weight, srv_icur, check_status, hrsp_1xx, hrsp_2xx, hrsp_3xx, hrsp_4xx, hrsp_5xx, hrsp_other,
    stot, eresp, econ, wretr, rtime, ttime, sid, bck, lastsess, cookie, count
  };
  static constexpr std::size_t k_required = 6;
  static constexpr std::string_view k_names[count] = {
      "pxname",   "svname",   "status",   "type",     "scur",     "qcur",       "addr",  "weight",
      "srv_icur", "check_status", "hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other",
      "stot",     "eresp",    "econ",     "wretr",    "rtime",    "ttime",      "sid",   "bck",
      "lastsess", "cookie"};

  std::size_t at[count];
  std::size_t last = 0;  // the highest index of any column read

  // Empty when every required column is there; otherwise the first one missing.
  std::string_view find(const std::vector<std::string_view>& header) {
    std::fill(std::begin(at), std::end(at), k_absent);
    last = 0;
    for (std::size_t i = 0; i < header.size(); ++i) {
      for (std::size_t c = 0; c < count; ++c) {
        if (at[c] == k_absent && header[i] == k_names[c]) {
          at[c] = i;
          last = std::max(last, i);
          break;
        }
      }
    }
    for (std::size_t c = 0; c < k_required; ++c) {
      if (at[c] == k_absent) return k_names[c];
    }
    return {};
  }
};

// Calls `row` with each line of `text` (without its "\r\n"), skipping empty ones.
template <class Row>
bool for_each_row(std::string_view text, Row&& row) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = nl + 1;
    if (!line.empty() && !row(line)) return false;
  }
  return true;
}

}  // namespace

Result<std::vector<ServerStat>> parse_show_stat(std::string_view text, std::string_view backend) {
  if (auto error = answer_error(text)) return fail(ErrorKind::refused, *error);
  StatColumns columns;
  std::vector<std::string_view> fields;
  std::string scratch;
  scratch.reserve(text.size());  // split_csv's unquoted fields point into it: it must never move
  std::vector<ServerStat> servers;
  servers.reserve(text.size() / 200);  // a row is longer than that: only capacity, never touched
  bool have_header = false;
  std::optional<Error> error;
  for_each_row(text, [&](std::string_view line) {
    if (starts_with(line, "# ")) {
      split_csv(line.substr(2), fields, scratch);
      if (const auto missing = columns.find(fields); !missing.empty()) {
        error = Error{ErrorKind::invalid, fmt::format("show stat: the header has no '{}' column", missing)};
        return false;
      }
      have_header = true;
      return true;
    }
    if (!have_header) {
      error = Error{ErrorKind::invalid, fmt::format("show stat: unexpected answer '{}'", line.substr(0, 120))};
      return false;
    }
    split_csv(line, fields, scratch, columns.last + 1);
    const auto& at = columns.at;
    auto field = [&](StatColumns::Name name) -> std::string_view {
      const auto i = at[name];
      return i < fields.size() ? fields[i] : std::string_view{};
    };
    if (fields.size() <= at[StatColumns::status] || fields.size() <= at[StatColumns::type]) {
      error = Error{ErrorKind::invalid, fmt::format("show stat: a row has {} fields, fewer than the header", fields.size())};
      return false;
    }
    if (fields[at[StatColumns::type]] != "2" || field(StatColumns::pxname) != backend) return true;
    auto number = [&](StatColumns::Name name) { return to_u64(field(name)); };
    ServerStat& stat = servers.emplace_back();
    stat.name = std::string(field(StatColumns::svname));
    stat.address = std::string(field(StatColumns::addr));
    stat.status = std::string(field(StatColumns::status));
    stat.weight = number(StatColumns::weight);
    stat.scur = number(StatColumns::scur);
    stat.qcur = number(StatColumns::qcur);
    stat.srv_icur = number(StatColumns::srv_icur);
    // "* L7OK": a check is running; what follows is the last completed one,
    // which is what counts (with thousands of servers, or checks slow next
    // to `inter`, some servers are always mid-check).
    auto check = field(StatColumns::check_status);
    if (check.starts_with("* ")) {
      check.remove_prefix(2);
      stat.check_running = true;
    }
    stat.check_status = std::string(check);
    stat.hrsp_5xx = number(StatColumns::hrsp_5xx);
    stat.responses = number(StatColumns::hrsp_1xx) + number(StatColumns::hrsp_2xx) + number(StatColumns::hrsp_3xx) +
                     number(StatColumns::hrsp_4xx) + stat.hrsp_5xx + number(StatColumns::hrsp_other);
    stat.stot = number(StatColumns::stot);
    stat.eresp = number(StatColumns::eresp);
    stat.econ = number(StatColumns::econ);
    stat.wretr = number(StatColumns::wretr);
    stat.rtime = number(StatColumns::rtime);
    stat.ttime = number(StatColumns::ttime);
    stat.id = number(StatColumns::sid);
    stat.backup = field(StatColumns::bck) == "1";
    // "-1" (or absent): no session ever went to it.
    if (const auto last = field(StatColumns::lastsess); !last.empty() && last.front() != '-') {
      stat.last_session_s = static_cast<std::int64_t>(to_u64(last));
    }
    stat.cookie = std::string(field(StatColumns::cookie));
    return true;
  });
  if (error) return fail(error->kind, error->message);
  if (!have_header) return fail(ErrorKind::invalid, "show stat: no header line in the answer");
  return servers;
}

Result<BackendRow> parse_backend_row(std::string_view text, std::string_view backend) {
  if (auto error = answer_error(text)) return fail(ErrorKind::refused, *error);
  std::vector<std::string_view> fields;
  std::string scratch;
  scratch.reserve(text.size());  // split_csv's unquoted fields point into it: it must never move
  std::vector<std::string> header;
  std::optional<Result<BackendRow>> answer;
  for_each_row(text, [&](std::string_view line) {
    if (starts_with(line, "# ")) {
      split_csv(line.substr(2), fields, scratch);
      header.assign(fields.begin(), fields.end());
      return true;
    }
    if (header.empty()) {
      answer = fail(ErrorKind::invalid, fmt::format("show stat: unexpected answer '{}'", line.substr(0, 120)));
      return false;
    }
    split_csv(line, fields, scratch);
    auto field = [&](std::string_view name) -> std::string_view {
      const auto it = std::find(header.begin(), header.end(), name);
      const auto index = static_cast<std::size_t>(it - header.begin());
      return it == header.end() || index >= fields.size() ? std::string_view() : fields[index];
    };
    if (field("pxname") == backend && field("svname") == "BACKEND") {
      answer = BackendRow{std::string(field("algo")), std::string(field("cookie"))};
      return false;
    }
    return true;
  });
  if (answer) return *answer;
  if (header.empty()) return fail(ErrorKind::invalid, "show stat: no header line in the answer");
  return BackendRow{};
}

std::vector<std::pair<std::string, std::uint64_t>> parse_table_list(std::string_view text) {
  std::vector<std::pair<std::string, std::uint64_t>> tables;
  for_each_row(text, [&](std::string_view line) {
    constexpr std::string_view k_head = "# table: ";
    if (!starts_with(line, k_head)) return true;
    line.remove_prefix(k_head.size());
    const auto comma = line.find(',');
    std::string name(line.substr(0, comma));
    std::uint64_t used = 0;
    if (const auto at = line.find("used:"); at != std::string_view::npos) used = to_u64(line.substr(at + 5));
    tables.emplace_back(std::move(name), used);
    return true;
  });
  return tables;
}

Result<std::unordered_map<std::uint64_t, std::uint64_t>> parse_stick_entries(std::string_view text) {
  if (auto error = answer_error(text)) return fail(ErrorKind::refused, *error);
  if (starts_with(text, "No such table")) return fail(ErrorKind::refused, "No such table");
  std::unordered_map<std::uint64_t, std::uint64_t> entries;
  for_each_row(text, [&](std::string_view line) {
    if (starts_with(line, "#")) return true;
    constexpr std::string_view k_field = " server_id=";
    const auto at = line.find(k_field);
    if (at == std::string_view::npos) return true;
    const auto value = line.substr(at + k_field.size());
    std::uint64_t id = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), id);
    if (ec == std::errc() && end != value.data()) ++entries[id];
    return true;
  });
  return entries;
}

Result<std::vector<ServerAdmin>> parse_servers_state(std::string_view text, std::string_view backend) {
  if (auto error = answer_error(text)) return fail(ErrorKind::refused, *error);
  enum Column : std::size_t {
    be_name, srv_id, srv_name, srv_op_state, srv_admin_state, srv_uweight, required,  // then the optional ones
    srv_addr = required, srv_port, count
  };
  static constexpr std::string_view k_names[count] = {"be_name",         "srv_id",      "srv_name", "srv_op_state",
                                                      "srv_admin_state", "srv_uweight", "srv_addr", "srv_port"};
  std::size_t at[count];
  std::vector<ServerAdmin> servers;
  std::vector<std::string_view> fields;
  bool have_header = false;
  auto split_spaces = [&fields](std::string_view line) {
    fields.clear();
    std::size_t pos = 0;
    while (pos < line.size()) {
      while (pos < line.size() && line[pos] == ' ') ++pos;
      const std::size_t start = pos;
      while (pos < line.size() && line[pos] != ' ') ++pos;
      if (pos > start) fields.push_back(line.substr(start, pos - start));
    }
  };
  std::optional<Error> error;
  for_each_row(text, [&](std::string_view line) {
    if (starts_with(line, "# ")) {
      split_spaces(line.substr(2));
      std::fill(std::begin(at), std::end(at), k_absent);
      for (std::size_t i = 0; i < fields.size(); ++i) {
        for (std::size_t c = 0; c < count; ++c) {
          if (at[c] == k_absent && fields[i] == k_names[c]) at[c] = i;
        }
      }
      for (std::size_t c = 0; c < required; ++c) {
        if (at[c] == k_absent) {
          error = Error{ErrorKind::invalid, fmt::format("show servers state: the header has no '{}' column", k_names[c])};
          return false;
        }
      }
      have_header = true;
      return true;
    }
    if (!have_header) {
      if (line == "1") return true;  // the format version
      error = Error{ErrorKind::invalid, fmt::format("show servers state: unexpected answer '{}'", line.substr(0, 120))};
      return false;
    }
    split_spaces(line);
    auto field = [&](Column name) -> std::string_view { return at[name] < fields.size() ? fields[at[name]] : std::string_view{}; };
    if (field(be_name) != backend) return true;
    ServerAdmin& admin = servers.emplace_back();
    admin.name = std::string(field(srv_name));
    admin.id = to_u64(field(srv_id));
    admin.admin_state = static_cast<unsigned>(to_u64(field(srv_admin_state)));
    admin.op_state = static_cast<unsigned>(to_u64(field(srv_op_state)));
    admin.user_weight = to_u64(field(srv_uweight));
    const auto addr = field(srv_addr);
    const auto port = field(srv_port);
    if (!addr.empty() && addr != "-" && !port.empty()) {
      const bool v6 = addr.find(':') != std::string_view::npos;
      admin.address.reserve(addr.size() + port.size() + 3);
      if (v6) admin.address += '[';
      admin.address += addr;
      if (v6) admin.address += ']';
      admin.address += ':';
      admin.address += port;
    }
    return true;
  });
  if (error) return fail(error->kind, error->message);
  if (!have_header) return fail(ErrorKind::invalid, "show servers state: no header line in the answer");
  return servers;
}

}  // namespace lbctl::pools
