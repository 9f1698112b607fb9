// The config loader (lbctl/config*.cpp over yaml-cpp): the file a user
// writes. Its promise: any text either loads or throws ConfigError; no other
// exception escapes, and what loads can be summarized and warned about.

#include "lbctl/config/config.hpp"
#include "tests/fuzz/fuzz.hpp"

LBCTL_FUZZ_TARGET(config) {
  try {
    // A folder that does not exist: relative paths resolve against it and
    // nothing on this machine is read.
    const auto config = lbctl::parse_config(std::string(input), "/nonexistent/lbctl-fuzz/lbctl.yaml");
    LBCTL_FUZZ_CHECK(!config.service.empty());
    LBCTL_FUZZ_CHECK(!config.load_balancers.empty());
    (void)lbctl::summarize(config);
    (void)lbctl::config_warnings(config);
  } catch (const lbctl::ConfigError& e) {
    LBCTL_FUZZ_CHECK(std::string_view(e.what()).size() > 0);
  }
}
