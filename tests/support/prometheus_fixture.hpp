#pragma once
// A real Prometheus (Debian's /usr/bin/prometheus) on a free loopback port,
// its TSDB in a temp dir, scraping the given targets every second from a
// config file the fixture writes; stopped when the fixture goes away.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace lbctl::test {

struct PrometheusOptions {
  // "127.0.0.1:PORT" of each exporter (e.g. HAProxy's prometheus-exporter service).
  std::vector<std::string> targets{};
  std::string metrics_path = "/metrics";
  std::string scrape_interval = "1s";
  std::string binary = "/usr/bin/prometheus";
};

class PrometheusFixture {
 public:
  // Starts Prometheus and returns once /-/ready answers 200; throws when it does not.
  explicit PrometheusFixture(PrometheusOptions options);
  ~PrometheusFixture();
  PrometheusFixture(const PrometheusFixture&) = delete;
  PrometheusFixture& operator=(const PrometheusFixture&) = delete;

  std::uint16_t port() const { return m_port; }
  // "http://127.0.0.1:PORT", the base URL a `prometheus:` metric names.
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  // /api/v1/query?query=PROMQL now: the HTTP status and the JSON body.
  HttpReply query(const std::string& promql) const;
  // The value of a query's single sample; NaN when the answer is not exactly
  // one sample (an error, no series, several).
  double query_value(const std::string& promql) const;
  // Waits until every target's last scrape succeeded (`up` is 1 for each).
  bool wait_for_targets(std::chrono::milliseconds timeout);
  // Everything Prometheus printed.
  std::string log() const;

 private:
  PrometheusOptions m_options;
  TempDir m_dir;
  std::uint16_t m_port = 0;
  std::unique_ptr<ChildProcess> m_process;
};

}  // namespace lbctl::test
