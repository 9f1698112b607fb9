#include "tests/support/postgres_fixture.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <pwd.h>
#include <sys/stat.h>
#include <stdexcept>
#include <unistd.h>

#include "tests/support/child_process.hpp"

namespace lbctl::test {

using namespace std::chrono_literals;

std::vector<std::string> as_postgres(std::vector<std::string> argv) {
  if (::geteuid() != 0) return argv;
  std::vector<std::string> wrapped{"runuser", "-u", "postgres", "--"};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return wrapped;
}

PostgresFixture::PostgresFixture(PostgresOptions options) : m_options(std::move(options)) {
  if (m_options.tcp) m_port = m_tcp_port = free_port();
  m_dir.open_to_postgres();
  m_data_dir = (m_dir.path() / "data").string();
  m_socket_dir = (m_dir.path() / "socket").string();
  std::filesystem::create_directories(m_socket_dir);
  std::filesystem::create_directories(m_data_dir);
  if (::geteuid() == 0) {
    // initdb and pg_ctl run as postgres, which cannot create folders in our root-owned temp dir.
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) throw std::runtime_error("no postgres user: install postgresql");
    for (const auto& dir : {m_socket_dir, m_data_dir}) {
      if (::chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("chown failed: " + dir);
    }
    ::chmod(m_data_dir.c_str(), 0700);
  }
  auto init = run_command(as_postgres({pg_bin() + "initdb", "-D", m_data_dir, "-A", "trust", "-U", "postgres",
                                       "--no-sync", "-E", "UTF8", "--locale=C"}));
  if (init.exit_code != 0) throw std::runtime_error("initdb failed: " + init.out);
  if (m_options.tcp && m_options.listen_address != "127.0.0.1") {
    std::ofstream(m_data_dir + "/pg_hba.conf", std::ios::app) << "host all all samenet trust\n";
  }
  start();
}

void PostgresFixture::start() {
  if (m_running) return;
  auto argv = m_options.launcher;
  for (auto& word : as_postgres({pg_bin() + "pg_ctl", "-D", m_data_dir, "-l", m_data_dir + "/log", "-w", "-o",
                                 "-k " + m_socket_dir + " -c listen_addresses=" +
                                     (m_tcp_port ? m_options.listen_address : "") + " -c fsync=off -p " +
                                     std::to_string(m_port),
                                 "start"})) {
    argv.push_back(std::move(word));
  }
  auto started = run_command(argv);
  if (started.exit_code != 0) throw std::runtime_error("pg_ctl start failed: " + started.out);
  m_running = true;
}

PostgresFixture::~PostgresFixture() { stop(); }

void PostgresFixture::stop() {
  if (!m_running) return;
  run_command(as_postgres({pg_bin() + "pg_ctl", "-D", m_data_dir, "-m", "immediate", "-w", "stop"}));
  m_running = false;
}

std::string PostgresFixture::url(const std::string& dbname) const {
  return "host=" + m_socket_dir + " port=" + std::to_string(m_port) + " user=postgres dbname=" + dbname;
}

std::string PostgresFixture::tcp_url(const std::string& dbname, const std::string& host, std::uint16_t port) const {
  return "host=" + host + " port=" + std::to_string(port) + " user=postgres dbname=" + dbname;
}

void PostgresFixture::create_database(const std::string& name) { execute("CREATE DATABASE \"" + name + "\""); }

void PostgresFixture::execute(const std::string& sql, const std::string& dbname) {
  pqxx::connection connection(url(dbname));
  pqxx::nontransaction work(connection);
  work.exec(sql);
}

std::string PostgresFixture::query_value(const std::string& sql, const std::string& dbname) {
  pqxx::connection connection(url(dbname));
  pqxx::nontransaction work(connection);
  const auto rows = work.exec(sql);
  if (rows.empty() || rows[0][0].is_null()) return {};
  return rows[0][0].c_str();
}

std::string PostgresFixture::dump_schema(const std::string& dbname) {
  auto dump = run_command({"pg_dump", "--schema-only", "--no-owner", "-d", url(dbname)});
  if (dump.exit_code != 0) throw std::runtime_error("pg_dump failed: " + dump.out);
  return dump.out;
}

const std::string& pg_bin() {
  static const std::string folder = [] {
    int newest = 0;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", error)) {
      const std::string version = entry.path().filename().string();
      if (version.empty() || version.find_first_not_of("0123456789") != std::string::npos || version.size() > 4) continue;
      if (!std::filesystem::exists(entry.path() / "bin" / "initdb")) continue;
      newest = std::max(newest, std::stoi(version));
    }
    if (newest == 0) throw std::runtime_error("no PostgreSQL server here: /usr/lib/postgresql/N/bin/initdb is missing");
    return "/usr/lib/postgresql/" + std::to_string(newest) + "/bin/";
  }();
  return folder;
}

}  // namespace lbctl::test
