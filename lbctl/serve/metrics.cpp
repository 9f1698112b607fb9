#include "lbctl/serve/metrics.hpp"

#include <fmt/format.h>
#include <functional>

namespace lbctl::serve {

namespace {

using Labels = std::vector<std::pair<std::string_view, std::string>>;

class Writer {
 public:
  // One family: its HELP and TYPE, then every service's samples.
  void family(std::string_view name, std::string_view type, std::string_view help,
              const std::vector<const ServiceLive*>& services,
              const std::function<void(const ServiceLive&, Writer&)>& samples) {
    m_out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    m_name = name;
    for (const auto* service : services) samples(*service, *this);
  }

  void sample(const Labels& labels, double value) {
    m_out += m_name;
    m_out += '{';
    bool first = true;
    for (const auto& [key, label] : labels) {
      m_out += fmt::format("{}{}=\"{}\"", first ? "" : ",", key, escape_label(label));
      first = false;
    }
    m_out += fmt::format("}} {}\n", value);
  }

  std::string take() { return std::move(m_out); }

 private:
  std::string m_out;
  std::string_view m_name;
};

const CutoverSummary* running_cutover(const ServiceLive& s) {
  return s.status().running() ? &*s.status().cutover : nullptr;
}

// The agents' part (`lbctl agent`, `lbctl submit`): take-overs and the queue;
// absent while the journal does not answer (unknown, not 0).
void agent_families(Writer& w, const std::vector<const ServiceLive*>& services) {
  w.family("lbctl_cutover_takeovers_total", "counter",
           "Cutovers an agent took over from a runner whose lease ran out (killed, cut off, stopped)", services,
           [](const ServiceLive& s, Writer& out) {
             if (!s.status().error.empty()) return;
             out.sample({{"service", s.service()}}, static_cast<double>(s.status().takeovers));
           });
  w.family("lbctl_requests_queued", "gauge", "Cutover requests (`lbctl submit`) waiting for an agent", services,
           [](const ServiceLive& s, Writer& out) {
             if (!s.status().error.empty()) return;
             const auto& requests = s.status().requests;
             out.sample({{"service", s.service()}},
                        static_cast<double>(std::count_if(requests.begin(), requests.end(),
                                                          [](const db::CutoverRequest& r) { return r.state == "queued"; })));
           });
}

}  // namespace

std::string escape_label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string render_metrics(const std::vector<const ServiceLive*>& services) {
  Writer w;
  w.family("lbctl_cutover_running", "gauge", "1 while a cutover of the service runs", services,
           [](const ServiceLive& s, Writer& out) { out.sample({{"service", s.service()}}, running_cutover(s) ? 1 : 0); });
  w.family("lbctl_cutover_step", "gauge", "1 for the step the running cutover is at, 0 for its other steps", services,
           [](const ServiceLive& s, Writer& out) {
             const auto* c = running_cutover(s);
             std::vector<std::string> steps = s.flow();
             if (c && std::find(steps.begin(), steps.end(), c->step) == steps.end()) steps.push_back(c->step);
             for (const auto& step : steps) out.sample({{"service", s.service()}, {"step", step}}, c && c->step == step);
           });
  w.family("lbctl_drain_sessions", "gauge", "Sessions left on the old servers, per load balancer (0 with no cutover)",
           services, [](const ServiceLive& s, Writer& out) {
             for (const auto& lb : s.status().load_balancers) {
               if (lb.error.empty()) out.sample({{"service", s.service()}, {"lb", lb.name}}, static_cast<double>(old_pool_sessions(lb)));
             }
           });
  w.family("lbctl_servers", "gauge", "Servers in the backend by pool (old, new, none) and HAProxy status", services,
           [](const ServiceLive& s, Writer& out) {
             for (const auto& lb : s.status().load_balancers) {
               std::map<std::pair<std::string, std::string>, int> counts;
               for (const auto& server : lb.servers) ++counts[{server.pool.empty() ? "none" : server.pool, server.status}];
               for (const auto& [key, n] : counts) {
                 out.sample({{"service", s.service()}, {"lb", lb.name}, {"pool", key.first}, {"status", key.second}}, n);
               }
             }
           });
  w.family("lbctl_cutovers_total", "counter", "Cutovers that ended, by outcome", services,
           [](const ServiceLive& s, Writer& out) {
             if (s.history_key().empty()) return;  // the journal has not told yet
             for (const char* outcome : {"completed", "rolled_back", "stopped", "needs_operator"}) {
               const auto it = s.outcomes().find(outcome);
               out.sample({{"service", s.service()}, {"outcome", outcome}},
                          static_cast<double>(it == s.outcomes().end() ? 0 : it->second));
             }
           });
  agent_families(w, services);
  w.family("lbctl_cutover_duration_seconds", "gauge",
           "The latest cutover's duration: so far while it runs, in all once it ended", services,
           [](const ServiceLive& s, Writer& out) {
             if (s.status().cutover) out.sample({{"service", s.service()}}, static_cast<double>(s.status().cutover->duration_s));
           });
  w.family("lbctl_lb_up", "gauge", "1 when the load balancer answered the last poll", services,
           [](const ServiceLive& s, Writer& out) {
             for (const auto& lb : s.status().load_balancers) out.sample({{"service", s.service()}, {"lb", lb.name}}, lb.error.empty());
           });
  w.family("lbctl_lb_down", "gauge",
           "1 for a load balancer that did not answer the last poll, labelled with why (timeout, refused, no such "
           "backend, answer not understood); absent while it answers",
           services, [](const ServiceLive& s, Writer& out) {
             for (const auto& lb : s.status().load_balancers) {
               if (!lb.error.empty()) out.sample({{"service", s.service()}, {"lb", lb.name}, {"reason", lb.reason}}, 1);
             }
           });
  w.family("lbctl_drift", "gauge",
           "Differences between the load balancer and what lbctl recorded (absent while a cutover runs: not measured)",
           services, [](const ServiceLive& s, Writer& out) {
             const auto& st = s.status();
             if (st.running() || !st.drift_note.empty() || !st.error.empty()) return;
             for (const auto& lb : st.load_balancers) {
               if (!lb.error.empty()) continue;
               const auto n = std::count_if(st.drift.begin(), st.drift.end(), [&](const Drift& d) { return d.lb == lb.name; });
               out.sample({{"service", s.service()}, {"lb", lb.name}}, static_cast<double>(n));
             }
           });
  w.family("lbctl_state_database_up", "gauge", "1 when the journal answered the last poll", services,
           [](const ServiceLive& s, Writer& out) { out.sample({{"service", s.service()}}, s.status().error.empty()); });
  return w.take();
}

}  // namespace lbctl::serve
