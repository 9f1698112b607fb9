#pragma once
// JSON text written by hand where a document tree would cost more than the
// text (a record of 20,000 servers), or where none is linked (the demo app).

#include <string>
#include <string_view>

namespace lbctl {

// Appends `text` as a JSON string: quotes, backslashes and control
// characters escaped, other bytes as they are.
void append_json_string(std::string& out, std::string_view text);

}  // namespace lbctl
