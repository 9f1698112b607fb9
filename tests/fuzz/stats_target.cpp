// `show stat` (CSV by header name, server rows and the backend's algo) and
// `show servers state`: what an HAProxy,
// any version, or anything listening on its socket answers.

#include "pools/stats.hpp"
#include "tests/fuzz/fuzz.hpp"

LBCTL_FUZZ_TARGET(stats) {
  using namespace lbctl::pools;
  if (auto stats = parse_show_stat(input, "app")) {
    const auto index = index_by_name(*stats);
    LBCTL_FUZZ_CHECK(index.size() <= stats->size());
    for (const auto& s : *stats) {
      // The predicates read only the parsed fields; exercise them all.
      (void)s.is_up(), (void)s.is_fully_up(), (void)s.is_nolb(), (void)s.is_drain(), (void)s.is_maint();
      (void)s.is_down(), (void)s.check_passed(), (void)s.sessions();
    }
  }
  // The backend row's balance algorithm (preflight's check): a field of the input, never more.
  if (auto row = parse_backend_row(input, "app")) {
    LBCTL_FUZZ_CHECK(row->algo.size() <= input.size() && row->cookie.size() <= input.size());
  }
  if (auto state = parse_servers_state(input, "app")) {
    for (const auto& s : *state) (void)s.in_maint(), (void)s.in_drain();
  }
}
