#include "pools/reload_answers.hpp"

#include <charconv>
#include <optional>
#include <string>

namespace lbctl::pools {

namespace {

// The text after "LABEL" on the first line that starts with it, without the
// blanks around it; nullopt when no line does.
std::optional<std::string_view> value_after(std::string_view text, std::string_view label) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    auto line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.starts_with(label)) continue;
    line.remove_prefix(label.size());
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
    return line;
  }
  return std::nullopt;
}

std::uint64_t number_after(std::string_view text, std::string_view label) {
  const auto value = value_after(text, label);
  std::uint64_t number = 0;
  if (value) std::from_chars(value->data(), value->data() + value->size(), number);
  return number;
}

}  // namespace

LbIdentity parse_identity(std::string_view show_info) {
  return LbIdentity{number_after(show_info, "Pid:"), number_after(show_info, "Start_time_sec:")};
}

HaproxyVersion parse_version(std::string_view show_info) {
  const auto text = value_after(show_info, "Version:");
  if (!text || text->empty() || text->size() > 64) return {};
  for (char c : *text) {
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) return {};
  }
  HaproxyVersion version;
  const char* const last = text->data() + text->size();
  const auto [after_major, major_error] = std::from_chars(text->data(), last, version.major);
  if (major_error != std::errc() || after_major == last || *after_major != '.') return {};
  const auto [after_minor, minor_error] = std::from_chars(after_major + 1, last, version.minor);
  if (minor_error != std::errc()) return {};
  version.text = std::string(*text);
  return version;
}

std::vector<OldWorker> parse_old_workers(std::string_view show_proc) {
  // "# old workers" heads the list (2.6); each line: PID, type, reloads, ...
  std::vector<OldWorker> workers;
  bool in_old = false;
  std::size_t pos = 0;
  while (pos < show_proc.size()) {
    std::size_t end = show_proc.find('\n', pos);
    if (end == std::string_view::npos) end = show_proc.size();
    auto line = show_proc.substr(pos, end - pos);
    pos = end + 1;
    if (line.starts_with("#")) {
      in_old = line.starts_with("# old workers");
      continue;
    }
    if (!in_old) continue;
    OldWorker worker;
    const auto [after_pid, pid_error] = std::from_chars(line.data(), line.data() + line.size(), worker.pid);
    if (pid_error != std::errc() || worker.pid == 0) continue;
    auto rest = line.substr(static_cast<std::size_t>(after_pid - line.data()));
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    if (!rest.starts_with("worker")) continue;
    rest.remove_prefix(6);
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    std::from_chars(rest.data(), rest.data() + rest.size(), worker.reloads);
    workers.push_back(worker);
  }
  return workers;
}

OldWorkerAnswer classify_old_worker_answer(std::string_view answer) {
  if (answer.find("Can't find the target") != std::string_view::npos) return OldWorkerAnswer::ended;
  if (answer.find_first_not_of(" \t\r\n") == std::string_view::npos ||
      answer.find("Can't connect to the target CLI") != std::string_view::npos) {
    return OldWorkerAnswer::unanswered;
  }
  return OldWorkerAnswer::stats;
}

}  // namespace lbctl::pools
