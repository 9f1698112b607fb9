// `lbctl validate -c FILE` run as a program: exit 0 and a summary on stdout for
// a good config; exit 2, nothing on stdout and FILE:LINE:COLUMN on stderr for a
// bad one.

#include "tests/support/catch.hpp"

#include <nlohmann/json.hpp>

#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/lbctl/config/config_test_support.hpp"

using namespace lbctl::test;
using namespace std::chrono_literals;

namespace {

const std::string k_example = std::string(LBCTL_SOURCE_DIR) + "/configs/example.yaml";

struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the real lbctl with `args` in the folder `cwd`, with the environment
// assignments ("NAME=value") given, keeping stdout and stderr apart.
Run run_lbctl(const TempDir& dir, const std::vector<std::string>& args, const std::vector<std::string>& env = {},
              const std::string& cwd = "/") {
  const std::string err_file = (dir / "lbctl.stderr").string();
  std::vector<std::string> argv = {"sh", "-c", "cd \"$1\" && shift && exec env \"$@\" 2>\"$0\"", err_file, cwd};
  argv.insert(argv.end(), env.begin(), env.end());
  argv.push_back(LBCTL_BINARY);
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandOutput result = run_command(argv, 60s);
  return {result.exit_code, result.out, read_file(err_file)};
}

}  // namespace

TEST_CASE("lbctl validate accepts the reference example and prints its summary", "[integration][config]") {
  TempDir dir;
  const Run run = run_lbctl(dir, {"validate", "-c", k_example}, {"-u", "LBCTL_STATE_DATABASE_URL"});
  CHECK(run.exit_code == 0);
  CHECK(run.out == "ok: shop: 4 load balancers (lb1 app, lb2 app, lb3 app, lb4 app), old pool discovered, new pool match_old x {release}-, "
                   "provider local, drain health_file, migrations on\n");
  CHECK(run.err.empty());
}

TEST_CASE("lbctl validate accepts the example with every optional section uncommented", "[integration][config]") {
  TempDir dir;
  const auto file = dir.write("full.yaml", uncomment_optional_sections(read_file(k_example)));
  const Run run = run_lbctl(dir, {"validate", "-c", file.string()});
  CHECK(run.exit_code == 0);
  INFO(run.out);
  CHECK(run.out.ends_with("migrations on, 2 stages, manual promotion, 7 hooks, 1 webhook, maintenance map set\n"));
  CHECK(run.out.find("hooks.example.com") == std::string::npos);
}

TEST_CASE("lbctl validate exits 2 with FILE:LINE:COLUMN and the key for each kind of bad config", "[integration][config]") {
  struct Case {
    std::string yaml;
    std::string position_and_key;  // what stderr starts with, after "FILE:"
  };
  const std::vector<Case> cases = {
      {k_minimal_config + "health: rise: 2\n", "8:13: malformed YAML"},
      {k_minimal_config + "helth: {}\n", "8:1: helth: unknown key"},
      {k_minimal_config + "stages: [{weight_percent: 10, hodl: 1m}]\n", "8:31: stages[0].hodl: unknown key"},
      {k_minimal_config + "health: {path: {a: 1}}\n", "8:16: health.path: expected text, got a map"},
      {k_minimal_config + "drain: {poll: 5}\n", "8:15: drain.poll: expected a duration"},
      {k_minimal_config + "new_pool: {name_prefix: \"v2;\"}\n", "8:25: new_pool.name_prefix: \"v2;\" is not a valid name"},
      {k_config_head + k_static_provider + "load_balancers:\n  - {name: lb1, runtime_api: \"tcp:h:0\", backend: app}\n",
       "7:30: load_balancers[0].runtime_api: \"tcp:h:0\" is not tcp:HOST:PORT"},
      {k_config_head + k_static_provider + "load_balancers:\n  - {name: lb1, runtime_api: \"unix:/a\", backend: app}\n"
                                           "  - {name: lb1, runtime_api: \"unix:/b\", backend: app}\n",
       "8:12: load_balancers[1].name: \"lb1\" is already the name of load_balancers[0]"},
      {k_config_head + k_static_provider + "load_balancers: []\n", "6:17: load_balancers: no load balancers"},
      {k_minimal_config + "new_pool: {count: some}\n", "8:19: new_pool.count: expected match_old or a positive integer"},
      {k_minimal_config + "drain: {method: sigterm}\n", "8:17: drain.method: \"sigterm\" is not a drain method"},
      {k_config_head + k_one_lb + "provider: {type: cloud}\n", "5:18: provider.type: \"cloud\" is not a provider type"},
      {k_minimal_config + "drain: {on_timeout: wait}\n", "8:21: drain.on_timeout: \"wait\" is not an on_timeout action"},
      {k_minimal_config + "mode: maintenance\n", "8:7: mode: maintenance needs the maintenance section"},
  };
  TempDir dir;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto file = dir.write("bad" + std::to_string(i) + ".yaml", cases[i].yaml);
    const Run run = run_lbctl(dir, {"validate", "-c", file.string()});
    INFO("case " << i << ": " << cases[i].position_and_key);
    CHECK(run.exit_code == 2);
    CHECK(run.out.empty());
    CHECK(run.err.starts_with(file.string() + ":" + cases[i].position_and_key));
  }
}

TEST_CASE("lbctl validate names the file as it was given on the command line", "[integration][config]") {
  TempDir dir;
  dir.write("conf/shop.yaml", k_minimal_config + "mode: canary\n");
  const Run run = run_lbctl(dir, {"validate", "-c", "conf/shop.yaml"}, {}, dir.path().string());
  CHECK(run.exit_code == 2);
  CHECK(run.err == "conf/shop.yaml:8:7: mode: \"canary\" is not a mode; expected blue_green or maintenance\n");
}

TEST_CASE("lbctl validate of a missing file exits 2 and says it cannot be read", "[integration][config]") {
  TempDir dir;
  const std::string missing = (dir / "missing.yaml").string();
  const Run run = run_lbctl(dir, {"validate", "-c", missing});
  CHECK(run.exit_code == 2);
  CHECK(run.out.empty());
  CHECK(run.err == missing + ": cannot read the config file: No such file or directory\n");
}

TEST_CASE("lbctl validate without -c, LBCTL_CONFIG or ./lbctl.yaml is a usage error naming all three", "[integration][config]") {
  TempDir dir;
  const Run run = run_lbctl(dir, {"validate"}, {"-u", "LBCTL_CONFIG"}, dir.path().string());
  CHECK(run.exit_code == 2);
  CHECK(run.out.empty());
  CHECK(run.err == "lbctl validate: no config file: give -c FILE, set LBCTL_CONFIG, or put lbctl.yaml in the current "
                   "folder\n");
}

TEST_CASE("lbctl validate without -c reads LBCTL_CONFIG and says so on stderr", "[integration][config]") {
  TempDir dir;
  const auto file = dir.write("shop.yaml", k_minimal_config);
  dir.write("lbctl.yaml", "not: this one\n");
  const Run run = run_lbctl(dir, {"validate", "--json"}, {"LBCTL_CONFIG=" + file.string()}, dir.path().string());
  CHECK(run.exit_code == 0);
  CHECK(nlohmann::json::parse(run.out)["ok"] == true);
  // The first line; the minimal config's warnings (no persist, no master_api) follow.
  CHECK(run.err.starts_with("lbctl: using config " + file.string() + " (from LBCTL_CONFIG)\n"));
}

TEST_CASE("lbctl validate without -c or LBCTL_CONFIG reads ./lbctl.yaml and says so", "[integration][config]") {
  TempDir dir;
  dir.write("lbctl.yaml", k_minimal_config);
  const Run run = run_lbctl(dir, {"validate"}, {"-u", "LBCTL_CONFIG"}, dir.path().string());
  CHECK(run.exit_code == 0);
  CHECK(run.out.starts_with("ok: shop: 1 load balancer (lb1 app)"));
  CHECK(run.err.starts_with("lbctl: using config ./lbctl.yaml (found in the current folder)\n"));
}

TEST_CASE("lbctl validate takes the state URL from LBCTL_STATE_DATABASE_URL and never prints it", "[integration][config]") {
  TempDir dir;
  const std::string without_state = "service: shop\n" + k_minimal_config.substr(k_minimal_config.find("load_balancers"));
  const auto file = dir.write("shop.yaml", without_state);
  const Run refused = run_lbctl(dir, {"validate", "-c", file.string()}, {"-u", "LBCTL_STATE_DATABASE_URL"});
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.starts_with(file.string() + ":1:1: state.database_url: missing"));
  const Run accepted =
      run_lbctl(dir, {"validate", "-c", file.string()}, {"LBCTL_STATE_DATABASE_URL=postgres://lbctl:ENVSECRET@db/lbctl"});
  CHECK(accepted.exit_code == 0);
  CHECK(accepted.out.starts_with("ok: shop: 1 load balancer (lb1 app)"));
  CHECK(accepted.out.find("ENVSECRET") == std::string::npos);
}

TEST_CASE("lbctl validate never prints a secret from a bad config", "[integration][config]") {
  TempDir dir;
  const auto file = dir.write("shop.yaml", k_minimal_config + "notifications:\n  webhooks:\n"
                                                              "    - url: \"hooks.example.com/WEBHOOKSECRET\"\n");
  const Run run = run_lbctl(dir, {"validate", "-c", file.string()});
  CHECK(run.exit_code == 2);
  CHECK(run.err.starts_with(file.string() + ":10:12: notifications.webhooks[0].url: is not an http:// or https:// URL"));
  CHECK(run.err.find("WEBHOOKSECRET") == std::string::npos);
  CHECK(run.err.find("SECRET@db") == std::string::npos);
}

TEST_CASE("lbctl validate --json prints one JSON object for a good and for a bad config", "[integration][config]") {
  TempDir dir;
  const Run good = run_lbctl(dir, {"validate", "-c", k_example, "--json"}, {"-u", "LBCTL_STATE_DATABASE_URL"});
  CHECK(good.exit_code == 0);
  const auto good_json = nlohmann::json::parse(good.out);
  CHECK(good_json["ok"] == true);
  CHECK(good_json["service"] == "shop");
  CHECK(good_json["summary"].get<std::string>().starts_with("shop: 4 load balancers"));

  const auto file = dir.write("bad.yaml", k_minimal_config + "mode: canary\n");
  const Run bad = run_lbctl(dir, {"validate", "-c", file.string(), "--json"});
  CHECK(bad.exit_code == 2);
  const auto bad_json = nlohmann::json::parse(bad.out);
  CHECK(bad_json["ok"] == false);
  CHECK(bad_json["error"] == file.string() + ":8:7: mode: \"canary\" is not a mode; expected blue_green or maintenance");
}

TEST_CASE("lbctl rollback is lbctl abort by the name DESIGN.md also gives it", "[integration][cli]") {
  TempDir dir;
  const std::string missing = (dir / "missing.yaml").string();
  const Run abort = run_lbctl(dir, {"abort", "-c", missing});
  const Run rollback = run_lbctl(dir, {"rollback", "-c", missing});
  const Run unknown = run_lbctl(dir, {"rollbak", "-c", missing});
  CHECK(abort.exit_code == 2);
  CHECK(abort.err == missing + ": cannot read the config file: No such file or directory\n");
  CHECK(rollback.exit_code == abort.exit_code);
  CHECK(rollback.err == abort.err);
  CHECK(unknown.err != abort.err);  // an unknown command is a usage error, not this
}

TEST_CASE("lbctl validate warns when a persisted backend keeps users and drain.idle is not set, never showing the "
          "cookie key",
          "[integration][config][sticky]") {
  TempDir dir;
  dir.write("haproxy.cfg",
            "global\n  stats socket /run/haproxy/admin.sock level admin\n"
            "backend app\n  balance roundrobin\n  cookie SRV insert indirect nocache dynamic\n"
            "  dynamic-cookie-key k3y-s3cret\n  stick-table type ip size 1m expire 30m\n  stick on src\n"
            "  server old-1 127.0.0.1:9001 check cookie old-1\n");
  const std::string lbs = "load_balancers:\n  - name: lb1\n    runtime_api: \"unix:/run/haproxy/admin.sock\"\n"
                          "    backend: app\n    persist: {file: " + (dir / "haproxy.cfg").string() + "}\n";
  const auto without = dir.write("without.yaml", k_config_head + lbs + k_static_provider);
  const Run warned = run_lbctl(dir, {"validate", "-c", without.string()});
  INFO(warned.err);
  CHECK(warned.exit_code == 0);
  CHECK_THAT(warned.err, Catch::Contains("warning: lb1: backend app keeps users on their server (" +
                                         (dir / "haproxy.cfg").string() +
                                         " says: cookie SRV insert indirect nocache dynamic; stick-table type ip size "
                                         "1m expire 30m; stick on src) and drain.idle is not set"));
  CHECK_THAT(warned.err, Catch::Contains("`lbctl plan` counts them"));
  CHECK(warned.err.find("k3y-s3cret") == std::string::npos);
  const auto with = dir.write("with.yaml", k_config_head + lbs + k_static_provider + "drain: {idle: 30s}\n");
  const Run quiet = run_lbctl(dir, {"validate", "-c", with.string()});
  CHECK(quiet.exit_code == 0);
  CHECK(quiet.err.find("drain.idle") == std::string::npos);
}
