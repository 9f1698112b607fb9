#include "lbctl/serve/hub.hpp"

namespace lbctl::serve {

Hub::Hub(std::vector<std::string> services, bool actions_allowed)
    : m_services(std::move(services)), m_actions_allowed(actions_allowed) {
  for (const auto& s : m_services) m_snapshots.emplace(s, nullptr);
}

std::shared_ptr<const Snapshot> Hub::snapshot(const std::string& service) const {
  const auto it = m_snapshots.find(service);
  return it == m_snapshots.end() ? nullptr : it->second;
}

std::vector<const ServiceLive*> Hub::polled() const {
  std::vector<const ServiceLive*> out;
  for (const auto& name : m_services) {
    if (const auto s = snapshot(name)) out.push_back(s->live.get());
  }
  return out;
}

void Hub::publish(const std::string& service, std::shared_ptr<const Snapshot> snapshot) {
  const auto it = m_snapshots.find(service);
  if (it == m_snapshots.end()) return;
  it->second = std::move(snapshot);
  ++m_publications;
  wake_all();
}

void Hub::wake_all() {
  auto waiting = std::move(m_waiting);
  m_waiting.clear();
  for (const auto& weak : waiting) {
    if (auto timer = weak.lock()) timer->cancel();
  }
}

std::shared_ptr<const Snapshot> make_snapshot(const ServiceLive& live, bool actions_allowed) {
  auto copy = std::make_shared<const ServiceLive>(live);
  std::string text = copy->live_json(actions_allowed).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return std::make_shared<const Snapshot>(Snapshot{std::move(copy), std::move(text)});
}

}  // namespace lbctl::serve
