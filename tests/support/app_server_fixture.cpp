#include "tests/support/app_server_fixture.hpp"

#include <fstream>
#include <stdexcept>

namespace lbctl::test {

using namespace std::chrono_literals;

namespace {

std::string app_binary() {
#ifdef LBCTL_APP_BINARY
  return LBCTL_APP_BINARY;
#else
  throw std::runtime_error("lbctl-app is not built (no demo_app target)");
#endif
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

std::vector<std::string> app_server_argv(const AppServerOptions& options, std::uint16_t port, const std::filesystem::path& dir) {
  std::vector<std::string> argv = {app_binary(),  "--port",    std::to_string(port), "--dir",         dir.string(),
                                   "--name",      options.name, "--version",         options.version, "--health-file",
                                   options.health_file, "--status", std::to_string(options.status)};
  if (!options.database_url.empty()) {
    argv.push_back("--db");
    argv.push_back(options.database_url);
  }
  argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
  return argv;
}

AppServerFixture::AppServerFixture(AppServerOptions options) : m_options(std::move(options)) {
  m_dir = m_options.dir.empty() ? m_temp.path() / "app" : m_options.dir;
  std::filesystem::create_directories(m_dir);
  if (m_options.create_health_file) restore_health_file();

  // free_port can race with another test taking the same port: the server then
  // fails to listen and exits, and we try another one.
  const int attempts = m_options.port == 0 ? 3 : 1;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    m_port = m_options.port != 0 ? m_options.port : free_port();
    m_process.emplace(app_server_argv(m_options, m_port, m_dir), m_temp / "lbctl-app.log");
    const std::string expected_name = "\"name\": \"" + m_options.name + "\"";
    bool answered = false;
    eventually(
        [&] {
          if (!m_process->running()) return true;
          const auto reply = http_get(m_port, "/version", 1s);
          answered = reply.status == 200 && reply.body.find(expected_name) != std::string::npos;
          return answered;
        },
        10s);
    if (answered && m_process->running()) return;
    m_process->stop(1s);
    m_process.reset();
  }
  throw std::runtime_error("lbctl-app did not start on 127.0.0.1:" + std::to_string(m_port) + ": " + log());
}

AppServerFixture::~AppServerFixture() { stop(); }

void AppServerFixture::remove_health_file() { std::filesystem::remove(health_file()); }

void AppServerFixture::restore_health_file() { write_text(health_file(), m_options.health_content); }

bool AppServerFixture::running() { return m_process && m_process->running(); }

pid_t AppServerFixture::pid() const { return m_process ? m_process->pid() : -1; }

void AppServerFixture::signal(int sig) {
  if (m_process) m_process->signal(sig);
}

int AppServerFixture::wait(std::chrono::milliseconds timeout) {
  if (m_exit_status) return *m_exit_status;
  if (!m_process) return -1;
  const int status = m_process->wait(timeout);
  if (status >= 0) m_exit_status = status;
  return status;
}

int AppServerFixture::stop(std::chrono::milliseconds grace) {
  if (m_exit_status || !m_process) {
    m_process.reset();
    return m_exit_status.value_or(-1);
  }
  m_exit_status = m_process->stop(grace);
  m_process.reset();
  return *m_exit_status;
}

std::string AppServerFixture::log() const {
  std::ifstream in(m_temp / "lbctl-app.log", std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace lbctl::test
