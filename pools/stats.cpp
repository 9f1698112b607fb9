#include "pools/stats.hpp"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>
#include <unordered_map>

#include "pools/answer.hpp"

namespace lbctl::pools {

namespace {

// Splits one CSV line; HAProxy quotes a field that holds a comma or a quote.
void split_csv(std::string_view line, std::vector<std::string_view>& fields, std::string& scratch) {
  fields.clear();
  scratch.clear();
  std::size_t pos = 0;
  while (pos <= line.size()) {
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

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    pos = nl + 1;
  }
  return lines;
}

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

Result<std::vector<ServerStat>> parse_show_stat(std::string_view text, std::string_view backend) {
  if (auto error = answer_error(text)) return fail(ErrorKind::refused, *error);
  const auto lines = split_lines(text);
  std::unordered_map<std::string_view, std::size_t> column;
  std::vector<std::string_view> fields;
  std::string scratch;
  scratch.reserve(text.size());
  std::vector<ServerStat> servers;
  bool have_header = false;
  std::size_t c_pxname = 0, c_svname = 0, c_status = 0, c_type = 0;
  for (const auto line : lines) {
    if (line.empty()) continue;
    if (starts_with(line, "# ")) {
      split_csv(line.substr(2), fields, scratch);
      column.clear();
      for (std::size_t i = 0; i < fields.size(); ++i) column.emplace(fields[i], i);
      for (const char* needed : {"pxname", "svname", "status", "type", "scur", "qcur"}) {
        if (!column.contains(needed)) {
          return fail(ErrorKind::invalid, fmt::format("show stat: the header has no '{}' column", needed));
        }
      }
      c_pxname = column["pxname"];
      c_svname = column["svname"];
      c_status = column["status"];
      c_type = column["type"];
      have_header = true;
      continue;
    }
    if (!have_header) {
      return fail(ErrorKind::invalid, fmt::format("show stat: unexpected answer '{}'", line.substr(0, 120)));
    }
    split_csv(line, fields, scratch);
    auto field = [&](std::string_view name) -> std::string_view {
      const auto it = column.find(name);
      if (it == column.end() || it->second >= fields.size()) return {};
      return fields[it->second];
    };
    if (fields.size() <= c_status || fields.size() <= c_type) {
      return fail(ErrorKind::invalid, fmt::format("show stat: a row has {} fields, fewer than the header", fields.size()));
    }
    if (fields[c_type] != "2" || fields[c_pxname] != backend) continue;
    ServerStat stat;
    stat.name = std::string(fields[c_svname]);
    stat.address = std::string(field("addr"));
    stat.status = std::string(fields[c_status]);
    stat.weight = to_u64(field("weight"));
    stat.scur = to_u64(field("scur"));
    stat.qcur = to_u64(field("qcur"));
    stat.srv_icur = to_u64(field("srv_icur"));
    // "* L7OK": a check is running; what follows is the last completed one,
    // which is what counts (with thousands of servers, or checks slow next
    // to `inter`, some servers are always mid-check).
    auto check = field("check_status");
    if (check.starts_with("* ")) {
      check.remove_prefix(2);
      stat.check_running = true;
    }
    stat.check_status = std::string(check);
    stat.hrsp_5xx = to_u64(field("hrsp_5xx"));
    stat.responses = to_u64(field("hrsp_1xx")) + to_u64(field("hrsp_2xx")) + to_u64(field("hrsp_3xx")) +
                     to_u64(field("hrsp_4xx")) + stat.hrsp_5xx + to_u64(field("hrsp_other"));
    stat.stot = to_u64(field("stot"));
    stat.eresp = to_u64(field("eresp"));
    stat.econ = to_u64(field("econ"));
    stat.wretr = to_u64(field("wretr"));
    stat.rtime = to_u64(field("rtime"));
    stat.ttime = to_u64(field("ttime"));
    stat.id = to_u64(field("sid"));
    stat.backup = field("bck") == "1";
    servers.push_back(std::move(stat));
  }
  if (!have_header) return fail(ErrorKind::invalid, "show stat: no header line in the answer");
  return servers;
}

Result<std::string> parse_backend_algo(std::string_view text, std::string_view backend) {
  if (auto error = answer_error(text)) return fail(ErrorKind::refused, *error);
  std::vector<std::string_view> fields;
  std::string scratch;
  scratch.reserve(text.size());  // split_csv's unquoted fields point into it: it must never move
  std::vector<std::string> header;
  for (const auto line : split_lines(text)) {
    if (line.empty()) continue;
    if (starts_with(line, "# ")) {
      split_csv(line.substr(2), fields, scratch);
      header.assign(fields.begin(), fields.end());
      continue;
    }
    if (header.empty()) return fail(ErrorKind::invalid, fmt::format("show stat: unexpected answer '{}'", line.substr(0, 120)));
    split_csv(line, fields, scratch);
    auto field = [&](std::string_view name) -> std::string_view {
      const auto it = std::find(header.begin(), header.end(), name);
      const auto index = static_cast<std::size_t>(it - header.begin());
      return it == header.end() || index >= fields.size() ? std::string_view() : fields[index];
    };
    if (field("pxname") == backend && field("svname") == "BACKEND") return std::string(field("algo"));
  }
  if (header.empty()) return fail(ErrorKind::invalid, "show stat: no header line in the answer");
  return std::string();
}

Result<std::vector<ServerAdmin>> parse_servers_state(std::string_view text, std::string_view backend) {
  if (auto error = answer_error(text)) return fail(ErrorKind::refused, *error);
  const auto lines = split_lines(text);
  std::unordered_map<std::string_view, std::size_t> column;
  std::vector<ServerAdmin> servers;
  bool have_header = false;
  auto split_spaces = [](std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t pos = 0;
    while (pos < line.size()) {
      while (pos < line.size() && line[pos] == ' ') ++pos;
      const std::size_t start = pos;
      while (pos < line.size() && line[pos] != ' ') ++pos;
      if (pos > start) out.push_back(line.substr(start, pos - start));
    }
    return out;
  };
  for (const auto line : lines) {
    if (line.empty()) continue;
    if (starts_with(line, "# ")) {
      const auto names = split_spaces(line.substr(2));
      column.clear();
      for (std::size_t i = 0; i < names.size(); ++i) column.emplace(names[i], i);
      for (const char* needed : {"be_name", "srv_id", "srv_name", "srv_op_state", "srv_admin_state", "srv_uweight"}) {
        if (!column.contains(needed)) {
          return fail(ErrorKind::invalid, fmt::format("show servers state: the header has no '{}' column", needed));
        }
      }
      have_header = true;
      continue;
    }
    if (!have_header) {
      if (line == "1") continue;  // the format version
      return fail(ErrorKind::invalid, fmt::format("show servers state: unexpected answer '{}'", line.substr(0, 120)));
    }
    const auto fields = split_spaces(line);
    auto field = [&](std::string_view name) -> std::string_view {
      const auto i = column.at(name);
      return i < fields.size() ? fields[i] : std::string_view{};
    };
    if (field("be_name") != backend) continue;
    ServerAdmin admin;
    admin.name = std::string(field("srv_name"));
    admin.id = to_u64(field("srv_id"));
    admin.admin_state = static_cast<unsigned>(to_u64(field("srv_admin_state")));
    admin.op_state = static_cast<unsigned>(to_u64(field("srv_op_state")));
    admin.user_weight = to_u64(field("srv_uweight"));
    servers.push_back(std::move(admin));
  }
  if (!have_header) return fail(ErrorKind::invalid, "show servers state: no header line in the answer");
  return servers;
}

}  // namespace lbctl::pools
