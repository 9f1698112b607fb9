#pragma once
// The connection that holds a service lock, on plain libpq: libpqxx 6 would
// quietly reconnect a broken connection (and the lock would be gone without
// a word), and leaks a result when a query meets a connection the server
// closed, which is exactly when a lost lock is detected.

#include <chrono>
#include <memory>
#include <string>

#include "core/error.hpp"
#include "db/pg_support.hpp"

namespace lbctl::db {

class LockSession {
 public:
  // Connects; unreachable on failure (the message never holds the URL).
  // This side sees a server that stopped answering within `partition`; the
  // server frees the lock of a client it stopped hearing from after
  // `released_after` (its keepalives and tcp_user_timeout).
  static Result<std::unique_ptr<LockSession>> open(const std::string& url, const std::string& application_name,
                                                   std::chrono::seconds connect_timeout,
                                                   std::chrono::milliseconds partition,
                                                   std::chrono::milliseconds released_after);
  ~LockSession();
  LockSession(const LockSession&) = delete;
  LockSession& operator=(const LockSession&) = delete;

  // pg_try_advisory_lock: true when taken, false when another session holds it.
  Result<bool> try_lock(AdvisoryKey key);
  // True while this session still holds `key` (false once the connection broke).
  bool holds(AdvisoryKey key);
  // Lets go (best effort; closing the session does it too).
  void unlock(AdvisoryKey key);

 private:
  struct Conn;
  explicit LockSession(Conn* conn);
  Result<std::string> query_value(const std::string& sql, AdvisoryKey key);
  Conn* m_conn;
};

}  // namespace lbctl::db
