// The stack's app hosts (StackOptions::app_hosts): the old servers started
// on app1 and app2 by configs/app-hosts/lbctl-app-host, an sshd on every app
// host, and the exec provider of configs/app-hosts/lbctl-ssh-provider that
// lbctl clones new servers onto app3 and app4 with.

#include <fmt/format.h>

#include <fstream>

#include "tests/e2e/stack.hpp"
#include "tests/e2e/stack_text.hpp"

namespace lbctl::test {

using namespace std::chrono_literals;

namespace {

const std::vector<std::string> k_app_hosts{"app1", "app2", "app3", "app4"};
const std::vector<std::string> k_spare_hosts{"app3", "app4"};

std::string app_hosts_script(const std::string& name) {
  return std::string(LBCTL_SOURCE_DIR) + "/configs/app-hosts/" + name;
}

}  // namespace

std::string Stack::database_url(const std::string& dbname) const {
  if (!m_options.app_hosts) return m_postgres.url(dbname);
  return m_postgres.tcp_url(dbname, m_lab->address("db"), m_postgres.tcp_port());
}

// What an app host's own settings would say (its /etc/default/lbctl-app-host).
std::vector<std::pair<std::string, std::string>> Stack::app_host_settings(const std::string& host) const {
  return {{"LBCTL_APP_HOST_DIR", (m_dir.path() / "hosts" / host).string()},
          {"LBCTL_APP_HOST_COMMAND", (m_dir.path() / "app-command").string()},
          {"LBCTL_APP_HOST_PORTS", new_server_ports()},
          {"LBCTL_APP_HOST_STOP_GRACE", "2"},
          {"LBCTL_APP_DATABASE_URL", database_url("app")}};
}

void Stack::start_app_host_sshds() {
  std::string command;
  for (const char* word : {LBCTL_APP_BINARY, "--port", "{port}", "--dir", "{dir}", "--name", "{name}", "--version",
                           "{release}", "--bind", "{host}"}) {
    command += std::string(word) + "\n";
  }
  m_dir.write("app-command", command);
  for (const auto& host : k_app_hosts) {
    SshdOptions sshd;
    sshd.address = m_lab->address(host);
    sshd.launcher = m_lab->on(host);
    sshd.environment = app_host_settings(host);
    m_app_sshd[host] = std::make_unique<SshdFixture>(sshd);
  }
}

// Starts `name` (release v1) on `host` as the deploy host's provider would,
// and returns its address once it answers.
std::string Stack::start_on_app_host(const std::string& name, const std::string& host) {
  auto argv = m_lab->on(host);
  argv.push_back("env");
  for (const auto& [key, value] : app_host_settings(host)) argv.push_back(key + "=" + value);
  argv.insert(argv.end(), {app_hosts_script("lbctl-app-host"), "start", name, "v1", m_lab->address(host)});
  const auto started = run_command(argv, 30s);
  const std::string prefix = name + " ";
  if (started.exit_code != 0 || !started.out.starts_with(prefix)) {
    throw std::runtime_error("lbctl-app-host start " + name + " on " + host + ": " + started.out);
  }
  std::string address = started.out.substr(prefix.size());
  address = address.substr(0, address.find('\n'));
  if (!eventually([&] { return lab_get(*m_lab, "deploy", "http://" + address + "/health-check.html") == 200; }, 30s)) {
    throw std::runtime_error("old server " + name + " did not start on " + host);
  }
  return address;
}

// provider: exec, through configs/app-hosts/lbctl-ssh-provider and an
// ssh_config with one Host block per app host.
void Stack::write_app_hosts_provider(std::ostringstream& yaml) {
  std::string ssh_config;
  for (const auto& host : k_app_hosts) {
    const SshdFixture& sshd = *m_app_sshd.at(host);
    ssh_config += fmt::format(
        "Host {}\n  Port {}\n  User root\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n"
        "  GlobalKnownHostsFile /dev/null\n",
        sshd.address(), sshd.port(), sshd.identity_file().string(), sshd.known_hosts().string());
  }
  const auto config = m_dir.write("app-hosts.ssh_config", ssh_config);
  const std::vector<std::string> provider{app_hosts_script("lbctl-ssh-provider"), "-F", config.string(), "--remote",
                                          app_hosts_script("lbctl-app-host")};
  std::string spares;
  for (const auto& host : k_spare_hosts) spares += (spares.empty() ? "" : ",") + m_lab->address(host);
  const auto with = [&](std::vector<std::string> words) {
    words.insert(words.begin(), provider.begin(), provider.end());
    return yaml_list(words);
  };
  yaml << "provider:\n  type: exec\n"
       << "  clone: " << with({"clone", "--hosts", spares, "--release", "v2", "{names}"}) << "\n"
       << "  terminate: " << with({"terminate", "{host}", "{name}"}) << "\n"
       << "  remove_health_file: " << with({"health", "{host}", "{name}", "off"}) << "\n"
       << "  restore_health_file: " << with({"health", "{host}", "{name}", "on"}) << "\n"
       << "  timeout: 30s\n";
}

std::filesystem::path Stack::server_dir(const std::string& name) const {
  if (m_options.app_hosts) {
    for (const auto& host : k_app_hosts) {
      const auto dir = m_dir.path() / "hosts" / host / name;
      if (std::filesystem::exists(dir)) return dir;
    }
  }
  return base_dir() / name;
}

std::string Stack::app_host_of(const std::string& name) const {
  for (const auto& host : k_app_hosts) {
    if (std::filesystem::exists(m_dir.path() / "hosts" / host / name)) return host;
  }
  return {};
}

}  // namespace lbctl::test
