#include "pools/local_layout.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "core/names.hpp"
#include "core/private_files.hpp"
#include "core/process.hpp"

namespace lbctl::pools {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::optional<std::string> first_line(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

// How long ago `pid` started, from /proc/PID/stat's starttime (ticks since
// boot) and CLOCK_BOOTTIME.
std::optional<std::chrono::milliseconds> process_age(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  const auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close_paren + 1));
  std::string field;
  // Fields after the command: state is field 3, starttime field 22.
  for (int index = 3; index <= 22; ++index) {
    if (!(fields >> field)) return std::nullopt;
  }
  unsigned long long ticks = 0;
  if (std::from_chars(field.data(), field.data() + field.size(), ticks).ec != std::errc()) return std::nullopt;
  const long per_second = ::sysconf(_SC_CLK_TCK);
  timespec boot{};
  if (per_second <= 0 || ::clock_gettime(CLOCK_BOOTTIME, &boot) != 0) return std::nullopt;
  const auto uptime = std::chrono::seconds(boot.tv_sec) + std::chrono::nanoseconds(boot.tv_nsec);
  const auto started = std::chrono::milliseconds(ticks * 1000 / static_cast<unsigned long long>(per_second));
  return std::chrono::duration_cast<std::chrono::milliseconds>(uptime) - started;
}

std::optional<std::chrono::milliseconds> file_age(const fs::path& file) {
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0) return std::nullopt;
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  const auto age = std::chrono::seconds(now.tv_sec - info.st_mtim.tv_sec) +
                   std::chrono::nanoseconds(now.tv_nsec - info.st_mtim.tv_nsec);
  return std::chrono::duration_cast<std::chrono::milliseconds>(age);
}

}  // namespace

ServerDir::ServerDir(const fs::path& base_dir, const std::string& name, const std::string& health_file)
    : m_name(name), m_dir(base_dir / name), m_health_file(base_dir / name / health_file) {}

std::optional<pid_t> ServerDir::live_pid() const {
  const auto text = first_line(pid_file());
  if (!text) return std::nullopt;
  pid_t pid = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), pid);
  if (ec != std::errc() || end != text->data() + text->size() || pid <= 1) return std::nullopt;
  if (!process_alive(pid)) return std::nullopt;
  // A pid file always comes after its process: a process younger than the
  // file got the pid later (after a reboot, say) and is not ours to signal.
  // The slack absorbs clock steps between the two clocks compared.
  const auto process = process_age(pid);
  const auto file = file_age(pid_file());
  if (process && file && *process + 2s < *file) return std::nullopt;
  return pid;
}

std::optional<std::string> ServerDir::address() const {
  auto text = first_line(address_file());
  if (!text || text->empty()) return std::nullopt;
  return text;
}

Result<void> ServerDir::write_pid(pid_t pid) const { return write_file_atomically(pid_file(), fmt::format("{}\n", pid)); }

Result<void> ServerDir::write_address(const std::string& address) const {
  return write_file_atomically(address_file(), address + "\n");
}

Result<void> ServerDir::ensure_health_file() const {
  std::error_code ec;
  fs::create_directories(m_dir, ec);
  if (ec) return fail(ErrorKind::refused, fmt::format("cannot create {}: {}", m_dir.string(), ec.message()));
  if (fs::exists(m_health_file, ec)) return {};
  return write_file_atomically(m_health_file, "ok\n");
}

void ServerDir::forget_process() const {
  std::error_code ec;
  fs::remove(pid_file(), ec);
  fs::remove(address_file(), ec);
}

std::string ServerDir::log_tail(std::size_t lines) const {
  std::ifstream in(log_file(), std::ios::binary);
  if (!in) return "";
  // Only the end matters; a server may have logged for weeks.
  constexpr std::streamoff k_window = 16 * 1024;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(size > k_window ? size - k_window : 0);
  std::ostringstream text;
  text << in.rdbuf();
  return tail_lines(text.str(), lines);
}

bool is_valid_server_dir_name(const std::string& name) { return is_valid_name(name) && name != "." && name != ".."; }

std::set<std::uint16_t> recorded_ports(const fs::path& base_dir, const std::set<std::string>& except) {
  std::set<std::uint16_t> ports;
  std::error_code ec;
  for (fs::directory_iterator it(base_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_directory(ec) || except.contains(it->path().filename().string())) continue;
    const auto text = first_line(it->path() / "address");
    if (!text) continue;
    const auto colon = text->rfind(':');
    unsigned port = 0;
    if (colon == std::string::npos) continue;
    const auto [p, parse_ec] = std::from_chars(text->data() + colon + 1, text->data() + text->size(), port);
    if (parse_ec == std::errc() && port > 0 && port <= 65535) ports.insert(static_cast<std::uint16_t>(port));
  }
  return ports;
}

bool leads_process_group(pid_t pid) { return pid > 1 && ::getpgid(pid) == pid; }

}  // namespace lbctl::pools
