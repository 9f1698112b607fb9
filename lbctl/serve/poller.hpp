#pragma once
// One poll of one service: its status (the journal, then one `show stat`
// per LB), the running cutover's new events, and the history and outcome
// counts when the latest cutover changed. Sees interfaces only.

#include <boost/asio/awaitable.hpp>

#include "db/journal.hpp"
#include "lbctl/config/config.hpp"
#include "lbctl/serve/live.hpp"
#include "pools/fleet.hpp"

namespace lbctl::serve {

inline constexpr std::size_t k_history_limit = 20;

// Updates `live` at wall time `now_ms`.
boost::asio::awaitable<void> poll_service(const Config& config, pools::Fleet& fleet, db::Journal& journal,
                                          ServiceLive& live, std::int64_t now_ms);

// The events of cutover `cutover_id` after `after_id`, only when that
// cutover is one of `service`'s (a page of one service never reads
// another's events); invalid otherwise.
Result<std::vector<db::Event>> service_events(db::Journal& journal, const std::string& service,
                                              std::int64_t cutover_id, std::int64_t after_id, std::size_t limit);

}  // namespace lbctl::serve
