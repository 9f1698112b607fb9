#include "lbctl/cutover/outcome.hpp"

#include "core/enum_names.hpp"

namespace lbctl {

namespace {

constexpr auto k_outcomes = enum_names<Outcome>({
    {Outcome::done, "done"},
    {Outcome::failed, "failed"},
    {Outcome::usage, "usage"},
    {Outcome::needs_operator, "needs_operator"},
    {Outcome::locked, "locked"},
    {Outcome::unreachable, "unreachable"},
});

}  // namespace

std::string_view to_string(Outcome outcome) { return k_outcomes.name(outcome); }

Outcome outcome_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::unreachable:
    case ErrorKind::timeout: return Outcome::unreachable;
    case ErrorKind::conflict: return Outcome::locked;
    case ErrorKind::invalid: return Outcome::usage;
    case ErrorKind::refused:
    case ErrorKind::cancelled: return Outcome::failed;
  }
  return Outcome::failed;
}

}  // namespace lbctl
