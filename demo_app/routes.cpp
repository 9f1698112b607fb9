#include "demo_app/routes.hpp"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <optional>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include "core/json_text.hpp"

namespace lbctl::demo_app {

namespace {

std::string json_string(std::string_view text) {
  std::string out;
  lbctl::append_json_string(out, text);
  return out;
}

// The value of `key` in a query string "a=1&ms=300", or nothing.
std::optional<std::string_view> query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == key) return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

enum class ReadResult { ok, absent, failed };

ReadResult read_whole_file(const std::filesystem::path& path, std::string& content, std::string& problem) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return ReadResult::absent;
    problem = std::strerror(errno);
    return ReadResult::failed;
  }
  char buffer[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      problem = std::strerror(errno);
      ::close(fd);
      return ReadResult::failed;
    }
    content.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return ReadResult::ok;
}

}  // namespace

Route find_route(std::string_view target, const AppOptions& options) {
  const auto question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query = question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);

  if (path.size() == options.health_file.size() + 1 && path.front() == '/' && path.substr(1) == options.health_file)
    return {Endpoint::health_file, {}, {}};
  if (path == "/version") return {Endpoint::version, {}, {}};
  if (path == "/health/db") return {Endpoint::database, {}, {}};
  if (path == "/slow") {
    const auto text = query_value(query, "ms");
    long ms = -1;
    if (text && !text->empty()) {
      const auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), ms);
      if (ec != std::errc() || ptr != text->data() + text->size()) ms = -1;
    }
    if (ms < 0 || ms > k_max_slow.count())
      return {Endpoint::bad_request, {}, "/slow needs ms=N, a number of milliseconds from 0 to " + std::to_string(k_max_slow.count())};
    return {Endpoint::slow, std::chrono::milliseconds(ms), {}};
  }
  return {Endpoint::other, {}, {}};
}

Reply health_file_reply(const AppOptions& options) {
  std::string content;
  std::string problem;
  switch (read_whole_file(options.dir / options.health_file, content, problem)) {
    case ReadResult::ok: {
      const bool html = options.health_file.ends_with(".html") || options.health_file.ends_with(".htm");
      return {200, html ? "text/html" : "text/plain", std::move(content)};
    }
    case ReadResult::absent:
      return {404, "text/plain", options.health_file + " not found"};
    case ReadResult::failed:
      break;
  }
  return {500, "text/plain", "cannot read " + options.health_file + ": " + problem};
}

Reply version_reply(const AppOptions& options) {
  return {200, "application/json", "{\"name\": " + json_string(options.name) + ", \"version\": " + json_string(options.version) + "}"};
}

Reply database_reply(const DatabaseVerdict& verdict) {
  if (verdict.ok) return {200, "text/plain", "ok"};
  return {503, "text/plain", verdict.reason};
}

Reply slow_reply(std::chrono::milliseconds held) { return {200, "text/plain", "held " + std::to_string(held.count()) + " ms"}; }

Reply other_reply(const AppOptions& options) { return {options.status, "text/plain", options.name + " " + options.version}; }

Reply injected_error_reply(const AppOptions& options) {
  return {500, "text/plain", options.name + " " + options.version + ": injected error (--error-percent)"};
}

bool ErrorSchedule::next_fails() {
  if (m_share == 0) return false;
  m_count = (m_count + 1) % k_whole;
  return m_count * m_share % k_whole < m_share;
}

}  // namespace lbctl::demo_app
