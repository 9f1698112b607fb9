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

}  // namespace lbctl::serve
