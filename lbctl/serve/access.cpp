#include "lbctl/serve/access.hpp"

#include <algorithm>
#include <cctype>
#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>
#include <openssl/crypto.h>

namespace lbctl::serve {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// "name:port" -> "name"; "[::1]:8480" -> "::1"; "name" -> "name".
std::string host_part(std::string_view host) {
  if (host.starts_with('[')) {
    const auto close = host.find(']');
    return close == std::string_view::npos ? std::string(host) : std::string(host.substr(1, close - 1));
  }
  const auto colon = host.find(':');
  return std::string(host.substr(0, colon));
}

}  // namespace

HostAllowList::HostAllowList(bool loopback, std::vector<std::string> names) : m_loopback(loopback) {
  for (const auto& name : names) m_names.push_back(lower(name));
}

bool HostAllowList::allows(std::string_view header) const {
  if (header.empty()) return true;
  const std::string host = lower(host_part(header));
  if (std::find(m_names.begin(), m_names.end(), host) != m_names.end()) return true;
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  if (!ec) return !m_loopback || address.is_loopback();
  return m_loopback && host == "localhost";
}

std::string HostAllowList::describe() const {
  std::vector<std::string> parts;
  if (m_loopback) {
    parts = {"localhost", "127.0.0.0/8", "[::1]"};
  } else {
    parts = {"IP addresses"};
  }
  parts.insert(parts.end(), m_names.begin(), m_names.end());
  if (parts.size() == 1) return parts.front();
  std::string out;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
  return out + " and " + parts.back();
}

std::optional<std::chrono::seconds> TokenThrottle::wait(const std::string& client, SteadyTime now) const {
  const auto it = m_clients.find(client);
  if (it == m_clients.end() || it->second.blocked_until <= now) return std::nullopt;
  return std::chrono::ceil<std::chrono::seconds>(it->second.blocked_until - now);
}

void TokenThrottle::failed(const std::string& client, SteadyTime now) {
  if (!m_clients.contains(client) && m_clients.size() >= k_max_clients) {
    std::erase_if(m_clients, [&](const auto& entry) { return now - entry.second.last > k_forget; });
    if (m_clients.size() >= k_max_clients) {
      const auto oldest = std::min_element(m_clients.begin(), m_clients.end(), [](const auto& a, const auto& b) {
        return a.second.last < b.second.last;
      });
      m_clients.erase(oldest);
    }
  }
  Record& record = m_clients[client];
  if (now - record.last > k_forget) record.failures = 0;
  record.last = now;
  ++record.failures;
  if (record.failures <= k_free_failures) return;
  const int doublings = std::min(record.failures - k_free_failures - 1, 6);
  record.blocked_until = now + std::min<std::chrono::seconds>(std::chrono::seconds(1LL << doublings), k_max_wait);
}

void TokenThrottle::succeeded(const std::string& client) { m_clients.erase(client); }

ActionAuth::Verdict ActionAuth::check(std::string_view authorization, const std::string& client, SteadyTime now) {
  if (const auto wait = m_throttle.wait(client, now)) return Verdict{false, wait};
  constexpr std::string_view bearer = "Bearer ";
  const std::string_view given = authorization.starts_with(bearer) ? authorization.substr(bearer.size()) : std::string_view();
  // Compared in constant time, so the answer's timing says nothing of the token.
  const bool same = !m_token.empty() && given.size() == m_token.size() &&
                    CRYPTO_memcmp(given.data(), m_token.data(), m_token.size()) == 0;
  if (!same) {
    m_throttle.failed(client, now);
    return Verdict{false, std::nullopt};
  }
  m_throttle.succeeded(client);
  return Verdict{true, std::nullopt};
}

std::optional<std::uint64_t> ConnectionTable::oldest_waiting(const std::string* client) const {
  for (const auto& [id, entry] : m_entries) {
    if (entry.waiting && !entry.stream && (client == nullptr || entry.client == *client)) return id;
  }
  return std::nullopt;
}

ConnectionTable::Admission ConnectionTable::admit(const std::string& client, std::uint64_t id) {
  Admission admission;
  const auto known = m_clients.find(client);
  const std::size_t mine = known == m_clients.end() ? 0 : known->second.connections;
  if (mine >= m_limits.connections_per_client) {
    admission.evict = oldest_waiting(&client);
  } else if (m_entries.size() >= m_limits.connections) {
    admission.evict = oldest_waiting(nullptr);
  }
  const bool full = mine >= m_limits.connections_per_client || m_entries.size() >= m_limits.connections;
  if (full && !admission.evict) return admission;
  if (admission.evict) remove(*admission.evict);
  m_entries.emplace(id, Entry{client, true, false});
  ++m_clients[client].connections;
  admission.admitted = true;
  return admission;
}

void ConnectionTable::waiting(std::uint64_t id, bool waiting) {
  if (const auto it = m_entries.find(id); it != m_entries.end()) it->second.waiting = waiting;
}

bool ConnectionTable::start_stream(std::uint64_t id) {
  const auto it = m_entries.find(id);
  if (it == m_entries.end()) return false;
  PerClient& mine = m_clients[it->second.client];
  if (m_streams >= m_limits.streams || mine.streams >= m_limits.streams_per_client) return false;
  it->second.stream = true;
  it->second.waiting = false;
  ++mine.streams;
  ++m_streams;
  return true;
}

void ConnectionTable::remove(std::uint64_t id) {
  const auto it = m_entries.find(id);
  if (it == m_entries.end()) return;
  const auto client = m_clients.find(it->second.client);
  if (client != m_clients.end()) {
    --client->second.connections;
    if (it->second.stream) --client->second.streams;
    if (client->second.connections == 0) m_clients.erase(client);
  }
  if (it->second.stream) --m_streams;
  m_entries.erase(it);
}

}  // namespace lbctl::serve
