// The load_balancers section: each HAProxy's runtime API, its master CLI,
// the backend lbctl manages there, and where that backend's configuration
// lives so that runtime changes survive a reload.

#include <fmt/format.h>
#include <sys/un.h>

#include "lbctl/config/config_sections.hpp"
#include "lbctl/config/config_values.hpp"
#include "pools/placeholders.hpp"

namespace lbctl {

bool PersistConfig::carries_any_file() const {
  return !remote() || (pools::uses_placeholder(read, "file") && pools::uses_placeholder(write, "file"));
}

namespace config_detail {

namespace {

RuntimeApiAddress read_socket_address(Reader& reader, const Value& value, const std::filesystem::path& folder) {
  const std::string written = text(reader, value);
  std::string problem;
  auto address = parse_runtime_api(written, &problem);
  if (!address) reader.fail(value, fmt::format("{} {}", show_value(written), problem));
  if (address->kind == RuntimeApiAddress::Kind::unix_socket) {
    address->path = resolve(folder, address->path).string();
    // sockaddr_un holds the path and its terminating NUL.
    constexpr std::size_t k_max_path = sizeof(sockaddr_un{}.sun_path) - 1;
    if (address->path.size() > k_max_path) {
      reader.fail(value, fmt::format("the socket path is {} bytes once resolved ({}), more than the {} a unix "
                                     "socket allows",
                                     address->path.size(), show_value(address->path), k_max_path));
    }
  }
  return *address;
}

PersistConfig read_persist(Reader& reader, const Value& value, const std::filesystem::path& folder) {
  const Section section(reader, value);
  section.allow({"file", "read", "write", "check", "timeout"});
  PersistConfig persist;
  const auto read = section.get("read");
  const auto write = section.get("write");
  if (read) persist.read = argv(reader, *read, {"file"});
  if (write) persist.write = argv(reader, *write, {"file"});
  if (read && !write) section.missing("write", "the command that takes the new file on stdin, with read");
  if (write && !read) section.missing("read", "the command that prints the file, with write");
  if (auto file = section.get("file")) {
    const std::string path = nonempty_text(reader, *file);
    // A local file is anchored like every other path; a remote one is the LB host's own path.
    persist.file = persist.remote() ? std::filesystem::path(path) : resolve(folder, path);
  } else if (!persist.remote()) {
    section.missing("file", "the haproxy.cfg holding the backend (or read and write, for an LB on another host)");
  }
  if (persist.file.empty()) {
    for (const auto* command : {&read, &write}) {
      if (*command && pools::uses_placeholder(command == &read ? persist.read : persist.write, "file")) {
        reader.fail(**command, "uses {file}, but persist.file (the file's path on the LB's host) is not given");
      }
    }
  }
  if (auto check = section.get("check")) persist.check = argv(reader, *check, {"file"});
  if (auto timeout = section.get("timeout")) persist.timeout = duration(reader, *timeout, false);
  return persist;
}

LoadBalancerConfig read_load_balancer(Reader& reader, const Value& item, const std::filesystem::path& folder) {
  const Section section(reader, item);
  section.allow({"name", "runtime_api", "master_api", "backend", "timeout", "unreachable_timeout", "persist"});
  LoadBalancerConfig lb;
  lb.name = name(reader, section.require("name", "a name for this load balancer"));
  lb.runtime_api = read_socket_address(reader, section.require("runtime_api", "unix:PATH or tcp:HOST:PORT"), folder);
  if (auto master = section.get("master_api")) lb.master_api = read_socket_address(reader, *master, folder);
  lb.backend = name(reader, section.require("backend", "the HAProxy backend that holds the servers"));
  if (auto timeout = section.get("timeout")) lb.timeout = duration(reader, *timeout, false);
  if (auto timeout = section.get("unreachable_timeout")) lb.unreachable_timeout = duration(reader, *timeout, true);
  if (auto persist = section.get("persist")) lb.persist = read_persist(reader, *persist, folder);
  return lb;
}

}  // namespace

std::vector<LoadBalancerConfig> read_load_balancers(Reader& reader, const Value& value,
                                                    const std::filesystem::path& folder) {
  const std::vector<Value> items = list(reader, value);
  if (items.empty()) reader.fail(value, "no load balancers; expected at least one {name, runtime_api, backend}");
  std::vector<LoadBalancerConfig> result;
  for (const Value& item : items) {
    LoadBalancerConfig lb = read_load_balancer(reader, item, folder);
    const Section section(reader, item);
    for (std::size_t i = 0; i < result.size(); ++i) {
      if (result[i].name == lb.name) {
        reader.fail(*section.get("name"), fmt::format("{} is already the name of {}; every load balancer needs its "
                                                      "own name",
                                                      show_value(lb.name), items[i].key));
      }
      if (result[i].runtime_api.to_string() == lb.runtime_api.to_string() && result[i].backend == lb.backend) {
        reader.fail(*section.get("runtime_api"), fmt::format("{} has the same runtime_api and backend; each entry "
                                                             "must be a different load balancer",
                                                             items[i].key));
      }
    }
    result.push_back(std::move(lb));
  }
  return result;
}

}  // namespace config_detail
}  // namespace lbctl
