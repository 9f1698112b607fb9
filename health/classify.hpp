#pragma once
// The verdict on one answer, apart from the transport (Envoy's split): pure
// functions of what came back and what the policy expects.

#include <chrono>
#include <string>
#include <string_view>

#include "health/policy.hpp"
#include "health/probe.hpp"

namespace lbctl::health {

// What was wrong, for code; the reason says it for people.
enum class Failure { none, connection_refused, timeout, status, body, other };

struct CheckResult {
  bool passed = false;
  std::string reason;  // "ok" when passed; else what was wrong, in a user's words
  Failure failure = Failure::none;

  bool operator==(const CheckResult&) const = default;
};

// An HTTP answer: the status must equal expect_status, the body must contain
// expect_body (when set), and it must have come within the timeout.
// Reasons: "status 404, expected 200", "body does not contain 'ok'",
// "timeout: answered after 1.2s, limit 1s".
CheckResult classify(int status, std::string_view body, std::chrono::milliseconds latency, const CheckPolicy& policy);

// A transport failure: "connection refused", "timeout: no answer within 1s",
// or "error: <libcurl's words>".
CheckResult classify(const ProbeFailure& failure, const CheckPolicy& policy);

// Either of the above.
CheckResult classify(const ProbeOutcome& outcome, const CheckPolicy& policy);

// The database endpoint: its status must equal expect_status; the body is not
// checked (it is the app's own proof). Reasons start with "database check ".
CheckResult classify_database(const ProbeOutcome& outcome, const CheckPolicy& policy);

}  // namespace lbctl::health
