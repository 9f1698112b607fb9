// lbctl-app: the app server the demo and the tests put behind HAProxy.

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <sys/resource.h>
#include <vector>

#include "demo_app/options.hpp"
#include "demo_app/server.hpp"

namespace {

// A load test opens a thousand connections at once; the default soft limit is often 1024.
void raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace lbctl::demo_app;
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  const auto parsed = parse_command_line(args, std::getenv(std::string(k_database_url_env).c_str()));
  if (!parsed) {
    std::fprintf(stderr, "lbctl-app: %s\n%s", parsed.error().c_str(), usage().c_str());
    return 2;
  }
  if (!parsed->options) {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }
  std::signal(SIGPIPE, SIG_IGN);
  raise_open_file_limit();
  try {
    Server server(*parsed->options);
    return server.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lbctl-app: %s\n", e.what());
    return 1;
  }
}
