#include "core/error.hpp"

namespace lbctl {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::unreachable: return "unreachable";
    case ErrorKind::refused: return "refused";
    case ErrorKind::invalid: return "invalid";
    case ErrorKind::conflict: return "conflict";
    case ErrorKind::cancelled: return "cancelled";
  }
  return "unknown";
}

Error Error::with_context(std::string_view where) const {
  std::string text(where);
  text += ": ";
  text += message;
  return Error{kind, std::move(text)};
}

}  // namespace lbctl
