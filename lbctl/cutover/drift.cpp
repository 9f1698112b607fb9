#include "lbctl/cutover/drift.hpp"

#include <fmt/format.h>
#include <unordered_map>

#include "core/json_text.hpp"

namespace lbctl {

std::string admin_word(const pools::ServerAdmin& admin) {
  if ((admin.admin_state & pools::k_admin_forced_maint) != 0) return "maint";
  if ((admin.admin_state & pools::k_admin_forced_drain) != 0) return "drain";
  return "ready";
}

pools::AdminTarget admin_target(const std::string& word) {
  if (word == "maint") return pools::AdminTarget::maint;
  if (word == "drain") return pools::AdminTarget::drain;
  return pools::AdminTarget::ready;
}

RecordedBackend record_of(const pools::LoadBalancer& lb, const pools::BackendState& live) {
  RecordedBackend record;
  for (const auto& line : lb.desired_lines(live)) {
    RecordedServer server;
    server.name = line.name;
    server.address = line.address;
    server.id = line.id;
    server.weight = line.weight;
    server.options = line.options;
    if (const auto* admin = live.admin_of(line.name)) server.admin = admin_word(*admin);
    record.servers.push_back(std::move(server));
  }
  return record;
}

namespace {

// `"key":`, after a comma unless it opens the object; then its value, a
// string or a number.
void append_key(std::string& out, std::string_view key) {
  out += out.back() == '{' ? "\"" : ",\"";
  out += key;
  out += "\":";
}
void append_field(std::string& out, std::string_view key, std::string_view text) {
  append_key(out, key);
  append_json_string(out, text);
}
void append_field(std::string& out, std::string_view key, std::uint64_t number) {
  append_key(out, key);
  out += std::to_string(number);
}

// One server of a record as nlohmann::json(RecordedServer).dump() writes it
// (its keys in order).
void append_server(std::string& out, std::string_view address, std::string_view admin, std::uint64_t id,
                   std::string_view name, std::string_view options, unsigned weight) {
  out += '{';
  append_field(out, "address", address);
  append_field(out, "admin", admin);
  append_field(out, "id", id);
  append_field(out, "name", name);
  append_field(out, "options", options);
  append_field(out, "weight", std::uint64_t{weight});
  out += '}';
}

}  // namespace

std::string record_json(const RecordedBackend& record) {
  // Written directly: the same document as nlohmann::json(record).dump(),
  // without a tree of 100,000 nodes for a backend of 20,000 servers.
  std::string out = fmt::format(R"({{"format":{},"servers":[)", record.format);
  out.reserve(out.size() + record.servers.size() * 120);
  for (std::size_t i = 0; i < record.servers.size(); ++i) {
    const auto& s = record.servers[i];
    if (i > 0) out.push_back(',');
    append_server(out, s.address, s.admin, s.id, s.name, s.options, s.weight);
  }
  out += "]}";
  return out;
}

db::LbRecord to_journal(const pools::LoadBalancer& lb, const pools::BackendState& live, std::int64_t cutover_id) {
  db::LbRecord record;
  record.lb = lb.name();
  record.backend = lb.backend();
  // record_json(record_of(lb, live)), without a RecordedServer per server.
  const auto lines = lb.desired_lines(live);
  std::string json = fmt::format(R"({{"format":{},"servers":[)", RecordedBackend{}.format);
  json.reserve(json.size() + lines.size() * 120);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto& line = lines[i];
    const auto* admin = live.admin_of(line.name);
    if (i > 0) json.push_back(',');
    append_server(json, line.address, admin ? admin_word(*admin) : RecordedServer{}.admin, line.id, line.name,
                  line.options, line.weight);
  }
  json += "]}";
  record.state_json = std::move(json);
  record.cutover_id = cutover_id;
  return record;
}

std::optional<RecordedBackend> from_journal(const db::LbRecord& record) {
  const auto json = nlohmann::json::parse(record.state_json, nullptr, false);
  if (!json.is_object() || json.value("format", 0) != 1) return std::nullopt;
  try {
    return json.get<RecordedBackend>();
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

namespace {

Drift item(const std::string& lb, const std::string& server, std::string kind, std::string recorded, std::string live,
           std::string text) {
  return Drift{lb, server, std::move(kind), std::move(recorded), std::move(live), fmt::format("{}: {}", lb, text)};
}

}  // namespace

std::vector<Drift> drift_from_record(const std::string& lb, const RecordedBackend& recorded,
                                     const pools::BackendState& live) {
  std::vector<Drift> drift;
  std::unordered_map<std::string, const RecordedServer*> by_name;
  for (const auto& server : recorded.servers) {
    by_name.emplace(server.name, &server);
    const auto* stat = live.stat(server.name);
    const auto* admin = live.admin_of(server.name);
    if (stat == nullptr || admin == nullptr) {
      drift.push_back(item(lb, server.name, "missing", server.address, "",
                           fmt::format("{} is missing (lbctl left it at {}, {})", server.name, server.address,
                                       server.admin)));
      continue;
    }
    if (stat->address != server.address) {
      drift.push_back(item(lb, server.name, "address", server.address, stat->address,
                           fmt::format("{} is at {}, lbctl left it at {}", server.name, stat->address, server.address)));
    }
    if (const auto state = admin_word(*admin); state != server.admin) {
      drift.push_back(item(lb, server.name, "state", server.admin, state,
                           fmt::format("{} is {}, lbctl left it {}", server.name, state, server.admin)));
    }
    if (admin->user_weight != server.weight) {
      drift.push_back(item(lb, server.name, "weight", std::to_string(server.weight), std::to_string(admin->user_weight),
                           fmt::format("{} has weight {}, lbctl left it {}", server.name, admin->user_weight,
                                       server.weight)));
    }
  }
  for (const auto& stat : live.stats) {
    if (by_name.contains(stat.name)) continue;
    drift.push_back(item(lb, stat.name, "extra", "", stat.address,
                         fmt::format("{} ({}, {}) is one too many: lbctl did not leave it there", stat.name,
                                     stat.address, stat.status)));
  }
  return drift;
}

std::vector<Drift> drift_from_file(const std::string& lb, const std::string& file, const pools::CfgBackend& backend,
                                   const pools::BackendState& live) {
  std::vector<Drift> drift;
  std::unordered_map<std::string, bool> in_file;
  for (const auto& line : backend.servers) {
    in_file.emplace(line.name, true);
    const auto* admin = live.admin_of(line.name);
    if (admin == nullptr) {
      drift.push_back(item(lb, line.name, "file", line.text, "",
                           fmt::format("{} says {} (line {}), which the LB does not have", file, line.name, line.line)));
      continue;
    }
    const bool maint = (admin->admin_state & pools::k_admin_forced_maint) != 0;
    if (maint != line.disabled) {
      drift.push_back(item(lb, line.name, "file", line.disabled ? "disabled" : "enabled", maint ? "maint" : "ready",
                           fmt::format("{} says {} is {} (line {}), the LB has it {}", file, line.name,
                                       line.disabled ? "disabled" : "enabled", line.line, maint ? "in MAINT" : "ready")));
    }
    if (line.effective_weight() != admin->user_weight) {
      drift.push_back(item(lb, line.name, "file", std::to_string(line.effective_weight()),
                           std::to_string(admin->user_weight),
                           fmt::format("{} gives {} weight {} (line {}), the LB {}", file, line.name,
                                       line.effective_weight(), line.line, admin->user_weight)));
    }
  }
  for (const auto& stat : live.stats) {
    if (in_file.contains(stat.name)) continue;
    drift.push_back(item(lb, stat.name, "file", "", stat.address,
                         fmt::format("{} is on the LB but not in {}: a reload would drop it", stat.name, file)));
  }
  return drift;
}

}  // namespace lbctl
