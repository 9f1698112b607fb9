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

bool is_valid_name(std::string_view name) { return !name.empty() && is_valid_name_chars(name); }

}  // namespace lbctl
