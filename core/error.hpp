#pragma once
// The error vocabulary every adapter returns: what kind of failure, and the
// words a user needs to act on it.

#include <expected>
#include <string>
#include <string_view>

namespace lbctl {

enum class ErrorKind {
  timeout,      // the other side did not answer in time
  unreachable,  // could not connect at all (refused, no such socket, DNS)
  refused,      // it answered, and said no (HAProxy error text, SQL error, exit code)
  invalid,      // the input or the answer is malformed
  conflict,     // the world is not as expected (lock held, stale write, name taken)
  cancelled,    // stopped on request
};

std::string_view to_string(ErrorKind kind);

struct Error {
  ErrorKind kind;
  std::string message;

  // "where: what" chains, outermost first: context("lb1", e) -> "lb1: <e>".
  Error with_context(std::string_view where) const;
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(ErrorKind kind, std::string message) {
  return std::unexpected<Error>(Error{kind, std::move(message)});
}

}  // namespace lbctl
