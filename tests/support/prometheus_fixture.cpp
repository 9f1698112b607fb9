#include "tests/support/prometheus_fixture.hpp"

#include <cctype>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace lbctl::test {

using namespace std::chrono_literals;

namespace {

std::string url_encode(const std::string& text) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 15];
    }
  }
  return out;
}

std::string config_text(const PrometheusOptions& options) {
  std::ostringstream yaml;
  yaml << "global:\n  scrape_interval: " << options.scrape_interval << "\n  scrape_timeout: " << options.scrape_interval
       << "\n  evaluation_interval: " << options.scrape_interval << "\n"
       << "scrape_configs:\n  - job_name: haproxy\n    metrics_path: " << options.metrics_path
       << "\n    static_configs:\n      - targets: [";
  for (std::size_t i = 0; i < options.targets.size(); ++i) yaml << (i ? ", " : "") << "\"" << options.targets[i] << "\"";
  yaml << "]\n";
  return yaml.str();
}

}  // namespace

PrometheusFixture::PrometheusFixture(PrometheusOptions options) : m_options(std::move(options)) {
  const auto config = m_dir.write("prometheus.yml", config_text(m_options));
  // free_port can race with another process taking the same port: Prometheus
  // then exits at once, and we try another one.
  for (int attempt = 0; attempt < 3; ++attempt) {
    m_port = free_port();
    const auto data = m_dir / ("data-" + std::to_string(attempt));
    m_process = std::make_unique<ChildProcess>(
        std::vector<std::string>{m_options.binary, "--config.file=" + config.string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(m_port),
                                 "--storage.tsdb.path=" + data.string(), "--storage.tsdb.retention.time=1h",
                                 "--log.level=warn"},
        m_dir / "prometheus.log");
    bool ready = false;
    eventually(
        [&] {
          if (!m_process->running()) return true;
          ready = http_get(m_port, "/-/ready", 1s).status == 200;
          return ready;
        },
        30s);
    if (ready && m_process->running()) return;
    m_process->stop(2s);
    m_process.reset();
  }
  throw std::runtime_error("prometheus did not start: " + log());
}

PrometheusFixture::~PrometheusFixture() {
  if (m_process) m_process->stop(5s);
}

HttpReply PrometheusFixture::query(const std::string& promql) const {
  return http_get(m_port, "/api/v1/query?query=" + url_encode(promql), 5s);
}

double PrometheusFixture::query_value(const std::string& promql) const {
  const auto reply = query(promql);
  const auto answer = nlohmann::json::parse(reply.body, nullptr, false);
  const double none = std::numeric_limits<double>::quiet_NaN();
  if (reply.status != 200 || !answer.is_object() || answer.value("status", "") != "success") return none;
  const auto& result = answer["data"]["result"];
  if (!result.is_array() || result.size() != 1) return none;
  const auto& value = result[0]["value"];
  if (!value.is_array() || value.size() != 2 || !value[1].is_string()) return none;
  return std::stod(value[1].get<std::string>());
}

bool PrometheusFixture::wait_for_targets(std::chrono::milliseconds timeout) {
  const auto wanted = static_cast<double>(m_options.targets.size());
  return eventually([&] { return query_value("sum(up)") == wanted; }, timeout);
}

std::string PrometheusFixture::log() const { return read_file(m_dir / "prometheus.log"); }

}  // namespace lbctl::test
