#include "bench/support.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <pqxx/pqxx>
#include <regex>
#include <sstream>
#include <sys/resource.h>
#include <unistd.h>

#include "db/pqxx_compat.hpp"

namespace lbctl::bench {

using namespace std::chrono_literals;
using test::ChildProcess;
using test::free_port;

int report(const std::string& benchmark, const std::vector<Figure>& figures, const std::string& json_path,
           nlohmann::json extra) {
  nlohmann::json document = extra;
  document["benchmark"] = benchmark;
  document["figures"] = nlohmann::json::array();
  for (const auto& f : figures) {
    std::printf("%-52s %10.3f %-4s goal %-9s %s\n", f.name.c_str(), f.value, f.unit.c_str(),
                f.goal.empty() ? "-" : f.goal.c_str(), f.goal.empty() ? "" : (f.met ? "met" : "MISSED"));
    document["figures"].push_back({{"name", f.name}, {"value", f.value}, {"unit", f.unit}, {"goal", f.goal},
                                   {"met", f.met}});
  }
  std::fflush(stdout);
  if (!json_path.empty()) std::ofstream(json_path) << document.dump(2) << "\n";
  return 0;
}

std::map<std::string, std::string> parse_args(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string name = argv[i];
    if (name.rfind("--", 0) == 0) name = name.substr(2);
    args[name] = argv[i + 1];
  }
  return args;
}

int int_arg(const std::map<std::string, std::string>& args, const std::string& name, int fallback) {
  const auto it = args.find(name);
  return it == args.end() ? fallback : std::stoi(it->second);
}

std::string lbctl_binary() { return LBCTL_BINARY; }

int guarded_main(const char* name, const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return 1;
  }
}

namespace {

std::vector<std::string> lab_hosts(const FleetOptions& options) {
  std::vector<std::string> hosts{"deploy", "apps"};
  for (std::size_t i = 0; i < options.lbs; ++i) hosts.push_back(fmt::format("lb{}", i + 1));
  return hosts;
}

}  // namespace

std::string BenchFleet::address_of(const std::string& host) const { return m_lab ? m_lab->address(host) : "127.0.0.1"; }

std::vector<std::string> BenchFleet::on(const std::string& host) const {
  return m_lab ? m_lab->on(host) : std::vector<std::string>{};
}

// Every port listening on `host` (ss in the host's namespace: a connect from
// here would not reach a lab host).
void BenchFleet::wait_listening(const std::string& host, const std::vector<std::uint16_t>& ports) const {
  if (!m_lab) {
    for (auto port : ports) {
      if (!test::wait_for_port(port, 10s)) throw std::runtime_error(fmt::format("nothing listens on port {}", port));
    }
    return;
  }
  auto argv = on(host);
  argv.insert(argv.end(), {"ss", "-Hltn"});
  const bool listening = test::eventually(
      [&] {
        const std::string out = test::run_command(argv, 10s).out;
        return std::all_of(ports.begin(), ports.end(), [&](std::uint16_t port) {
          return out.find(fmt::format("{}:{} ", address_of(host), port)) != std::string::npos;
        });
      },
      20s);
  if (!listening) throw std::runtime_error("nothing listens on " + host + "'s ports");
}

void BenchFleet::start_farm(const std::vector<std::uint16_t>& ports, std::size_t maxconn) {
  std::ostringstream farm;
  farm << "global\n  maxconn " << maxconn << "\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 30s\n"
       << "  timeout server 30s\nfrontend farm\n";
  for (auto port : ports) farm << "  bind " << address_of("apps") << ":" << port << "\n";
  farm << "  monitor-uri /health-check.html\n  http-request return status 200 content-type text/plain string ok\n";
  const auto farm_cfg = m_dir.write("farm.cfg", farm.str());
  auto argv = on("apps");
  argv.insert(argv.end(), {"haproxy", "-f", farm_cfg.string(), "-db"});
  m_farm = std::make_unique<ChildProcess>(argv, m_dir / "farm.log");
  wait_listening("apps", ports);
}

BenchFleet::BenchFleet(FleetOptions options)
    : m_options(std::move(options)),
      m_lab(m_options.lab ? std::make_unique<test::Lab>(lab_hosts(m_options)) : nullptr),
      m_postgres(m_options.postgres_tcp) {
  m_dir.open_to_postgres();
  m_postgres.create_database("lbctl");
  // The farm: one HAProxy frontend on many ports answering 200 to the health path.
  const std::size_t servers = m_options.old_servers + m_options.new_servers;
  const std::size_t listeners = m_options.listeners == 0 ? servers : m_options.listeners;
  std::vector<std::uint16_t> ports;
  for (std::size_t i = 0; i < listeners; ++i) ports.push_back(free_port());
  // Room for every direct check of a large pool at once, on top of the LBs'
  // own checks; but HAProxy needs about two descriptors a connection, and
  // this machine caps them (`ulimit -Hn`; root cannot raise it): the farm
  // takes what the limit leaves, and says so.
  const std::size_t wanted = std::max<std::size_t>(4000, servers * 2 + 1000);
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  const std::size_t descriptors = limit.rlim_max == RLIM_INFINITY ? 1'000'000 : static_cast<std::size_t>(limit.rlim_max);
  const std::size_t affordable = descriptors > listeners + 200 ? (descriptors - listeners - 200) / 2 : 1000;
  const std::size_t farm_maxconn = std::min(wanted, affordable);
  if (farm_maxconn < wanted) {
    std::fprintf(stderr, "bench: the farm takes %zu connections at once, not the %zu it would like: this machine allows "
                         "%zu open files per process (ulimit -Hn)\n",
                 farm_maxconn, wanted, descriptors);
  }
  start_farm(ports, farm_maxconn);
  for (std::size_t i = 0; i < m_options.old_servers; ++i) {
    if (!m_options.old_apps) {
      m_old_addresses.push_back(fmt::format("{}:{}", address_of("apps"), ports[i % listeners]));
      continue;
    }
    const auto dir = m_dir / fmt::format("old-{}", i + 1);
    std::filesystem::create_directories(dir);
    m_dir.write(fmt::format("old-{}/health-check.html", i + 1), "ok\n");
    const auto port = free_port();
    auto argv = on("apps");
    argv.insert(argv.end(), {LBCTL_APP_BINARY, "--port", std::to_string(port), "--dir", dir.string(), "--bind",
                             address_of("apps")});
    m_apps.push_back(std::make_unique<ChildProcess>(argv, dir / "log"));
    wait_listening("apps", {port});
    m_old_addresses.push_back(fmt::format("{}:{}", address_of("apps"), port));
  }
  for (std::size_t i = 0; i < m_options.new_servers; ++i) {
    m_new_addresses.push_back(fmt::format("{}:{}", address_of("apps"), ports[(m_options.old_servers + i) % listeners]));
  }
  test::HaproxyOptions lb;
  for (std::size_t i = 0; i < m_options.old_servers; ++i) {
    lb.servers.push_back({fmt::format("old-{}", i + 1), m_old_addresses[i], ""});
  }
  if (m_options.new_in_config) {
    for (std::size_t i = 0; i < m_options.new_servers; ++i) {
      lb.servers.push_back({fmt::format("v2-{}", i + 1), m_new_addresses[i], m_options.server_options + " disabled"});
    }
  }
  lb.server_options = m_options.server_options;
  lb.extra_global.push_back("maxconn 4000");
  std::filesystem::path pem;
  if (m_options.transport == "ssh") {
    // On loopback one sshd stands for every LB host; in the lab each LB host has its own.
    for (std::size_t i = 0; i < (m_lab ? m_options.lbs : 1); ++i) {
      test::SshdOptions sshd;
      if (m_lab) {
        sshd.address = address_of(fmt::format("lb{}", i + 1));
        sshd.launcher = on(fmt::format("lb{}", i + 1));
      }
      m_sshds.push_back(std::make_unique<test::SshdFixture>(sshd));
    }
  }
  if (m_options.transport == "tls") {
    m_certs = std::make_unique<test::TestCertificates>(m_dir / "tls");
    const auto server = m_certs->server("lb", {"lb.bench.test"});
    pem = m_dir.write("tls/lb.pem", test::read_file(server.cert) + test::read_file(server.key));
    m_certs->client("lbctl", "lbctl");
  }
  for (std::size_t i = 0; i < m_options.lbs; ++i) {
    const std::string host = fmt::format("lb{}", i + 1);
    lb.launcher = on(host);
    if (m_lab) lb.address = address_of(host);
    if (m_certs) {
      const auto port = test::free_port();
      m_tls_ports.push_back(port);
      lb.edit_config = [this, pem, port, address = address_of(host)](const std::string& text) {
        return text + "\n" +
               test::tls_cli_listen("lbctl-cli", pem, m_certs->ca_cert(), port, test::stats_socket_of(text), address);
      };
    }
    m_lbs.push_back(std::make_unique<test::HaproxyFixture>(lb));
  }
  // Every old server UP on every LB before the clock starts.
  for (auto& l : m_lbs) {
    const bool up = test::eventually(
        [&] {
          const auto stat = l->command("show stat app 4 -1");
          std::size_t count = 0;
          for (std::size_t pos = 0; (pos = stat.find(",UP,", pos)) != std::string::npos; ++pos) ++count;
          return count == m_options.old_servers;
        },
        60s);
    if (!up) throw std::runtime_error("old servers not UP on every LB");
  }

  std::ostringstream yaml;
  yaml << "service: bench\nstate:\n  database_url: \"from-the-environment\"\nload_balancers:\n";
  for (std::size_t i = 0; i < m_lbs.size(); ++i) {
    yaml << "  - name: lb" << i + 1 << "\n    backend: app\n    timeout: 30s\n";
    if (!m_sshds.empty()) {
      const auto& sshd = *m_sshds[std::min(i, m_sshds.size() - 1)];
      yaml << "    runtime_api: " << sshd.url(m_lbs[i]->socket_path()) << "\n    ssh: {identity_file: "
           << sshd.identity_file().string() << ", known_hosts: " << sshd.known_hosts().string() << "}\n";
    } else if (m_certs) {
      yaml << "    runtime_api: tls://" << address_of(fmt::format("lb{}", i + 1)) << ":" << m_tls_ports[i]
           << "\n    tls: {ca_file: " << m_certs->ca_cert().string()
           << ", cert_file: " << (m_dir / "tls" / "lbctl.crt").string()
           << ", key_file: " << (m_dir / "tls" / "lbctl.key").string() << ", server_name: lb.bench.test}\n";
    } else {
      yaml << "    runtime_api: " << m_lbs[i]->runtime_api_unix() << "\n";
    }
    if (m_options.persist) yaml << "    persist:\n      file: " << (m_lbs[i]->dir() / "haproxy.cfg").string() << "\n";
  }
  yaml << "old_pool:\n  discover: true\nnew_pool:\n  count: " << m_options.new_servers
       << "\n  name_prefix: v2-\n  server_options: \"" << m_options.server_options << "\"\n"
       << "provider:\n  type: static\n  servers:\n";
  for (std::size_t i = 0; i < m_options.new_servers; ++i) {
    yaml << "    - {name: v2-" << i + 1 << ", address: \"" << m_new_addresses[i] << "\"}\n";
  }
  yaml << "health:\n  path: /health-check.html\n  timeout: 2s\n  interval: " << m_options.health_interval
       << "\n  rise: " << m_options.health_rise << "\n  deadline: 120s\n"
       << "drain:\n  method: " << m_options.drain_method << "\n  poll: " << m_options.drain_poll
       << "\n  timeout: 10m\n  on_timeout: abort\n"
       << "terminate:\n  delay: 0s\nmin_healthy: 1\n"
       << m_options.extra_config;
  m_config = m_dir.write("lbctl.yaml", yaml.str());
}

BenchFleet::~BenchFleet() = default;

std::unique_ptr<test::ChildProcess> BenchFleet::start_lbctl(std::vector<std::string> args,
                                                            const std::filesystem::path& log,
                                                            const std::string& state_url) {
  // ChildProcess inherits this environment.
  ::setenv("LBCTL_STATE_DATABASE_URL", (state_url.empty() ? m_postgres.url("lbctl") : state_url).c_str(), 1);
  std::vector<std::string> argv = on("deploy");
  argv.push_back(lbctl_binary());
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("-c");
  argv.push_back(m_config.string());
  return std::make_unique<test::ChildProcess>(argv, log);
}

LbctlResult BenchFleet::lbctl(std::vector<std::string> args, bool measure_resources) {
  std::vector<std::string> argv = on("deploy");
  const auto time_file = m_dir / "time.txt";
  if (measure_resources) argv = {"/usr/bin/time", "-v", "-o", time_file.string()};
  // LBCTL_BENCH_PROFILE=FILE samples lbctl with perf (cpu-clock) into FILE;
  // with LBCTL_BENCH_PROFILE_DWARF=1 the call stacks are unwound from DWARF
  // (Release builds keep no frame pointers), at a lower rate.
  if (const char* profile = std::getenv("LBCTL_BENCH_PROFILE")) {
    const bool dwarf = std::getenv("LBCTL_BENCH_PROFILE_DWARF") != nullptr;
    for (const char* word : {"perf", "record", "-e", "cpu-clock", "-o"}) argv.emplace_back(word);
    argv.emplace_back(profile);
    const std::vector<std::string> sampling = dwarf ? std::vector<std::string>{"-F", "250", "--call-graph", "dwarf,16384"}
                                                    : std::vector<std::string>{"-F", "2000", "-g"};
    argv.insert(argv.end(), sampling.begin(), sampling.end());
  } else if (const char* heap = std::getenv("LBCTL_BENCH_HEAPTRACK")) {
    // LBCTL_BENCH_HEAPTRACK=FILE: lbctl's allocations, for heaptrack_print (peak memory by caller).
    for (const char* word : {"heaptrack", "-o"}) argv.emplace_back(word);
    argv.emplace_back(heap);
  }
  argv.push_back(lbctl_binary());
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("-c");
  argv.push_back(m_config.string());
  const auto started = std::chrono::steady_clock::now();
  auto run = test::run_command(argv, 30min, {{"LBCTL_STATE_DATABASE_URL", m_postgres.url("lbctl")}});
  LbctlResult result;
  result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  result.exit_code = run.exit_code;
  result.out = std::move(run.out);
  if (measure_resources) {
    const auto text = test::read_file(time_file);
    std::smatch m;
    double user = 0, system = 0;
    if (std::regex_search(text, m, std::regex(R"(User time \(seconds\): ([0-9.]+))"))) user = std::stod(m[1]);
    if (std::regex_search(text, m, std::regex(R"(System time \(seconds\): ([0-9.]+))"))) system = std::stod(m[1]);
    if (std::regex_search(text, m, std::regex(R"(Maximum resident set size \(kbytes\): ([0-9]+))"))) {
      result.max_rss_mib = std::stod(m[1]) / 1024.0;
    }
    result.cpu_s = user + system;
  }
  return result;
}

std::vector<JournalEvent> BenchFleet::events(std::int64_t cutover_id) {
  pqxx::connection connection(m_postgres.url("lbctl"));
  pqxx::nontransaction tx(connection);
  std::vector<JournalEvent> out;
  for (const auto& row : lbctl::db::exec_params(tx, "SELECT extract(epoch FROM at)::float8, step, kind FROM lbctl.events "
                                        "WHERE cutover_id = $1 ORDER BY id",
                                        cutover_id)) {
    out.push_back({row[0].as<double>(), row[1].as<std::string>(), row[2].as<std::string>()});
  }
  return out;
}

double BenchFleet::step_started(std::int64_t cutover_id, const std::string& step) {
  for (const auto& e : events(cutover_id)) {
    if (e.step == step && e.kind == "step_started") return e.at_s;
  }
  return 0;
}

double cpu_of_processes_named(const std::string& comm) {
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  double total = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string line;
    if (!std::getline(in, line)) continue;  // it exited meanwhile
    const auto open = line.find('(');
    const auto close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos || line.substr(open + 1, close - open - 1) != comm) continue;
    // After ") ": state is field 3, utime and stime fields 14 and 15.
    std::istringstream fields(line.substr(close + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
    }
    total += (utime + stime) / ticks;
  }
  return total;
}

}  // namespace lbctl::bench
