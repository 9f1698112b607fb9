#include "pools/clone_output.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <map>
#include <nlohmann/json.hpp>

#include "core/names.hpp"

namespace lbctl::pools {

using nlohmann::json;

std::string quote_for_message(std::string_view text, std::size_t max) {
  const bool cut = text.size() > max;
  if (cut) text = text.substr(0, max);
  // Replacing invalid UTF-8 keeps dump() from throwing on a cut character.
  std::string quoted = json(std::string(text)).dump(-1, ' ', false, json::error_handler_t::replace);
  if (cut) quoted += "...";
  return quoted;
}

namespace {

bool blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

Result<Server> parse_line(std::string_view line) {
  json object;
  try {
    object = json::parse(line);
  } catch (const json::exception&) {
    return fail(ErrorKind::invalid, fmt::format("not JSON: {}", quote_for_message(line)));
  }
  if (!object.is_object()) {
    return fail(ErrorKind::invalid, fmt::format("expected an object like {{\"name\": \"v2-1\", \"address\": "
                                                "\"10.0.0.21:8080\"}}, got {}",
                                                quote_for_message(line)));
  }
  const auto name = object.find("name");
  if (name == object.end() || !name->is_string()) return fail(ErrorKind::invalid, "no \"name\" string");
  const auto address = object.find("address");
  if (address == object.end() || !address->is_string()) {
    return fail(ErrorKind::invalid, fmt::format("no \"address\" string for {}", quote_for_message(name->get<std::string>())));
  }
  Server server{name->get<std::string>(), address->get<std::string>()};
  if (!is_valid_name(server.name)) {
    return fail(ErrorKind::invalid,
                fmt::format("name {} is not valid; expected 1-64 of [A-Za-z0-9._-]", quote_for_message(server.name)));
  }
  if (!parse_address(server.address)) {
    return fail(ErrorKind::invalid, fmt::format("address {} of {} is not HOST:PORT", quote_for_message(server.address),
                                                server.name));
  }
  return server;
}

}  // namespace

Result<std::vector<Server>> parse_clone_output(std::string_view out, const std::vector<std::string>& wanted) {
  std::map<std::string, std::string> found;
  std::size_t line_number = 0;
  while (!out.empty()) {
    const auto newline = out.find('\n');
    const std::string_view line = out.substr(0, newline);
    out = newline == std::string_view::npos ? std::string_view{} : out.substr(newline + 1);
    ++line_number;
    if (blank(line)) continue;
    auto server = parse_line(line);
    if (!server) return std::unexpected(server.error().with_context(fmt::format("line {}", line_number)));
    if (std::find(wanted.begin(), wanted.end(), server->name) == wanted.end()) {
      return fail(ErrorKind::invalid, fmt::format("line {}: {} was not asked for", line_number, server->name));
    }
    const auto [it, inserted] = found.emplace(server->name, server->address);
    if (!inserted && it->second != server->address) {
      return fail(ErrorKind::invalid, fmt::format("line {}: {} given twice, at {} and {}", line_number, server->name,
                                                  it->second, server->address));
    }
  }
  std::vector<Server> servers;
  std::vector<std::string> missing;
  for (const auto& name : wanted) {
    const auto it = found.find(name);
    if (it == found.end()) {
      missing.push_back(name);
    } else {
      servers.push_back(Server{name, it->second});
    }
  }
  if (!missing.empty()) {
    return fail(ErrorKind::invalid, fmt::format("no line for {} (expected one JSON object per server and line: "
                                                "{{\"name\": \"{}\", \"address\": \"HOST:PORT\"}})",
                                                fmt::join(missing, ", "), missing.front()));
  }
  return servers;
}

}  // namespace lbctl::pools
