// LoadBalancer's map operations: reading and changing one key of a map
// file HAProxy has loaded, through the runtime API (no reload).

#include <algorithm>
#include <fmt/format.h>

#include "core/names.hpp"
#include "pools/answer.hpp"
#include "pools/batch.hpp"
#include "pools/load_balancer.hpp"

namespace lbctl::pools {

namespace asio = boost::asio;

namespace {

constexpr std::size_t k_max_map_value = 1000;

bool is_map_path(std::string_view path) {
  return !path.empty() && path.size() <= 4096 && std::all_of(path.begin(), path.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '/' || c == '-';
  });
}

// Printable text: no control characters (a newline would end or extend the
// payload); UTF-8 bytes are fine.
bool is_map_value(std::string_view value) {
  return value.size() <= k_max_map_value && std::none_of(value.begin(), value.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

// The value of `key` in a `show map FILE` answer ("0x55... key value" lines).
std::optional<std::string> value_in(std::string_view answer, std::string_view key) {
  std::size_t pos = 0;
  while (pos < answer.size()) {
    std::size_t end = answer.find('\n', pos);
    if (end == std::string_view::npos) end = answer.size();
    const std::string_view line = answer.substr(pos, end - pos);
    pos = end + 1;
    const auto first_space = line.find(' ');
    if (first_space == std::string_view::npos) continue;
    const auto rest = line.substr(first_space + 1);
    const auto second_space = rest.find(' ');
    const auto entry_key = rest.substr(0, second_space);
    if (entry_key != key) continue;
    return second_space == std::string_view::npos ? std::string() : std::string(rest.substr(second_space + 1));
  }
  return std::nullopt;
}

}  // namespace

std::optional<Error> LoadBalancer::check_map(const std::string& map, const std::string& key,
                                             const std::string* value) const {
  if (!is_map_path(map)) {
    return in_context(Error{ErrorKind::invalid, "the map path is not [A-Za-z0-9._/-]+; nothing sent"});
  }
  if (!key.empty() && !is_valid_name(key)) {
    return in_context(Error{ErrorKind::invalid, "the map key is not [A-Za-z0-9._-]{1,64}; nothing sent"});
  }
  if (value && !is_map_value(*value)) {
    return in_context(Error{ErrorKind::invalid,
                            fmt::format("the map value must be one line of printable text, at most {} bytes; nothing "
                                        "sent",
                                        k_max_map_value)});
  }
  return std::nullopt;
}

asio::awaitable<Result<std::vector<std::string>>> LoadBalancer::maps() {
  auto answers = co_await send(one_command("show map"), Batch::reads);
  if (!answers) co_return std::unexpected(answers.error());
  const std::string& answer = answers->front();
  if (auto error = answer_error(answer)) co_return fail(ErrorKind::refused, fmt::format("{}: show map: {}", m_name, *error));
  // "0 (/etc/haproxy/maintenance.map) pattern loaded from file ...", one per
  // line after the "# id (file) description" header.
  std::vector<std::string> files;
  std::size_t pos = 0;
  while (pos < answer.size()) {
    std::size_t end = answer.find('\n', pos);
    if (end == std::string::npos) end = answer.size();
    const std::string_view line(answer.data() + pos, end - pos);
    pos = end + 1;
    if (line.empty() || line.front() == '#') continue;
    const auto open = line.find(" (");
    const auto close = line.find(')', open == std::string_view::npos ? 0 : open);
    if (open == std::string_view::npos || close == std::string_view::npos) continue;
    files.emplace_back(line.substr(open + 2, close - open - 2));
  }
  co_return files;
}

asio::awaitable<Result<std::optional<std::string>>> LoadBalancer::map_value(std::string map, std::string key) {
  if (auto error = check_map(map, key, nullptr)) co_return std::unexpected(*error);
  auto answers = co_await send(one_command(fmt::format("show map {}", map)), Batch::reads);
  if (!answers) co_return std::unexpected(answers.error());
  if (auto error = answer_error(answers->front())) {
    co_return fail(ErrorKind::refused, fmt::format("{}: show map {}: {}", m_name, map, *error));
  }
  co_return value_in(answers->front(), key);
}

asio::awaitable<Result<Applied>> LoadBalancer::ensure_map_value(std::string map, std::string key, std::string value) {
  if (auto error = check_map(map, key, &value)) co_return std::unexpected(*error);
  auto current = co_await map_value(map, key);
  if (!current) co_return std::unexpected(current.error());
  std::vector<std::string> commands;
  if (*current && **current != value) commands.push_back(fmt::format("del map {} {}", map, key));
  if (*current != value) commands.push_back(fmt::format("add map {} <<\n{} {}", map, key, value));
  auto applied = co_await apply(std::move(commands), Batch::map_changes);
  if (!applied) co_return applied;
  co_return co_await persist_map(map, key, value, std::move(*applied));
}

asio::awaitable<Result<Applied>> LoadBalancer::ensure_map_key_absent(std::string map, std::string key) {
  if (auto error = check_map(map, key, nullptr)) co_return std::unexpected(*error);
  auto current = co_await map_value(map, key);
  if (!current) co_return std::unexpected(current.error());
  std::vector<std::string> commands;
  if (*current) commands.push_back(fmt::format("del map {} {}", map, key));
  auto applied = co_await apply(std::move(commands), Batch::map_changes);
  if (!applied) co_return applied;
  co_return co_await persist_map(map, key, std::nullopt, std::move(*applied));
}

}  // namespace lbctl::pools
