#pragma once
// Where servers come from and go: the provider clones new servers, terminates
// old ones, and removes or restores a server's health-check file (how a
// server leaves HAProxy's rotation gracefully, its sessions kept). Every
// operation is idempotent: a repeat finds the work done and does nothing.

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "pools/placeholders.hpp"
#include "pools/server.hpp"

namespace lbctl::pools {

class Provider {
 public:
  virtual ~Provider() = default;

  // Ensures a running server exists for each name (creating the missing ones,
  // finding the existing ones) and returns them, in the order of `names`,
  // once each accepts connections. `template_server` is an old server to
  // clone from. Fails naming the server that could not be made.
  virtual boost::asio::awaitable<Result<std::vector<Server>>> clone(std::vector<std::string> names,
                                                                    std::optional<Server> template_server) = 0;
  // Ensures the server is gone; already gone is success.
  virtual boost::asio::awaitable<Result<void>> terminate(Server server) = 0;
  // Ensures the server's health-check file is absent (HAProxy then marks it
  // NOLB under `http-check disable-on-404`).
  virtual boost::asio::awaitable<Result<void>> remove_health_file(Server server) = 0;
  // Ensures the health-check file is back.
  virtual boost::asio::awaitable<Result<void>> restore_health_file(Server server) = 0;
  // Stops (or lets again) the autoscaler launch old-version servers mid-cutover.
  virtual boost::asio::awaitable<Result<void>> freeze_scaling() = 0;
  virtual boost::asio::awaitable<Result<void>> unfreeze_scaling() = 0;
  // Preflight: whether it can work at all, changing nothing (its programs
  // exist, its folder is writable). invalid for a program that is not there,
  // refused for a folder it cannot write.
  virtual Result<void> check() const = 0;
  // "local", "exec" or "static", for messages.
  virtual std::string kind() const = 0;

  // The release being deployed and the one it replaces: {release} and
  // {old_release} in the provider's commands. Set once a cutover knows them
  // (empty until then).
  void set_release(std::string release, std::string old_release) {
    m_release = std::move(release);
    m_old_release = std::move(old_release);
  }

 protected:
  // Adds {release} and {old_release} to `values`.
  void add_release(Placeholders& values) const {
    values.emplace_back("release", m_release);
    values.emplace_back("old_release", m_old_release);
  }

 private:
  std::string m_release;
  std::string m_old_release;
};

}  // namespace lbctl::pools
