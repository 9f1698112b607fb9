#include "pools/backend_file.hpp"

#include <fmt/format.h>
#include <functional>
#include <map>
#include <string_view>
#include <utility>

namespace lbctl::pools {

namespace asio = boost::asio;

AsyncMutex& lock_for_path(const std::string& path) {
  static std::map<std::string, std::unique_ptr<AsyncMutex>> locks;
  auto& lock = locks[path];
  if (!lock) lock = std::make_unique<AsyncMutex>();
  return *lock;
}

BackendFile::BackendFile(std::shared_ptr<ConfigStore> store, std::string path, std::string backend, bool maps_too)
    : m_store(std::move(store)), m_path(std::move(path)), m_backend(std::move(backend)), m_maps_too(maps_too) {}

Error BackendFile::in_file(const Error& error, const std::string& path) const {
  // Errors from the store already name the file.
  if (error.message.find(path) != std::string::npos) return error;
  return error.with_context(m_store->describe(path));
}

asio::awaitable<Result<CfgBackend>> BackendFile::inspect() {
  auto text = co_await m_store->read(m_path);
  if (!text) co_return std::unexpected(in_file(text.error(), m_path));
  auto backend = find_backend(*text, m_backend);
  if (!backend) co_return std::unexpected(in_file(backend.error(), m_path));
  co_return backend;
}

asio::awaitable<Result<void>> BackendFile::check_current() {
  if (!m_store->has_check()) co_return Result<void>{};
  auto text = co_await m_store->read(m_path);
  if (!text) co_return std::unexpected(in_file(text.error(), m_path));
  auto checked = co_await m_store->check(m_path, std::move(*text));
  if (!checked) co_return std::unexpected(in_file(checked.error(), m_path));
  co_return Result<void>{};
}

asio::awaitable<Result<FileChange>> BackendFile::preview(std::vector<DesiredServer> desired) {
  auto text = co_await m_store->read(m_path);
  if (!text) co_return std::unexpected(in_file(text.error(), m_path));
  auto after = rewrite_backend_servers(*text, m_backend, desired);
  if (!after) co_return std::unexpected(in_file(after.error(), m_path));
  co_return FileChange{m_path, std::move(*text), std::move(*after)};
}

asio::awaitable<Result<bool>> BackendFile::ensure(std::vector<DesiredServer> desired) {
  auto guard = co_await lock_for_path(m_path).lock();
  auto text = co_await m_store->read(m_path);
  if (!text) co_return std::unexpected(in_file(text.error(), m_path));
  const auto fingerprint = [](std::string_view t) { return std::pair(t.size(), std::hash<std::string_view>{}(t)); };
  if (m_ensured_text == fingerprint(*text) && m_ensured_for == desired) co_return false;
  m_ensured_text.reset();
  auto after = rewrite_backend_servers(*text, m_backend, desired);
  if (!after) co_return std::unexpected(in_file(after.error(), m_path));
  const bool changed = *after != *text;
  if (changed) {
    auto written = co_await m_store->write(m_path, *after, true);
    if (!written) co_return std::unexpected(in_file(written.error(), m_path));
  }
  m_ensured_text = fingerprint(*after);
  m_ensured_for = std::move(desired);
  co_return changed;
}

asio::awaitable<Result<bool>> BackendFile::ensure_map(std::string map, std::string key,
                                                      std::optional<std::string> value) {
  if (!m_maps_too) co_return false;
  auto guard = co_await lock_for_path(map).lock();
  auto text = co_await m_store->read(map);
  if (!text) co_return std::unexpected(in_file(text.error(), map));
  auto after = rewrite_map_key(*text, key, value);
  if (!after) co_return std::unexpected(in_file(after.error(), map));
  if (*after == *text) co_return false;
  auto written = co_await m_store->write(map, std::move(*after), false);
  if (!written) co_return std::unexpected(in_file(written.error(), map));
  co_return true;
}

asio::awaitable<Result<std::optional<std::string>>> BackendFile::map_value(std::string map, std::string key) {
  auto text = co_await m_store->read(map);
  if (!text) co_return std::unexpected(in_file(text.error(), map));
  co_return map_file_value(*text, key);
}

}  // namespace lbctl::pools
