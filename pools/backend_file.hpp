#pragma once
// An LB's configuration file kept saying what the live backend holds: after
// lbctl changes servers (or the maintenance map) through the runtime API, the
// backend's `server` lines (or the map's line) are rewritten, every other
// byte kept, so a reload or a restart comes back to the same servers.

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/async_mutex.hpp"
#include "core/error.hpp"
#include "pools/config_store.hpp"
#include "pools/haproxy_cfg.hpp"

namespace lbctl::pools {

// The file before and after a rewrite (equal when nothing would change).
struct FileChange {
  std::string path;
  std::string before;
  std::string after;

  bool changed() const { return before != after; }
};

class BackendFile {
 public:
  // `maps_too`: the store can also reach the map files (a local file, or
  // read/write commands that name {file}).
  BackendFile(std::shared_ptr<ConfigStore> store, std::string path, std::string backend, bool maps_too);

  const std::string& path() const { return m_path; }
  const std::string& backend() const { return m_backend; }
  bool maps_too() const { return m_maps_too; }
  bool has_check() const { return m_store->has_check(); }
  std::string describe() const { return m_store->describe(m_path); }

  // Reads the file and finds the backend's section: `invalid` naming the file
  // and the line when it cannot be parsed, `unreachable` when it cannot be read.
  boost::asio::awaitable<Result<CfgBackend>> inspect();
  // Runs the check (when one is configured) on the file as it is now: proves,
  // before anything changes, that the check works and passes.
  boost::asio::awaitable<Result<void>> check_current();

  // What the file would become with the backend's servers equal to `desired`.
  boost::asio::awaitable<Result<FileChange>> preview(std::vector<DesiredServer> desired);
  // Rewrites it so; nothing is written (and nothing checked) when the file
  // already says it. True when it wrote.
  boost::asio::awaitable<Result<bool>> ensure(std::vector<DesiredServer> desired);

  // Ensures the map file `map` holds `key value` (or, with nullopt, no `key`).
  boost::asio::awaitable<Result<bool>> ensure_map(std::string map, std::string key, std::optional<std::string> value);
  // The value of `key` in the map file; nullopt when absent.
  boost::asio::awaitable<Result<std::optional<std::string>>> map_value(std::string map, std::string key);

 private:
  Error in_file(const Error& error, const std::string& path) const;

  std::shared_ptr<ConfigStore> m_store;
  std::string m_path;
  std::string m_backend;
  bool m_maps_too;
  // The file as the last ensure left it, and what it was asked: the same
  // text asked the same needs no rewrite (a batch that changes nothing the
  // file says, like `enable health`, costs one read, not a parse of 20,000
  // lines). Any change to the file, by anyone, makes it read afresh.
  // The text is kept as its length and hash: a copy of each LB's file
  // would be megabytes at 20,000 servers.
  std::optional<std::pair<std::size_t, std::size_t>> m_ensured_text;
  std::vector<DesiredServer> m_ensured_for;
};

// Two LBs may share a file (two backends of one HAProxy): rewrites of one
// path never interleave. One lock per path, for the whole process.
AsyncMutex& lock_for_path(const std::string& path);

}  // namespace lbctl::pools
