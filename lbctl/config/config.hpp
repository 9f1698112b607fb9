#pragma once
// The config file as plain structs. load_config() reads and validates the
// YAML; every field here has been checked by the time a caller sees it.
// configs/example.yaml documents every key.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/duration.hpp"
#include "health/policy.hpp"
#include "pools/runtime_api_endpoint.hpp"

namespace lbctl {

// Thrown by load_config for any bad input; what() is
// "FILE:LINE:COLUMN: what is wrong" (LINE and COLUMN 1-based). main maps it
// to exit code 2.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// unix:, tcp:, ssh:// or tls:// (pools/runtime_api_endpoint.hpp).
using RuntimeApiAddress = pools::RuntimeApiEndpoint;

// Where an LB's configuration lives, so that what lbctl changes at runtime
// survives a reload: the `server` lines of the backend's section (and the
// maintenance map) are rewritten after every batch of runtime commands.
struct PersistConfig {
  // The file holding the backend's section. Alone: a local file, rewritten in
  // place (atomically). With read/write: its path on the LB's host, for {file}.
  std::filesystem::path file;
  std::vector<std::string> read;   // prints the file (an LB on another host); {file}
  std::vector<std::string> write;  // takes the new file on stdin; {file}
  std::vector<std::string> check;  // validates the new text, in a temporary {file}, before it replaces the old
  Duration timeout{30000};         // per read, write or check command

  bool remote() const { return !read.empty(); }
  // read/write can also carry the maintenance map (they name {file}).
  bool carries_any_file() const;
};

struct LoadBalancerConfig {
  std::string name;
  RuntimeApiAddress runtime_api;
  std::optional<RuntimeApiAddress> master_api;  // HAProxy's master CLI: reloads' old workers
  // tcp: to an address that is not loopback: plain text, no authentication.
  bool insecure_tcp = false;
  std::string backend;
  Duration timeout{5000};  // per runtime API exchange (connect + answer)
  // An LB that does not answer is retried this long before a step fails.
  Duration unreachable_timeout{30000};
  std::optional<PersistConfig> persist;
};

struct ServerEntry {
  std::string name;
  std::string address;  // HOST:PORT
};

struct OldPoolConfig {
  bool discover = true;              // the backend's current servers (from the first LB)
  std::vector<ServerEntry> servers;  // when discover is false
  // Servers discovery leaves out (and lbctl never touches): names or globs
  // (`*`, `?`). `backup` servers are always left out.
  std::vector<std::string> exclude;
};

// The release placeholder, and its expansion in a name prefix.
inline constexpr std::string_view k_release_placeholder = "{release}";
std::string expand_release(std::string_view text, std::string_view release);

struct NewPoolConfig {
  std::optional<int> count;  // nullopt = match_old
  // May hold {release}: each release's servers then have names of their own,
  // so the same config runs release after release.
  std::string name_prefix = "{release}-";
  std::string server_options = "check inter 1s fall 2 rise 2";
  // Each new server's persistence cookie (`cookie VALUE` on `add server`,
  // HAProxy 3.0 and later): a rule holding {name}, e.g. "{name}". Empty: none.
  std::string cookie;
};

// A new server's cookie under `rule` (new_pool.cookie): {name} replaced by
// the server's name; empty when the rule is.
std::string cookie_of(std::string_view rule, std::string_view server_name);

struct ProviderConfig {
  enum class Type { local, exec, static_ };
  Type type = Type::local;
  // local
  std::vector<std::string> command;  // placeholders {port} {dir} {name} {host}
  // The address new servers listen on and the LBs reach them at: loopback
  // when the LBs are on this host, this host's address when they are not.
  std::string host = "127.0.0.1";
  std::uint16_t port_min = 18300;
  std::uint16_t port_max = 18399;
  std::filesystem::path base_dir;
  std::string health_file = "health-check.html";
  Duration start_timeout{10000};  // until the new process's port accepts connections
  Duration stop_grace{5000};      // SIGTERM, then SIGKILL after this
  // exec (and the optional commands of static); empty = not given
  std::vector<std::string> clone;
  std::vector<std::string> terminate;
  std::vector<std::string> remove_health_file;
  std::vector<std::string> restore_health_file;
  std::vector<std::string> freeze_scaling;
  std::vector<std::string> unfreeze_scaling;
  Duration timeout{60000};  // per exec command
  // static
  std::vector<ServerEntry> servers;
};

// The `health` section is the health checker's policy itself: what it
// parses is what verify() and `lbctl check` use.
using HealthConfig = health::CheckPolicy;

struct DrainConfig {
  enum class Method { health_file, haproxy };
  enum class OnTimeout { abort, force };
  Method method = Method::health_file;
  Duration poll{1000};
  Duration timeout{1800000};
  OnTimeout on_timeout = OnTimeout::abort;
  // Sticky users (a persistence cookie, a stick table): an old server is
  // drained only once no session went to it for this long on every LB (and no
  // stick-table entry points at it). 0: off, drained at no session.
  Duration idle{0};

  // How often a wait other than the drain's own (servers UP, deleted, in a
  // state; a pause) reads the LBs: drain.poll, at most a second, so a long
  // drain poll never slows an attach or a rollback.
  Duration wait_poll() const { return poll < Duration{1000} ? poll : Duration{1000}; }
};

struct BackupConfig {
  // placeholders {backup_dir} {service} {cutover_id} {database_url} {timestamp}
  std::vector<std::string> command;
  std::filesystem::path dir;
};

struct MigrationsConfig {
  std::string database_url;  // LBCTL_MIGRATIONS_DATABASE_URL overrides
  std::filesystem::path dir;  // holds pre/ and post/
  Duration lock_timeout{2000};
  Duration lock_wait{60000};  // how long to poll for the migration run lock
  int max_retries = 5;        // on 55P03 / 40P01, with backoff
  std::optional<BackupConfig> backup;
};

struct StageConfig {
  int weight_percent = 100;  // 1-100: the new pool's share of the backend's weight
  Duration hold{0};
  std::optional<double> max_5xx_ratio;  // 0-1
};

struct HookCommand {
  std::vector<std::string> argv;
  Duration timeout{60000};
};

struct HooksConfig {
  std::optional<HookCommand> before_attach;
  std::optional<HookCommand> after_attach;
  std::optional<HookCommand> before_drain;
  std::optional<HookCommand> after_detach;
  std::optional<HookCommand> after_post_migrate;
  std::optional<HookCommand> after_cutover;
  std::optional<HookCommand> on_rollback;
};

struct WebhookConfig {
  std::string url;                  // a secret: never printed whole
  std::vector<std::string> events;  // started, step, promotion, failed, rolled_back, completed; empty = all
  Duration timeout{5000};
};

struct NotificationsConfig {
  std::vector<WebhookConfig> webhooks;
};

struct MaintenanceConfig {
  std::string map;  // the map file's path as HAProxy knows it
  std::string message = "Down for maintenance";  // for a maintenance-mode cutover
  std::optional<Duration> duration;               // expected length shown on the page
};

enum class CutoverMode { blue_green, maintenance };

// One metric of the analysis (`analysis.metrics[]`): from HAProxy's counters
// (the new pool against the old one), a Prometheus query, or a command.
struct AnalysisMetric {
  enum class Source { haproxy, prometheus, command };
  Source source = Source::haproxy;
  std::string haproxy = {};               // error_ratio | response_time
  std::string url = {};                   // prometheus: http://HOST:PORT (its HTTP API)
  std::string query = {};                 // prometheus: PromQL giving one number
  std::vector<std::string> command = {};  // argv; {release} {service} {cutover_id}
  Duration timeout{30000};                // prometheus and command
  std::optional<double> max = {};
  std::optional<double> min = {};
  std::optional<double> max_vs_old = {};  // haproxy: at most this multiple of the old pool's value
  // haproxy: max_vs_old never fails a value under it (whole-ms times, rare
  // errors); 5 (ms) for response_time, 0.001 for error_ratio.
  double floor = 0;

  // "error_ratio", "prometheus", "command": how messages name it.
  std::string name() const;
};

struct AnalysisConfig {
  Duration interval{10000};  // one measurement per interval
  int failure_limit = 1;     // failed measurements in a row before the verdict is fail
  std::uint64_t min_requests = 50;  // fewer new-pool responses in an interval: inconclusive
  enum class OnInconclusive { pass, fail };
  OnInconclusive on_inconclusive = OnInconclusive::fail;  // a stage's hold with no conclusive measurement
  std::vector<AnalysisMetric> metrics;
};

// The promotion gate and the undo window (section `promotion`).
struct PromotionConfig {
  enum class Mode { automatic, manual };
  // manual: the cutover pauses after attach (and the stages), both pools
  // serving, until `lbctl promote`, `lbctl abort` or a timer.
  Mode mode = Mode::automatic;
  Duration auto_promote_after{0};  // manual only; 0: never
  Duration auto_abort_after{0};    // manual only; 0: never
  // After detach the old servers stay running and ready this long, and
  // `lbctl undo` puts them back; post-migrations and terminate wait. 0: none.
  Duration undo_window{0};

  bool manual() const { return mode == Mode::manual; }
};

struct Config {
  std::filesystem::path file;  // where it was read from
  std::string service;
  // What a cutover deploys (`release:`; `--release` wins); "" = r<cutover id>.
  std::string release;
  std::string state_database_url;  // LBCTL_STATE_DATABASE_URL overrides
  // How long a cutover rides out the state database being out of reach
  // (reconnecting, the lock taken again) before it stops for an operator.
  Duration state_reconnect_timeout{60000};
  // How soon a connection to the state database that stopped answering (a
  // partition, a dead switch: no reset) is an error: libpq's keepalives and
  // tcp_user_timeout on both connections.
  Duration state_partition_timeout{10000};
  // A cutover's runner changes no LB unless its last confirmed heartbeat is
  // younger than this; another lbctl takes a cutover over only once its
  // heartbeat is older. The server frees a silent runner's lock only after
  // lease + 10 s, so the runner has stopped before anyone can take over.
  Duration state_lease{15000};
  std::vector<LoadBalancerConfig> load_balancers;
  OldPoolConfig old_pool;
  NewPoolConfig new_pool;
  ProviderConfig provider;
  HealthConfig health;
  DrainConfig drain;
  std::optional<MigrationsConfig> migrations;
  Duration terminate_delay{0};
  int min_healthy = 1;
  CutoverMode mode = CutoverMode::blue_green;
  std::vector<StageConfig> stages;
  PromotionConfig promotion;
  std::optional<AnalysisConfig> analysis;
  HooksConfig hooks;
  NotificationsConfig notifications;
  std::optional<MaintenanceConfig> maintenance;
};

// The names each enum of the config is written with ("blue_green",
// "health_file", ...), one table each (config_names.cpp).
std::string_view to_string(CutoverMode mode);
std::string_view to_string(ProviderConfig::Type type);
std::string_view to_string(DrainConfig::Method method);
std::string_view to_string(DrainConfig::OnTimeout action);
std::string_view to_string(PromotionConfig::Mode mode);  // "auto", "manual"
std::optional<CutoverMode> parse_mode(std::string_view text);
std::optional<ProviderConfig::Type> parse_provider_type(std::string_view text);
std::optional<DrainConfig::Method> parse_drain_method(std::string_view text);
std::optional<DrainConfig::OnTimeout> parse_on_timeout(std::string_view text);
std::optional<PromotionConfig::Mode> parse_promotion_mode(std::string_view text);

// Reads and validates `file`; throws ConfigError.
Config load_config(const std::filesystem::path& file);

// The same, from text (tests); `file` only names it in messages and anchors
// relative paths.
Config parse_config(const std::string& yaml_text, const std::filesystem::path& file);

// What lbctl cannot do or see with this config (no persist: a reload undoes
// a cutover; no master_api: a reload's old workers are not seen), each once,
// for validate, plan and cutover to say.
std::vector<std::string> config_warnings(const Config& config);

// One line: "shop: 2 load balancers (lb1, lb2), backend app, provider local, drain health_file".
std::string summarize(const Config& config);

}  // namespace lbctl
