#include "tests/e2e/stack.hpp"

#include <unistd.h>

#include <csignal>
#include <fstream>
#include <regex>
#include <sstream>

#include "tests/e2e/stack_text.hpp"
#include "tests/support/app_server_fixture.hpp"

namespace lbctl::test {

using namespace std::chrono_literals;

int lab_get(const Lab& lab, const std::string& host, const std::string& url) {
  auto argv = lab.on(host);
  argv.insert(argv.end(), {"curl", "-s", "-o", "/dev/null", "-m", "2", "-w", "%{http_code}", url});
  const auto got = run_command(argv, 5s);
  try {
    return std::stoi(got.out);
  } catch (const std::exception&) {
    return 0;
  }
}

// The new servers' port range: 100 ports of 20000-29999 chosen by the test
// process, so two stacks running at once (ctest -j2) do not race for the
// same free port (one's health check would then reach the other's server).
std::string new_server_ports() {
  const int base = 20000 + 100 * static_cast<int>(::getpid() % 100);
  return std::to_string(base) + "-" + std::to_string(base + 99);
}

// A YAML flow list of double-quoted strings, quotes and backslashes escaped
// (a persist check may be a shell script).
std::string yaml_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += i ? ", \"" : "\"";
    for (const char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += "\"";
  }
  return out + "]";
}

namespace {

StackOptions implied(StackOptions options) {
  if (options.app_hosts) options.lab = options.postgres_tcp = true;
  if (options.lab) options.remote_lbs = true;
  return options;
}

std::vector<std::string> lab_hosts(const StackOptions& options) {
  std::vector<std::string> hosts{"deploy", "lb1", "lb2"};
  if (options.app_hosts) hosts.insert(hosts.end(), {"app1", "app2", "app3", "app4", "db"});
  return hosts;
}

PostgresOptions postgres_options(const StackOptions& options, const Lab* lab) {
  PostgresOptions postgres{.tcp = options.postgres_tcp};
  if (options.app_hosts) {
    postgres.listen_address = lab->address("db");
    postgres.launcher = lab->on("db");
  }
  return postgres;
}

}  // namespace

Stack::Stack(StackOptions options)
    : m_options(implied(std::move(options))),
      m_lab(m_options.lab ? std::make_unique<Lab>(lab_hosts(m_options)) : nullptr),
      m_postgres(postgres_options(m_options, m_lab.get())) {
  m_dir.open_to_postgres();
  m_postgres.create_database("lbctl");
  m_postgres.create_database("app");
  m_postgres.execute("CREATE TABLE orders (id serial PRIMARY KEY, item text, legacy_total float)", "app");
  std::filesystem::create_directories(base_dir());
  if (m_options.app_hosts) start_app_host_sshds();
  std::vector<BackendServer> servers;
  for (std::size_t i = 1; i <= m_options.old_servers; ++i) {
    const std::string name = "old-" + std::to_string(i);
    if (m_options.app_hosts) {
      servers.push_back({name, start_on_app_host(name, "app" + std::to_string((i - 1) % 2 + 1)), ""});
      continue;
    }
    const auto dir = base_dir() / name;
    std::filesystem::create_directories(dir);
    m_dir.write("servers/" + name + "/health-check.html", "ok\n");
    const auto port = free_port();
    AppServerOptions app;
    app.name = name;
    app.extra_args = m_options.old_server_args;
    auto argv = app_server_argv(app, port, dir);
    const std::string host = m_lab ? m_lab->address("deploy") : "127.0.0.1";
    if (m_lab) {
      const auto launcher = client_launcher();
      argv.insert(argv.begin(), launcher.begin(), launcher.end());
      argv.insert(argv.end(), {"--bind", host});
    }
    m_old_servers.push_back(std::make_unique<ChildProcess>(argv, dir / "log"));
    const std::string address = host + ":" + std::to_string(port);
    const bool listening =
        m_lab ? eventually([&] { return lab_get(*m_lab, "deploy", "http://" + address + "/health-check.html") == 200; })
              : wait_for_port(port, 10s);
    if (!listening) throw std::runtime_error("old server " + name + " did not start");
    m_dir.write("servers/" + name + "/pid", std::to_string(m_old_servers.back()->pid()) + "\n");
    m_dir.write("servers/" + name + "/address", address + "\n");
    servers.push_back({name, address, ""});
  }
  if (m_options.maintenance) m_dir.write("maintenance.map", "");
  std::filesystem::path lb2_pem;
  if (m_options.remote_lbs) {
    if (m_options.lbs != 2) throw std::runtime_error("remote_lbs needs two LBs");
    SshdOptions sshd;
    if (m_lab) {
      sshd.address = m_lab->address("lb1");
      sshd.launcher = m_lab->on("lb1");
    }
    m_sshd = std::make_unique<SshdFixture>(sshd);
    m_certs = std::make_unique<TestCertificates>(m_dir / "tls");
    const KeyPair server = m_certs->server("lb2", {"lb2.example.test"});
    lb2_pem = m_dir.write("tls/lb2.pem", read_file(server.cert) + read_file(server.key));
    m_certs->client("lbctl", "lbctl");
    m_tls_port = free_port();
    m_tls_master_port = free_port();
  }
  for (std::size_t i = 0; i < m_options.lbs; ++i) {
    HaproxyOptions lb;
    lb.servers = servers;
    lb.server_options = m_options.server_options;
    lb.master_worker = m_options.master_worker;
    if (m_lab) {
      const std::string host = "lb" + std::to_string(i + 1);
      lb.launcher = m_lab->on(host);
      lb.address = m_lab->address(host);
    }
    // HAProxy 2.6 closes idle keep-alive client connections when a reload
    // stops the old worker; a request sent on one at that instant is reset
    // (seen once in about ten reloads under wrk; 2.7 added
    // idle-close-on-response for it). Not lbctl's doing: the tests that
    // reload close each connection after its response, so the count of
    // failed requests measures lbctl alone.
    if (m_options.master_worker) lb.extra_frontend.push_back("option httpclose");
    if (m_options.app_hosts) {
      // A request sent to a server whose host just went silent: tried again
      // on another server after 1 s, not failed (a production LB for app
      // hosts across a network wants the same, with its own timeouts).
      lb.extra_backend.insert(lb.extra_backend.end(), {"retry-on all-retryable-errors", "option redispatch 1",
                                                       "timeout connect 1s", "timeout server 1s"});
    }
    lb.maintenance_map = m_options.maintenance;
    if (m_options.maintenance) lb.maintenance_map_file = maintenance_map();
    lb.edit_config = [this, i, lb2_pem](const std::string& generated) {
      std::string text = m_options.edit_lb_config ? m_options.edit_lb_config(i, generated) : generated;
      if (m_options.remote_lbs && i == 1) {
        const std::string socket = stats_socket_of(generated);
        const std::string address = m_lab ? m_lab->address("lb2") : "127.0.0.1";
        text += "\n" + tls_cli_listen("lbctl-cli", lb2_pem, m_certs->ca_cert(), m_tls_port, socket, address);
        if (m_options.master_worker) {
          const auto master = std::filesystem::path(socket).parent_path() / "master.sock";
          text += "\n" +
                  tls_cli_listen("lbctl-master-cli", lb2_pem, m_certs->ca_cert(), m_tls_master_port, master, address);
        }
      }
      return text;
    };
    m_lbs.push_back(std::make_unique<HaproxyFixture>(lb));
  }
  // Both LBs see every old server UP before the test starts.
  for (auto& lb : m_lbs) {
    for (const auto& s : servers) {
      if (!eventually([&] { return lb->status(s.name) == "UP"; }, 10s)) throw std::runtime_error(s.name + " not UP");
    }
  }
  if (m_options.migrations) {
    m_dir.write("migrations/pre/20261121_01_add_total.sql",
                "ALTER TABLE orders ADD COLUMN total_cents bigint NOT NULL DEFAULT 0;\n");
    m_dir.write("migrations/post/20261121_02_drop_legacy.sql", "ALTER TABLE orders DROP COLUMN legacy_total;\n");
  }
  write_config();
}

Stack::~Stack() {
  // New servers started by lbctl's local provider, and any old one left.
  for (const auto& entry : std::filesystem::directory_iterator(base_dir())) {
    std::ifstream pid_file(entry.path() / "pid");
    pid_t pid = 0;
    if (pid_file >> pid && pid > 0) ::kill(pid, SIGKILL);
  }
  // And one whose pid was never recorded (lbctl killed between starting it
  // and writing its pid file): any process running in a server's folder.
  const std::string servers = base_dir().string() + "/";
  std::error_code ec;
  for (const auto& proc : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = proc.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto cwd = std::filesystem::read_symlink(proc.path() / "cwd", ec);
    if (!ec && (cwd.string() + "/").starts_with(servers)) ::kill(std::stoi(name), SIGKILL);
  }
}

// lb1 over ssh (persist read and write over ssh as well), lb2 over mutual TLS.
void Stack::write_remote_lb(std::ostringstream& yaml, std::size_t i) {
  HaproxyFixture& lb = *m_lbs[i];
  yaml << "  - name: lb" << i + 1 << "\n    backend: app\n";
  if (i == 0) {
    yaml << "    runtime_api: " << m_sshd->url(lb.socket_path()) << "\n";
    if (m_options.master_worker) yaml << "    master_api: " << m_sshd->url(lb.master_socket_path()) << "\n";
    yaml << "    ssh: {identity_file: " << m_sshd->identity_file().string()
         << ", known_hosts: " << m_sshd->known_hosts().string() << "}\n";
  } else {
    yaml << "    runtime_api: tls://" << lb.address() << ":" << m_tls_port << "\n";
    if (m_options.master_worker) yaml << "    master_api: tls://" << lb.address() << ":" << m_tls_master_port << "\n";
    yaml << "    tls: {ca_file: " << m_certs->ca_cert().string() << ", cert_file: " << (m_dir / "tls" / "lbctl.crt").string()
         << ", key_file: " << (m_dir / "tls" / "lbctl.key").string() << ", server_name: lb2.example.test}\n";
  }
  if (!m_options.persist) return;
  yaml << "    persist:\n      file: " << lb.config_file().string() << "\n";
  if (i == 0) {
    // What an LB host's files look like from the deploy host: through ssh.
    const std::vector<std::string> ssh{"ssh", "-T", "-o", "BatchMode=yes", "-o",
                                       "UserKnownHostsFile=" + m_sshd->known_hosts().string(), "-i",
                                       m_sshd->identity_file().string(), "-p", std::to_string(m_sshd->port()),
                                       "root@" + m_sshd->address()};
    auto read = ssh;
    read.insert(read.end(), {"cat", "{file}"});
    auto write = ssh;
    write.insert(write.end(), {std::string(LBCTL_SOURCE_DIR) + "/configs/lb-host/lbctl-install-file", "{file}"});
    yaml << "      read: " << yaml_list(read) << "\n      write: " << yaml_list(write) << "\n";
  }
  if (!m_options.persist_check.empty()) yaml << "      check: " << yaml_list(m_options.persist_check) << "\n";
}

void Stack::write_config() {
  std::ostringstream yaml;
  yaml << "service: shop\n"
       << "state:\n  database_url: \"from-the-environment\"\n"
       // A short lease: a resume after a SIGKILL waits it out.
       << "  partition_timeout: 1s\n  lease: 2s\n"
       << "load_balancers:\n";
  for (std::size_t i = 0; i < m_lbs.size(); ++i) {
    if (m_options.remote_lbs) {
      write_remote_lb(yaml, i);
      continue;
    }
    // lb1 on the unix socket, the others over tcp.
    yaml << "  - name: lb" << i + 1 << "\n    runtime_api: "
         << (i == 0 ? m_lbs[i]->runtime_api_unix() : m_lbs[i]->runtime_api_tcp()) << "\n    backend: app\n";
    if (m_options.master_worker) yaml << "    master_api: " << m_lbs[i]->master_api() << "\n";
    if (m_options.persist) {
      yaml << "    persist:\n      file: " << m_lbs[i]->config_file().string() << "\n";
      if (!m_options.persist_check.empty()) yaml << "      check: " << yaml_list(m_options.persist_check) << "\n";
    }
  }
  yaml << "old_pool:\n  discover: true\n"
       << "new_pool:\n  count: match_old\n  name_prefix: v2-\n  server_options: \"" << m_options.server_options << "\"\n"
       << (m_options.new_pool_cookie.empty() ? "" : "  cookie: \"" + m_options.new_pool_cookie + "\"\n");
  if (m_options.app_hosts) {
    write_app_hosts_provider(yaml);
  } else {
    std::vector<std::string> command{LBCTL_APP_BINARY, "--port", "{port}", "--dir",     "{dir}", "--name",
                                     "{name}",         "--version", "v2", "--bind", "{host}"};
    command.insert(command.end(), m_options.new_server_args.begin(), m_options.new_server_args.end());
    yaml << "provider:\n  type: local\n  command: " << yaml_list(command) << "\n  ports: \"" << new_server_ports()
         << "\"\n"
         << "  host: " << (m_lab ? m_lab->address("deploy") : "127.0.0.1") << "\n"
         // ASan-built servers starting while other tests put wrk through their LBs
         // (ctest -j2 on 2 cores) have taken over 10 s, the default, to listen.
         << "  base_dir: servers\n  health_file: health-check.html\n  start_timeout: 30s\n";
  }
  yaml << "health:\n  path: /health-check.html\n  database_path: /health/db\n  timeout: 1s\n  interval: 200ms\n"
       << "  rise: 2\n  deadline: 15s\n";
  if (m_options.extra_config.find("drain:") == std::string::npos) {
    yaml << "drain:\n  method: health_file\n  poll: 200ms\n  timeout: 60s\n  on_timeout: abort\n";
  }
  if (m_options.migrations) {
    yaml << "migrations:\n  database_url: \"from-the-environment\"\n  dir: migrations\n  lock_timeout: 2s\n"
         << "  backup:\n    command: [\"pg_dump\", \"-Fc\", \"-f\", \"{backup_dir}/{service}-{cutover_id}.dump\", "
            "\"{database_url}\"]\n    dir: backups\n";
  }
  if (m_options.maintenance) yaml << "maintenance:\n  map: " << maintenance_map().string() << "\n";
  yaml << "terminate:\n  delay: 0s\nmin_healthy: 1\n" << m_options.extra_config;
  m_config_file = m_dir.write("lbctl.yaml", yaml.str());
}

std::vector<std::string> Stack::old_names() const {
  std::vector<std::string> names;
  for (std::size_t i = 1; i <= m_options.old_servers; ++i) names.push_back("old-" + std::to_string(i));
  return names;
}

std::filesystem::path Stack::maintenance_map() const {
  return m_options.maintenance ? m_dir.path() / "maintenance.map" : std::filesystem::path();
}

std::vector<std::pair<std::string, std::string>> Stack::env() const {
  std::vector<std::pair<std::string, std::string>> out{{"LBCTL_STATE_DATABASE_URL",
                                                        m_state_url.empty() ? database_url("lbctl") : m_state_url},
                                                       {"LBCTL_MIGRATIONS_DATABASE_URL", database_url("app")},
                                                       {"LBCTL_APP_DATABASE_URL", database_url("app")}};
  // The exec provider's ssh connections to the app hosts, shared, in a folder of the test's.
  if (m_options.app_hosts) out.emplace_back("LBCTL_SSH_CONTROL_DIR", (m_dir.path() / "ssh-control").string());
  out.insert(out.end(), m_options.env.begin(), m_options.env.end());
  return out;
}

std::vector<std::string> Stack::client_launcher() const {
  return m_lab ? m_lab->on("deploy") : std::vector<std::string>{};
}

LbctlRun Stack::lbctl(std::vector<std::string> args, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = client_launcher();
  argv.push_back(LBCTL_BINARY);
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("-c");
  argv.push_back(m_config_file.string());
  auto result = run_command(argv, timeout, env());
  return {result.exit_code, result.out};
}

std::unique_ptr<ChildProcess> Stack::start_lbctl(std::vector<std::string> args, const std::filesystem::path& log) {
  // ChildProcess inherits our environment: set the URLs there.
  for (const auto& [key, value] : env()) ::setenv(key.c_str(), value.c_str(), 1);
  std::vector<std::string> argv = client_launcher();
  argv.push_back(LBCTL_BINARY);
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("-c");
  argv.push_back(m_config_file.string());
  return std::make_unique<ChildProcess>(argv, log);
}

std::vector<std::string> Stack::fleet_view() {
  std::vector<std::string> view;
  for (std::size_t i = 0; i < m_lbs.size(); ++i) {
    for (const auto& name : m_lbs[i]->servers()) {
      view.push_back("lb" + std::to_string(i + 1) + " " + name + " " + m_lbs[i]->status(name));
    }
  }
  return view;
}

void Stack::crash_old_server(std::size_t n) {
  auto& server = *m_old_servers.at(n - 1);
  server.signal(SIGKILL);
  server.wait(5s);  // reaped, as its supervisor would
}

void Stack::crash_server(const std::string& name) {
  std::ifstream pid_file(server_dir(name) / "pid");
  pid_t pid = 0;
  if (!(pid_file >> pid) || pid <= 0) throw std::runtime_error("no pid for " + name);
  ::kill(pid, SIGKILL);
}

bool Stack::server_running(const std::string& name) const {
  std::ifstream pid_file(server_dir(name) / "pid");
  pid_t pid = 0;
  if (!(pid_file >> pid) || pid <= 0) return false;
  if (::kill(pid, 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  std::getline(stat, text);
  const auto paren = text.rfind(')');
  return !(paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'Z');
}

bool Stack::orders_has_column(const std::string& column) {
  return m_postgres.query_value("SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND "
                                "column_name = '" + column + "'", "app") == "1";
}

Load::Load(std::uint16_t port, const std::filesystem::path& log, int connections)
    : Load("127.0.0.1", port, log, {}, connections) {}

Load::Load(const std::string& host, std::uint16_t port, const std::filesystem::path& log,
           const std::vector<std::string>& launcher, int connections)
    : m_log(log) {
  std::vector<std::string> argv = launcher;
  argv.insert(argv.end(), {"wrk", "-t", "1", "-c", std::to_string(connections), "-d", "10m", "--timeout", "5s",
                           "http://" + host + ":" + std::to_string(port) + "/"});
  m_wrk = std::make_unique<ChildProcess>(argv, log);
  std::this_thread::sleep_for(300ms);
}

Load::~Load() {
  if (m_wrk) m_wrk->stop(2s);
}

Load::Result Load::stop() {
  Result result;
  m_wrk->signal(SIGINT);  // wrk prints its summary on SIGINT
  m_wrk->wait(10s);
  m_wrk.reset();
  result.text = read_file(m_log);
  std::smatch m;
  if (std::regex_search(result.text, m, std::regex(R"((\d+) requests in)"))) result.requests = std::stol(m[1]);
  if (std::regex_search(result.text, m, std::regex(R"(Non-2xx or 3xx responses: (\d+))"))) result.non_2xx = std::stol(m[1]);
  if (std::regex_search(result.text, m, std::regex(R"(Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+))"))) {
    result.socket_errors = std::stol(m[1]) + std::stol(m[2]) + std::stol(m[3]) + std::stol(m[4]);
  }
  return result;
}

UpSampler::UpSampler(Stack& stack) : m_stack(stack) {
  m_thread = std::thread([this] {
    while (m_running) {
      for (std::size_t i = 0; i < m_stack.lb_count(); ++i) {
        std::size_t up = 0;
        const auto answer = m_stack.lb(i).command("show stat app 4 -1");
        std::istringstream lines(answer);
        std::string line;
        std::size_t status_column = 0;
        while (std::getline(lines, line)) {
          std::vector<std::string> fields;
          std::string field;
          std::istringstream in(line);
          while (std::getline(in, field, ',')) fields.push_back(field);
          if (line.rfind("# ", 0) == 0) {
            for (std::size_t c = 0; c < fields.size(); ++c) {
              if (fields[c] == "status") status_column = c;
            }
            continue;
          }
          if (fields.size() > status_column && fields[status_column].rfind("UP", 0) == 0) ++up;
        }
        if (answer.empty()) continue;  // an answer lost to a busy socket is not a count
        std::size_t lowest = m_lowest;
        while (up < lowest && !m_lowest.compare_exchange_weak(lowest, up)) {
        }
      }
      ++m_samples;
      std::this_thread::sleep_for(50ms);
    }
  });
}

UpSampler::~UpSampler() { stop(); }

std::size_t UpSampler::stop() {
  m_running = false;
  if (m_thread.joinable()) m_thread.join();
  return m_lowest;
}

}  // namespace lbctl::test
