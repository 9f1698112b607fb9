// Whether a backend takes servers added at runtime. HAProxy adds them only to
// a backend with a dynamic algorithm: roundrobin, leastconn, first, random,
// or a hash with `hash-type consistent`. The algorithm shows at runtime, the
// hash type does not: the persisted file says it, else HAProxy is asked with
// a throwaway server (added in MAINT with no check, so it never takes a
// request, and deleted at once).

#include <fmt/format.h>

#include "pools/answer.hpp"
#include "pools/backend_file.hpp"
#include "pools/batch.hpp"
#include "pools/load_balancer.hpp"

namespace lbctl::pools {

namespace asio = boost::asio;

namespace {

// Built outside the coroutines: GCC 12 rejects some braced initialisers in a
// co_return ("array used as initializer").
LoadBalancer::DynamicServers told(std::optional<bool> takes, std::string why) {
  LoadBalancer::DynamicServers answer;
  answer.takes = takes;
  answer.why = std::move(why);
  return answer;
}

}  // namespace

bool LoadBalancer::is_hash_algorithm(std::string_view algo) {
  for (std::string_view hash : {"source", "uri", "url_param", "hdr", "rdp-cookie", "hash"}) {
    if (algo.starts_with(hash)) return true;
  }
  return false;
}

asio::awaitable<LoadBalancer::DynamicServers> LoadBalancer::dynamic_servers(std::string algo) {
  if (algo.empty()) co_return told(std::nullopt, "");
  if (algo == "static-rr") co_return told(false, "`balance static-rr` is a static algorithm");
  if (!is_hash_algorithm(algo)) co_return told(true, fmt::format("`balance {}` is dynamic", algo));
  if (m_file) {
    // A file lbctl cannot read leaves the question to HAProxy.
    if (auto backend = co_await m_file->inspect()) {
      const bool consistent = backend->hash_type == "consistent";
      const std::string method =
          backend->hash_type.empty() ? std::string("map-based` (the default: none given") : backend->hash_type;
      co_return told(consistent, fmt::format("{} says `hash-type {}`", m_file->describe(), method));
    }
  }
  co_return co_await probe_dynamic_servers();
}


asio::awaitable<LoadBalancer::DynamicServers> LoadBalancer::probe_dynamic_servers() {
  const std::string probe = fmt::format("{}/{}", m_backend, k_probe_server);
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto added = co_await send(one_command(fmt::format("add server {} 127.0.0.1:1", probe)), Batch::server_changes);
    if (!added) co_return told(std::nullopt, "");
    const std::string text = answer_text(added->front());
    if (text.find("New server registered") != std::string::npos) {
      // In MAINT with no connection: HAProxy deletes it at once. Should this
      // fail, the next look finds it (below) and deletes it then.
      (void)co_await send(one_command("del server " + probe), Batch::server_changes);
      co_return told(true, fmt::format("HAProxy took a throwaway server ({})", k_probe_server));
    }
    if (text.find("dynamic load balancing") != std::string::npos) {
      co_return told(false, fmt::format("HAProxy refused a throwaway server: \"{}\"", text));
    }
    if (text.find("Already exists") == std::string::npos || attempt > 0) break;
    // One left by an lbctl killed between the add and the del: deleted only
    // when it is that (in MAINT at 127.0.0.1:1), never a server of the user's.
    auto servers = co_await stats();
    if (!servers) break;
    bool ours = false;
    for (const auto& s : *servers) {
      if (s.name == k_probe_server && s.address == "127.0.0.1:1" && s.status == "MAINT") ours = true;
    }
    if (!ours) break;
    (void)co_await send(one_command("del server " + probe), Batch::server_changes);
  }
  co_return told(std::nullopt, "");
}

}  // namespace lbctl::pools
