#pragma once
// GET /health/db: proves the server reaches its database (connect, SELECT 1).
// libpq blocks, so the work runs on a few worker threads and the answer comes
// back to the event loop; other requests are never held up by a slow database.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <string>

namespace lbctl::demo_app {

struct DatabaseVerdict {
  bool ok = false;
  std::string reason;  // "ok", or why not; never contains the conninfo's password
};

// True when libpq accepts `conninfo` (key=value or URI) as a connection string.
bool is_valid_conninfo(const std::string& conninfo);

// Connects (connect_timeout 2 s unless the conninfo sets it), runs SELECT 1,
// disconnects. Blocks the calling thread.
DatabaseVerdict check_database(const std::string& conninfo);

class DatabaseChecker {
 public:
  // `conninfo` empty means no database is configured: every check says so at once.
  explicit DatabaseChecker(std::string conninfo, std::size_t threads = 4);
  ~DatabaseChecker();
  DatabaseChecker(const DatabaseChecker&) = delete;
  DatabaseChecker& operator=(const DatabaseChecker&) = delete;

  // Runs check_database on a worker thread and resumes the caller on its own executor.
  boost::asio::awaitable<DatabaseVerdict> check();

  // Drops queued checks and waits for the running ones (bounded by connect_timeout).
  void shutdown();

 private:
  std::string m_conninfo;
  boost::asio::thread_pool m_pool;
};

}  // namespace lbctl::demo_app
