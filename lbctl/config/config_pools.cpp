// The sections about servers: load_balancers, old_pool, new_pool, provider.

#include <fmt/format.h>
#include <unordered_map>

#include "core/names.hpp"
#include "lbctl/config/config_sections.hpp"
#include "lbctl/config/config_values.hpp"
#include "pools/server_options.hpp"

namespace lbctl::config_detail {

namespace {

constexpr long long k_max_pool_size = 10000;

ServerEntry read_server(Reader& reader, const Value& value) {
  const Section section(reader, value);
  section.allow({"name", "address"});
  ServerEntry server;
  server.name = name(reader, section.require("name", "the server's name, as HAProxy knows it"));
  const Value address = section.require("address", "HOST:PORT");
  server.address = text(reader, address);
  std::string problem;
  if (!is_valid_address(server.address, &problem)) reader.fail(address, fmt::format("{} {}", show_value(server.address), problem));
  return server;
}

}  // namespace

std::filesystem::path resolve(const std::filesystem::path& folder, const std::string& path) {
  const std::filesystem::path written(path);
  if (written.is_absolute()) return written.lexically_normal();
  return (folder / written).lexically_normal();
}

std::vector<ServerEntry> read_servers(Reader& reader, const Value& value) {
  const std::vector<Value> items = list(reader, value);
  if (items.empty()) reader.fail(value, "no servers; expected at least one {name, address}");
  std::vector<ServerEntry> result;
  std::unordered_map<std::string, std::size_t> first_of;  // name -> its item
  for (std::size_t at = 0; at < items.size(); ++at) {
    const Value& item = items[at];
    ServerEntry server = read_server(reader, item);
    if (const auto [it, fresh] = first_of.emplace(server.name, at); !fresh) {
      reader.fail_at(item.key + ".name", fmt::format("{} is already the name of {}; server names must be unique",
                                                     show_value(server.name), items[it->second].key));
    }
    result.push_back(std::move(server));
  }
  return result;
}

OldPoolConfig read_old_pool(Reader& reader, const Value& value) {
  const Section section(reader, value);
  section.allow({"discover", "servers", "exclude"});
  OldPoolConfig pool;
  const auto discover = section.get("discover");
  const auto servers = section.get("servers");
  pool.discover = discover ? boolean(reader, *discover) : !servers;
  if (auto exclude = section.get("exclude")) {
    if (!pool.discover) reader.fail(*exclude, "only with discover: true (a servers list already names the old pool)");
    for (const auto& item : list(reader, *exclude)) {
      const std::string pattern = text(reader, item);
      std::string names = pattern;
      std::erase_if(names, [](char c) { return c == '*' || c == '?'; });
      if (pattern.empty() || pattern.size() > k_max_name_length || !is_valid_name_chars(names)) {
        reader.fail(item, fmt::format("expected a server name or a glob of one (letters, digits, '.', '_', '-', "
                                      "'*', '?'; at most {} characters), got {}",
                                      k_max_name_length, show_value(pattern)));
      }
      pool.exclude.push_back(pattern);
    }
  }
  if (pool.discover && servers) {
    reader.fail(*servers, "cannot be given with discover: true; expected either discover: true or a servers list");
  }
  if (!pool.discover) {
    if (!servers) section.missing("servers", "a list of {name, address} when discover is false");
    pool.servers = read_servers(reader, *servers);
  }
  return pool;
}

namespace {

// A name's characters, and {release} anywhere in it.
std::string name_prefix(Reader& reader, const Value& value) {
  if (!value.node.IsScalar()) {
    reader.fail(value, fmt::format("expected a name prefix (characters from [A-Za-z0-9._-], and {{release}}), got {}",
                                   describe(value.node)));
  }
  const std::string prefix = value.node.Scalar();
  const std::string bare = expand_release(prefix, "");
  if (!is_valid_name_chars(bare) || bare.find('{') != std::string::npos || (bare.empty() && prefix.empty()) ||
      prefix.starts_with('-')) {
    reader.fail(value, fmt::format("{} is not a valid name prefix; expected characters from [A-Za-z0-9._-], {}and "
                                   "{{release}} where the release goes",
                                   show_value(prefix), prefix.starts_with('-') ? "not starting with '-', " : ""));
  }
  return prefix;
}

}  // namespace

NewPoolConfig read_new_pool(Reader& reader, const Value& value) {
  const Section section(reader, value);
  section.allow({"count", "name_prefix", "server_options", "cookie"});
  NewPoolConfig pool;
  if (auto count = section.get("count")) {
    const std::string expected = fmt::format("match_old or a positive integer (at most {})", k_max_pool_size);
    if (!count->node.IsScalar()) reader.fail(*count, fmt::format("expected {}, got {}", expected, describe(count->node)));
    const std::string written = count->node.Scalar();
    if (written != "match_old") {
      const bool digits = !written.empty() && written.size() <= 6 &&
                          written.find_first_not_of("0123456789") == std::string::npos;
      const long long n = digits ? std::stoll(written) : 0;
      if (n < 1 || n > k_max_pool_size) reader.fail(*count, fmt::format("expected {}, got {}", expected, show_value(written)));
      pool.count = static_cast<int>(n);
    }
  }
  if (auto prefix = section.get("name_prefix")) pool.name_prefix = name_prefix(reader, *prefix);
  // The largest name lbctl may make must still be a valid name (a release
  // counted as one character here; the names are checked again once it is
  // known).
  const long long largest = pool.count ? *pool.count : k_max_pool_size;
  const std::string longest = fmt::format("{}{}", expand_release(pool.name_prefix, "r"), largest);
  if (longest.size() > k_max_name_length) {
    reader.fail_at(section.child_key("name_prefix"),
                   fmt::format("is too long: the new server {} would have {} characters; expected a prefix that "
                               "leaves room for the index within {} characters",
                               show_value(longest), longest.size(), k_max_name_length));
  }
  if (auto options = section.get("server_options")) {
    pool.server_options = text(reader, *options);
  }
  std::string problem;
  // It also insists on `check`: lbctl waits for HAProxy's own L7OK before sending traffic.
  const auto parsed = pools::parse_server_options(pool.server_options, &problem);
  if (!parsed) reader.fail_at(section.child_key("server_options"), problem);
  if (auto cookie = section.get("cookie")) {
    pool.cookie = text(reader, *cookie);
    // Every new server needs a cookie of its own: a user holding one is
    // sent to the server that has it.
    const std::string largest_cookie = cookie_of(pool.cookie, longest);
    if (pool.cookie.find("{name}") == std::string::npos || !pools::is_cookie_value(cookie_of(pool.cookie, "x"))) {
      reader.fail(*cookie, fmt::format("{} is not a cookie rule; expected {{name}} (each new server's name) with "
                                       "characters from [A-Za-z0-9._-] around it, e.g. \"{{name}}\"",
                                       show_value(pool.cookie)));
    }
    if (!pools::is_cookie_value(largest_cookie)) {
      reader.fail(*cookie, fmt::format("makes cookies too long: the new server {} would get {} ({} characters); "
                                       "a cookie has at most 64",
                                       show_value(longest), show_value(largest_cookie), largest_cookie.size()));
    }
  }
  return pool;
}

ProviderConfig read_provider(Reader& reader, const Value& value, const std::filesystem::path& folder) {
  const Section section(reader, value);
  ProviderConfig provider;
  const Value type = section.require("type", "local, exec or static");
  const std::string type_name = text(reader, type);
  const auto type_of = parse_provider_type(type_name);
  if (!type_of) reader.fail(type, fmt::format("{} is not a provider type; expected local, exec or static", show_value(type_name)));
  provider.type = *type_of;
  // The placeholders each command is given (pools/provider_exec.cpp).
  auto per_server_argv = [&](std::string_view key, std::vector<std::string>& into) {
    if (auto v = section.get(key)) into = argv(reader, *v, {"service", "name", "address", "host", "port", "release", "old_release"});
  };
  auto service_argv = [&](std::string_view key, std::vector<std::string>& into) {
    if (auto v = section.get(key)) into = argv(reader, *v, {"service", "release", "old_release"});
  };
  auto exec_commands = [&] {
    per_server_argv("terminate", provider.terminate);
    per_server_argv("remove_health_file", provider.remove_health_file);
    per_server_argv("restore_health_file", provider.restore_health_file);
    service_argv("freeze_scaling", provider.freeze_scaling);
    service_argv("unfreeze_scaling", provider.unfreeze_scaling);
    if (auto timeout = section.get("timeout")) provider.timeout = duration(reader, *timeout, false);
  };
  if (provider.type == ProviderConfig::Type::local) {
    section.allow({"type", "command", "host", "ports", "base_dir", "health_file", "start_timeout", "stop_grace"},
                  "a local provider");
    if (auto host = section.get("host")) {
      provider.host = nonempty_text(reader, *host);
      std::string problem;
      // An IP address (a name could resolve to several): HOST:1 must be a valid address.
      if (!is_valid_address(provider.host + ":1", &problem) || provider.host.find_first_not_of("0123456789.:[]abcdefABCDEF") != std::string::npos) {
        reader.fail(*host, fmt::format("{} is not an IP address (IPv6 in brackets); expected the address new servers "
                                       "listen on, e.g. 10.0.0.5",
                                       show_value(provider.host)));
      }
    }
    provider.command = argv(reader, section.require("command", "the server's argv, with {port}, {dir}, {name}"),
                            {"port", "dir", "name", "host", "release", "old_release"});
    const Value ports = section.require("ports", "a port range \"A-B\" for new servers");
    std::string problem;
    const auto range = parse_port_range(text(reader, ports), &problem);
    if (!range) reader.fail(ports, fmt::format("{} {}", show_value(ports.node.Scalar()), problem));
    provider.port_min = range->min;
    provider.port_max = range->max;
    provider.base_dir = resolve(folder, nonempty_text(reader, section.require("base_dir", "the servers' folder")));
    if (auto file = section.get("health_file")) {
      provider.health_file = text(reader, *file);
      if (!is_plain_file_name(provider.health_file)) {
        reader.fail(*file, fmt::format("{} is not a plain file name; expected 1-64 characters from "
                                       "[A-Za-z0-9._-], no folder",
                                       show_value(provider.health_file)));
      }
    }
    if (auto v = section.get("start_timeout")) provider.start_timeout = duration(reader, *v, false);
    if (auto v = section.get("stop_grace")) provider.stop_grace = duration(reader, *v, true);
  } else if (provider.type == ProviderConfig::Type::exec) {
    section.allow({"type", "clone", "terminate", "remove_health_file", "restore_health_file", "freeze_scaling",
                   "unfreeze_scaling", "timeout"},
                  "an exec provider");
    provider.clone = argv(reader, section.require("clone", "the argv that creates new servers"),
                          {"service", "template", "template_address", "name", "count", "names", "release",
                           "old_release"});
    if (!section.has("terminate")) section.missing("terminate", "the argv that terminates a server");
    exec_commands();
  } else {
    section.allow({"type", "servers", "terminate", "remove_health_file", "restore_health_file", "freeze_scaling",
                   "unfreeze_scaling", "timeout"},
                  "a static provider");
    provider.servers = read_servers(reader, section.require("servers", "the new servers, a list of {name, address}"));
    exec_commands();
  }
  return provider;
}

}  // namespace lbctl::config_detail
