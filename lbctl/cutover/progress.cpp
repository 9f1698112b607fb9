#include "lbctl/cutover/progress.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace lbctl {

bool CutoverProgress::migrations_pending() const {
  return std::any_of(migrations.begin(), migrations.end(), [](const auto& phase) { return !phase.second.empty(); });
}

std::vector<pools::Server> CutoverProgress::old_servers() const {
  std::vector<pools::Server> servers;
  for (const auto& s : old_pool) servers.push_back({s.name, s.address});
  return servers;
}

std::vector<pools::Server> CutoverProgress::cloned() const {
  std::vector<pools::Server> servers;
  for (const auto& s : new_pool) {
    if (!s.address.empty()) servers.push_back({s.name, s.address});
  }
  return servers;
}

std::vector<std::string> CutoverProgress::old_names() const {
  std::vector<std::string> names;
  for (const auto& s : old_pool) names.push_back(s.name);
  return names;
}

std::vector<std::string> CutoverProgress::new_names() const {
  std::vector<std::string> names;
  for (const auto& s : new_pool) names.push_back(s.name);
  return names;
}

const SnapshotServer* LbSnapshot::find(const std::string& server) const {
  const auto it = std::find_if(servers.begin(), servers.end(), [&](const SnapshotServer& s) { return s.name == server; });
  return it == servers.end() ? nullptr : &*it;
}

std::vector<LbSnapshot> read_lb_snapshot(const std::string& text) {
  const auto json = nlohmann::json::parse(text.empty() ? "[]" : text, nullptr, false);
  if (!json.is_array()) return {};
  try {
    return json.get<std::vector<LbSnapshot>>();
  } catch (const nlohmann::json::exception&) {
    return {};
  }
}

namespace {

// Format 1 (lbctl 0.1): the same facts, the pools under "old" and "new".
void upgrade_from_format_1(nlohmann::json& record) {
  if (record.contains("old") && !record.contains("old_pool")) record["old_pool"] = record["old"];
  if (record.contains("new") && !record.contains("new_pool")) record["new_pool"] = record["new"];
  record.erase("old");
  record.erase("new");
  record["format"] = 2;
}

// Format 2 did not say whose health files were removed: a drain that had
// started removed them all.
void upgrade_from_format_2(nlohmann::json& record) {
  if (record.value("drain_started", false) && !record.contains("health_files_removed")) {
    auto& removed = record["health_files_removed"] = nlohmann::json::array();
    for (const auto& server : record.value("old_pool", nlohmann::json::array())) {
      if (server.is_object() && server.contains("name")) removed.push_back(server["name"]);
    }
  }
  record["format"] = CutoverProgress::k_format;
}

}  // namespace

Result<CutoverProgress> read_progress(const std::string& text) {
  auto record = nlohmann::json::parse(text.empty() ? "{}" : text, nullptr, false);
  if (!record.is_object()) return fail(ErrorKind::invalid, "the journaled progress is not a JSON object");
  const int format = record.value("format", 1);
  if (format > CutoverProgress::k_format) {
    return fail(ErrorKind::invalid, fmt::format("the journaled progress is format {}, written by a newer lbctl (this "
                                                "one reads up to {}): resume it with that lbctl",
                                                format, CutoverProgress::k_format));
  }
  if (format < 2) upgrade_from_format_1(record);
  if (format < 3) upgrade_from_format_2(record);
  try {
    return record.get<CutoverProgress>();
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorKind::invalid, std::string("the journaled progress cannot be read: ") + e.what());
  }
}

std::string write_progress(const CutoverProgress& progress) { return nlohmann::json(progress).dump(); }

}  // namespace lbctl
