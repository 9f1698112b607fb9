#include "tests/support/catch.hpp"

#include "core/clock.hpp"
#include "lbctl/cli/provider_setup.hpp"

using namespace lbctl;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

TEST_CASE("make_provider builds the provider type the config names", "[lbctl][provider_setup]") {
  PosixProcessRunner runner;
  SteadyClock clock;
  Config config;
  config.service = "shop";
  config.provider.type = ProviderConfig::Type::local;
  CHECK(make_provider(config, runner, clock)->kind() == "local");
  config.provider.type = ProviderConfig::Type::exec;
  CHECK(make_provider(config, runner, clock)->kind() == "exec");
  config.provider.type = ProviderConfig::Type::static_;
  CHECK(make_provider(config, runner, clock)->kind() == "static");
}

TEST_CASE("local provider options come from the provider section", "[lbctl][provider_setup]") {
  ProviderConfig provider;
  provider.command = {"serve", "{port}"};
  provider.port_min = 18400;
  provider.port_max = 18410;
  provider.base_dir = "/srv/servers";
  provider.health_file = "up.html";
  provider.start_timeout = 3s;
  provider.stop_grace = 0s;
  const auto options = to_local_options(provider);
  CHECK(options.command == Strings{"serve", "{port}"});
  CHECK(options.ports.min == 18400);
  CHECK(options.ports.max == 18410);
  CHECK(options.base_dir == "/srv/servers");
  CHECK(options.health_file == "up.html");
  CHECK(options.start_timeout == 3s);
  CHECK(options.stop_grace == 0s);
}

TEST_CASE("exec and static options carry the commands, timeout and service", "[lbctl][provider_setup]") {
  ProviderConfig provider;
  provider.clone = {"clone", "{names}"};
  provider.terminate = {"terminate", "{name}"};
  provider.remove_health_file = {"rm-hf", "{host}"};
  provider.restore_health_file = {"touch-hf", "{host}"};
  provider.freeze_scaling = {"freeze"};
  provider.unfreeze_scaling = {"unfreeze"};
  provider.timeout = 9s;
  provider.servers = {{"v2-1", "127.0.0.1:8201"}};
  const auto exec = to_exec_options(provider, "shop");
  CHECK(exec.service == "shop");
  CHECK(exec.clone == Strings{"clone", "{names}"});
  CHECK(exec.terminate == Strings{"terminate", "{name}"});
  CHECK(exec.remove_health_file == Strings{"rm-hf", "{host}"});
  CHECK(exec.restore_health_file == Strings{"touch-hf", "{host}"});
  CHECK(exec.freeze_scaling == Strings{"freeze"});
  CHECK(exec.unfreeze_scaling == Strings{"unfreeze"});
  CHECK(exec.timeout == 9s);
  const auto fixed = to_static_options(provider, "shop");
  CHECK(fixed.servers == std::vector<pools::Server>{{"v2-1", "127.0.0.1:8201"}});
  CHECK(fixed.commands.terminate == Strings{"terminate", "{name}"});
  CHECK(fixed.commands.clone.empty());
}
