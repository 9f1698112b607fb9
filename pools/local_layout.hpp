#pragma once
// The on-disk layout of a local server, shared with whoever else starts
// servers this way (the demo's old pool): {base_dir}/{name}/ holds `pid`,
// `address` (HOST:PORT), `log` and the health-check file.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <sys/types.h>

#include "core/error.hpp"

namespace lbctl::pools {

class ServerDir {
 public:
  ServerDir(const std::filesystem::path& base_dir, const std::string& name, const std::string& health_file);

  const std::string& name() const { return m_name; }
  const std::filesystem::path& path() const { return m_dir; }
  std::filesystem::path pid_file() const { return m_dir / "pid"; }
  std::filesystem::path address_file() const { return m_dir / "address"; }
  std::filesystem::path log_file() const { return m_dir / "log"; }
  const std::filesystem::path& health_file() const { return m_health_file; }

  // The pid in `pid` while that process lives and is the one the file was
  // written for; nullopt when the file is absent, unreadable, or names a dead
  // or reused pid.
  std::optional<pid_t> live_pid() const;
  // The first line of `address`, when present.
  std::optional<std::string> address() const;

  // Each replaces its file atomically (write, then rename).
  Result<void> write_pid(pid_t pid) const;
  Result<void> write_address(const std::string& address) const;
  // Creates the folder and, when absent, the health file ("ok\n").
  Result<void> ensure_health_file() const;
  // Removes `pid` and `address`: the server no longer runs nor holds a port.
  void forget_process() const;
  // The last lines of the server's log ("" when there is none).
  std::string log_tail(std::size_t lines = 10) const;

 private:
  std::string m_name;
  std::filesystem::path m_dir;
  std::filesystem::path m_health_file;
};

// A name that may become a folder under base_dir: is_valid_name, and not "."
// or "..".
bool is_valid_server_dir_name(const std::string& name);

// Ports recorded in the `address` files under `base_dir`, except those of
// the servers named in `except`.
std::set<std::uint16_t> recorded_ports(const std::filesystem::path& base_dir, const std::set<std::string>& except);

// True when `pid` leads its process group: its group is then signalled as a
// whole, so what it started goes too. A server someone else started inside
// their shell's group is signalled alone.
bool leads_process_group(pid_t pid);

}  // namespace lbctl::pools
