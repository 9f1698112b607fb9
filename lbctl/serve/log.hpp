#pragma once
// serve's log: one line per event on stderr, "lbctl serve: " and the text
// (under systemd, journald adds the time and the unit). Written through
// spdlog, which keeps lines whole when threads log at once (the pollers'
// thread and the HTTP loop).

#include <string_view>

namespace lbctl::serve {

void log_info(std::string_view text);
void log_warning(std::string_view text);
void log_error(std::string_view text);

}  // namespace lbctl::serve
