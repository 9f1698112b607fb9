#include "core/names.hpp"

namespace lbctl {

bool is_valid_name_chars(std::string_view text) {
  if (text.size() > k_max_name_length) return false;
  for (char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// A leading '-' would read as an option wherever a name reaches a program's
// argv (ssh HOST, a provider's {name}).
bool is_valid_name(std::string_view name) { return !name.empty() && name.front() != '-' && is_valid_name_chars(name); }

}  // namespace lbctl
