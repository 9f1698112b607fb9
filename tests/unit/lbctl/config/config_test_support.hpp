#pragma once
// Helpers for the config tests: the message a config text fails with, a
// minimal valid config to append to, and a scoped environment variable.

#include <cstdlib>
#include <optional>
#include <regex>
#include <sstream>
#include <string>

#include "lbctl/config/config.hpp"

namespace lbctl::test {

// The smallest valid config: 7 lines, so text appended to it starts on line 8.
// Its state URL carries a password, so tests can check it is never echoed.
inline const std::string k_minimal_config = R"(service: shop
state: {database_url: "postgres://lbctl:SECRET@db/lbctl"}
load_balancers:
  - {name: lb1, runtime_api: "unix:/run/haproxy/admin.sock", backend: app}
provider:
  type: static
  servers: [{name: v2-1, address: "127.0.0.1:8201"}]
)";

// The first two lines of k_minimal_config, for tests that write the rest
// (load_balancers, provider) themselves: their text starts on line 3.
inline const std::string k_config_head = R"(service: shop
state: {database_url: "postgres://lbctl:SECRET@db/lbctl"}
)";

inline const std::string k_one_lb = R"(load_balancers:
  - {name: lb1, runtime_api: "unix:/run/haproxy/admin.sock", backend: app}
)";

// A static provider of one server, 3 lines.
inline const std::string k_static_provider = R"(provider:
  type: static
  servers: [{name: v2-1, address: "127.0.0.1:8201"}]
)";

// What parse_config throws for `text` read as "shop.yaml"; "(loaded)" when it loads.
inline std::string config_error(const std::string& text) {
  try {
    parse_config(text, "shop.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(loaded)";
}

// configs/example.yaml shows its optional sections commented out, after a
// "# ---- Optional sections" line: this uncomments every line there that is
// "# " followed by a key or by indentation, leaving prose comments alone.
inline std::string uncomment_optional_sections(const std::string& example) {
  static const std::regex k_config_line("^# ( |[a-z_][a-z0-9_]*:)");
  std::istringstream in(example);
  std::string out;
  std::string line;
  bool optional_part = false;
  while (std::getline(in, line)) {
    if (line.starts_with("# ---- Optional sections")) optional_part = true;
    if (optional_part && std::regex_search(line, k_config_line)) line = line.substr(2);
    out += line + "\n";
  }
  return out;
}

// Sets (or, with nullopt, removes) an environment variable for one test and
// puts the old value back after.
class ScopedEnv {
 public:
  ScopedEnv(const char* variable, std::optional<std::string> value) : m_variable(variable) {
    if (const char* old = std::getenv(variable)) m_old = old;
    if (value) ::setenv(variable, value->c_str(), 1);
    else ::unsetenv(variable);
  }
  ~ScopedEnv() {
    if (m_old) ::setenv(m_variable, m_old->c_str(), 1);
    else ::unsetenv(m_variable);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* m_variable;
  std::optional<std::string> m_old;
};

// Neither URL override is set, whatever the caller's environment holds.
struct NoUrlOverrides {
  ScopedEnv state{"LBCTL_STATE_DATABASE_URL", std::nullopt};
  ScopedEnv migrations{"LBCTL_MIGRATIONS_DATABASE_URL", std::nullopt};
};

}  // namespace lbctl::test
