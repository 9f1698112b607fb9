#pragma once
// Who may ask `serve` what, apart from the sockets (pure, so the rules are
// unit-tested): the Host names it answers to, how fast one client address
// may guess the actions' token, and how many connections and streams it
// holds, overall and per client address.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace lbctl::serve {

using SteadyTime = std::chrono::steady_clock::time_point;

// The Host header a request may carry. A page on another site can reach a
// loopback serve through DNS rebinding (its own name, resolved to
// 127.0.0.1), but its requests still say that name: so only names serve
// knows are answered. IP literals cannot be rebound.
class HostAllowList {
 public:
  // `loopback`: serve listens on a loopback address (localhost and loopback
  // literals allowed); else any IP literal is. `names`: --allow-host.
  HostAllowList(bool loopback, std::vector<std::string> names);

  // `host`: the header as sent ("name", "name:port", "[::1]:8480"); an
  // absent header is allowed (browsers always send one).
  bool allows(std::string_view host) const;
  // "localhost, 127.0.0.1/8, [::1] and shop.example.com" for the error.
  std::string describe() const;

 private:
  bool m_loopback;
  std::vector<std::string> m_names;  // lower case
};

// Failed token attempts slow a client address down: the first
// k_free_failures cost nothing, then each one doubles the wait before the
// next attempt is even looked at (1 s, 2 s, ... up to k_max_wait). An
// address quiet for k_forget is forgotten; at most k_max_clients are kept.
class TokenThrottle {
 public:
  static constexpr int k_free_failures = 3;
  static constexpr std::chrono::seconds k_max_wait{60};
  static constexpr std::chrono::minutes k_forget{15};
  static constexpr std::size_t k_max_clients = 4096;

  // How long `client` must still wait before an attempt; nullopt: now.
  std::optional<std::chrono::seconds> wait(const std::string& client, SteadyTime now) const;
  void failed(const std::string& client, SteadyTime now);
  void succeeded(const std::string& client);
  std::size_t clients() const { return m_clients.size(); }

 private:
  struct Record {
    int failures = 0;
    SteadyTime last{};
    SteadyTime blocked_until{};
  };
  std::unordered_map<std::string, Record> m_clients;
};

// Who may act (promote, abort, undo): a request whose `Authorization:
// Bearer` says serve's token, compared in constant time; a client address
// that keeps sending wrong ones waits (TokenThrottle) before it is even
// looked at again.
class ActionAuth {
 public:
  // "" with actions off: every token is wrong.
  explicit ActionAuth(std::string token) : m_token(std::move(token)) {}

  struct Verdict {
    bool allowed = false;
    // Set when the client must wait this long before trying again (it was
    // not looked at).
    std::optional<std::chrono::seconds> retry_after;
  };
  Verdict check(std::string_view authorization, const std::string& client, SteadyTime now);

 private:
  std::string m_token;
  TokenThrottle m_throttle;
};

struct ConnectionLimits {
  std::size_t connections = 512;
  std::size_t connections_per_client = 64;
  std::size_t streams = 128;
  std::size_t streams_per_client = 16;
};

// The connections serve holds. A new one past a cap takes the place of the
// oldest connection that is only waiting (idle, or sending its request's
// header so slowly it has not finished): of its own address at the
// per-client cap, of anyone at the overall cap. With none waiting it is
// refused at once. Streams have caps of their own and are refused past
// them (an EventSource tries again).
class ConnectionTable {
 public:
  explicit ConnectionTable(ConnectionLimits limits) : m_limits(limits) {}

  struct Admission {
    bool admitted = false;
    std::optional<std::uint64_t> evict;  // close this one first
  };
  // `id` grows with every connection accepted.
  Admission admit(const std::string& client, std::uint64_t id);
  // Waiting for (or reading) a request's header, or answering one.
  void waiting(std::uint64_t id, bool waiting);
  // The connection becomes a stream; false when a stream cap is reached.
  bool start_stream(std::uint64_t id);
  void remove(std::uint64_t id);
  bool holds(std::uint64_t id) const { return m_entries.contains(id); }

  std::size_t connections() const { return m_entries.size(); }
  std::size_t streams() const { return m_streams; }
  const ConnectionLimits& limits() const { return m_limits; }

 private:
  struct Entry {
    std::string client;
    bool waiting = true;
    bool stream = false;
  };
  struct PerClient {
    std::size_t connections = 0;
    std::size_t streams = 0;
  };
  std::optional<std::uint64_t> oldest_waiting(const std::string* client) const;

  ConnectionLimits m_limits;
  std::map<std::uint64_t, Entry> m_entries;  // by id: oldest first
  std::unordered_map<std::string, PerClient> m_clients;
  std::size_t m_streams = 0;
};

}  // namespace lbctl::serve
