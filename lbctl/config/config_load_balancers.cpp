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

pools::SshOptions read_ssh(Reader& reader, const Value& value, const std::filesystem::path& folder) {
  const Section section(reader, value);
  section.allow({"identity_file", "known_hosts", "command", "program"});
  pools::SshOptions ssh;
  // Host keys are always checked, against a file the config names: never
  // "accept the first one seen" on a path an attacker may sit on.
  ssh.known_hosts = resolve(folder, nonempty_text(reader, section.require(
                                        "known_hosts", "the known_hosts file holding each LB host's key")));
  if (auto identity = section.get("identity_file")) ssh.identity_file = resolve(folder, nonempty_text(reader, *identity));
  if (auto command = section.get("command")) {
    ssh.command = argv(reader, *command, {"socket"});
    for (const auto& arg : ssh.command) {
      if (!is_one_line(arg)) reader.fail(*command, "holds an argument that is not one printable line");
    }
  }
  if (auto program = section.get("program")) ssh.program = nonempty_text(reader, *program);
  return ssh;
}

pools::TlsOptions read_tls(Reader& reader, const Value& value, const std::filesystem::path& folder) {
  const Section section(reader, value);
  section.allow({"ca_file", "cert_file", "key_file", "server_name"});
  pools::TlsOptions tls;
  tls.ca_file = resolve(folder, nonempty_text(reader, section.require("ca_file", "the CA that signed the LB's certificate")));
  tls.cert_file = resolve(folder, nonempty_text(reader, section.require("cert_file", "lbctl's client certificate")));
  tls.key_file = resolve(folder, nonempty_text(reader, section.require("key_file", "the client certificate's key")));
  if (auto server_name = section.get("server_name")) {
    tls.server_name = nonempty_text(reader, *server_name);
    if (!is_one_line(tls.server_name) || tls.server_name.find(' ') != std::string::npos) {
      reader.fail(*server_name, "is not a host name");
    }
  }
  return tls;
}

// ssh:// and tls:// need their blocks; plain tcp beyond this host needs the
// config to say it knows.
void check_transport(Reader& reader, const Section& section, LoadBalancerConfig& lb, const std::filesystem::path& folder) {
  std::vector<std::pair<const char*, RuntimeApiAddress*>> addresses{{"runtime_api", &lb.runtime_api}};
  if (lb.master_api) addresses.emplace_back("master_api", &*lb.master_api);
  const auto ssh = section.get("ssh");
  const auto tls = section.get("tls");
  const pools::SshOptions ssh_options = ssh ? read_ssh(reader, *ssh, folder) : pools::SshOptions{};
  const pools::TlsOptions tls_options = tls ? read_tls(reader, *tls, folder) : pools::TlsOptions{};
  bool uses_ssh = false, uses_tls = false, uses_remote_tcp = false;
  for (auto& [key, address] : addresses) {
    const Value where = *section.get(key);
    switch (address->kind) {
      case RuntimeApiAddress::Kind::ssh:
        if (!ssh) reader.fail(where, "is ssh://, but this load balancer has no ssh: {known_hosts, identity_file}");
        address->ssh = ssh_options;
        uses_ssh = true;
        break;
      case RuntimeApiAddress::Kind::tls:
        if (!tls) reader.fail(where, "is tls://, but this load balancer has no tls: {ca_file, cert_file, key_file}");
        address->tls = tls_options;
        uses_tls = true;
        break;
      case RuntimeApiAddress::Kind::tcp:
        if (address->is_loopback()) break;
        uses_remote_tcp = true;
        if (!lb.insecure_tcp) {
          reader.fail(where, fmt::format("is tcp: to {}, which is not this host: HAProxy's admin socket has no "
                                         "authentication, so anyone who reaches it can add servers. Reach it over "
                                         "ssh://USER@HOST/PATH (OpenSSH to the LB's host) or tls://HOST:PORT "
                                         "(mutual TLS to a listen section in front of the socket); or, on a network "
                                         "only you can reach, say insecure_tcp: true",
                                         show_value(address->host)));
        }
        break;
      case RuntimeApiAddress::Kind::unix_socket: break;
    }
  }
  if (ssh && !uses_ssh) reader.fail(*ssh, "is given, but neither runtime_api nor master_api is ssh://");
  if (tls && !uses_tls) reader.fail(*tls, "is given, but neither runtime_api nor master_api is tls://");
  if (lb.insecure_tcp && !uses_remote_tcp) {
    reader.fail(*section.get("insecure_tcp"), "is true, but no tcp: address of this load balancer leaves this host");
  }
}

LoadBalancerConfig read_load_balancer(Reader& reader, const Value& item, const std::filesystem::path& folder) {
  const Section section(reader, item);
  section.allow({"name", "runtime_api", "master_api", "backend", "timeout", "unreachable_timeout", "persist", "ssh",
                 "tls", "insecure_tcp"});
  LoadBalancerConfig lb;
  lb.name = name(reader, section.require("name", "a name for this load balancer"));
  lb.runtime_api = read_socket_address(
      reader, section.require("runtime_api", "unix:PATH, tcp:HOST:PORT, ssh://USER@HOST/PATH or tls://HOST:PORT"), folder);
  if (auto master = section.get("master_api")) lb.master_api = read_socket_address(reader, *master, folder);
  if (auto insecure = section.get("insecure_tcp")) lb.insecure_tcp = boolean(reader, *insecure);
  check_transport(reader, section, lb, folder);
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
