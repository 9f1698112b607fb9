#include "pools/tcp_probe.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <dirent.h>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <unistd.h>

namespace lbctl::pools {

namespace asio = boost::asio;

asio::awaitable<bool> accepts_connections(std::string host, std::uint16_t port, std::chrono::milliseconds timeout) {
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(host, ec);
  if (ec) co_return false;
  auto executor = co_await asio::this_coro::executor;
  // Shared with the timer's handler, which may run after this frame is gone.
  auto socket = std::make_shared<asio::ip::tcp::socket>(executor);
  asio::steady_timer timer(executor, timeout);
  timer.async_wait([socket](boost::system::error_code wait_ec) {
    boost::system::error_code ignored;
    if (!wait_ec) socket->close(ignored);
  });
  co_await socket->async_connect(asio::ip::tcp::endpoint(ip, port), asio::redirect_error(asio::use_awaitable, ec));
  timer.cancel();
  const bool connected = !ec && socket->is_open();
  socket->close(ec);
  co_return connected;
}

namespace {

// The inodes of the sockets listening on `port` (false: /proc not readable).
bool listening_inodes(std::uint16_t port, std::set<std::string>& inodes) {
  bool read_any = false;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    if (!in) continue;
    read_any = true;
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      if (!(fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode)) {
        continue;
      }
      const auto colon = local.rfind(':');
      if (colon == std::string::npos || state != "0A") continue;  // 0A: LISTEN
      if (std::stoul(local.substr(colon + 1), nullptr, 16) == port) inodes.insert(inode);
    }
  }
  return read_any;
}

bool holds_socket(const std::string& pid, const std::set<std::string>& inodes) {
  const std::string dir = "/proc/" + pid + "/fd";
  DIR* fds = ::opendir(dir.c_str());
  if (fds == nullptr) return false;
  bool found = false;
  while (const dirent* entry = ::readdir(fds)) {
    char target[128];
    const auto n = ::readlink((dir + "/" + entry->d_name).c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    const std::string link(target, static_cast<std::size_t>(n));
    if (link.starts_with("socket:[") && inodes.contains(link.substr(8, link.size() - 9))) {
      found = true;
      break;
    }
  }
  ::closedir(fds);
  return found;
}

// The process group of `pid` as /proc/PID/stat says (-1 when unreadable).
long group_of(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/stat");
  std::string text;
  std::getline(in, text);
  const auto paren = text.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream rest(text.substr(paren + 1));
  std::string state;
  long ppid = 0, pgrp = -1;
  rest >> state >> ppid >> pgrp;
  return pgrp;
}

}  // namespace

bool listener_is_ours(int pid, std::uint16_t port) {
  std::set<std::string> inodes;
  if (!listening_inodes(port, inodes)) return true;  // no /proc: cannot tell
  if (inodes.empty()) return false;
  if (holds_socket(std::to_string(pid), inodes)) return true;
  DIR* procs = ::opendir("/proc");
  if (procs == nullptr) return true;
  bool found = false;
  while (const dirent* entry = ::readdir(procs)) {
    const std::string name = entry->d_name;
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (group_of(name) == pid && holds_socket(name, inodes)) {
      found = true;
      break;
    }
  }
  ::closedir(procs);
  return found;
}

}  // namespace lbctl::pools
