#include "health/classify.hpp"

#include <fmt/format.h>

#include "core/duration.hpp"

namespace lbctl::health {

std::string_view to_string(ProbeError kind) {
  switch (kind) {
    case ProbeError::connection_refused: return "connection refused";
    case ProbeError::timeout: return "timeout";
    case ProbeError::other: return "error";
  }
  return "error";
}

CheckResult classify(int status, std::string_view body, std::chrono::milliseconds latency, const CheckPolicy& policy) {
  // A transport that lets an answer run late (a fake, a stalled loop) must
  // not make a slow server look healthy.
  if (latency > policy.timeout) {
    return {false,
            fmt::format("timeout: answered after {}, limit {}", format_duration(latency), format_duration(policy.timeout)),
            Failure::timeout};
  }
  if (status != policy.expect_status)
    return {false, fmt::format("status {}, expected {}", status, policy.expect_status), Failure::status};
  if (!policy.expect_body.empty() && body.find(policy.expect_body) == std::string_view::npos)
    return {false, fmt::format("body does not contain '{}'", policy.expect_body), Failure::body};
  return {true, "ok"};
}

CheckResult classify(const ProbeFailure& failure, const CheckPolicy& policy) {
  switch (failure.kind) {
    case ProbeError::connection_refused: return {false, "connection refused", Failure::connection_refused};
    case ProbeError::timeout:
      return {false, fmt::format("timeout: no answer within {}", format_duration(policy.timeout)), Failure::timeout};
    case ProbeError::other: break;
  }
  return {false, failure.message.empty() ? std::string("error") : "error: " + failure.message, Failure::other};
}

CheckResult classify(const ProbeOutcome& outcome, const CheckPolicy& policy) {
  if (!outcome) return classify(outcome.error(), policy);
  return classify(outcome->status, outcome->body, outcome->latency, policy);
}

CheckResult classify_database(const ProbeOutcome& outcome, const CheckPolicy& policy) {
  CheckPolicy status_only = policy;
  status_only.expect_body.clear();
  CheckResult result = classify(outcome, status_only);
  if (!result.passed) result.reason = fmt::format("database check {}: {}", policy.database_path, result.reason);
  return result;
}

}  // namespace lbctl::health
