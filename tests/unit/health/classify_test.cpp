#include "tests/support/catch.hpp"

#include "health/classify.hpp"

using namespace lbctl::health;
using namespace std::chrono_literals;

namespace {

CheckPolicy policy_expecting(std::string body) {
  CheckPolicy policy;
  policy.expect_status = 200;
  policy.expect_body = std::move(body);
  policy.timeout = 1s;
  return policy;
}

}  // namespace

TEST_CASE("an expected status with the expected body passes", "[health][classify]") {
  CHECK(classify(200, "all ok here", 3ms, policy_expecting("ok")) == CheckResult{true, "ok"});
}

TEST_CASE("any body passes when no body is expected", "[health][classify]") {
  CHECK(classify(200, "", 3ms, policy_expecting("")).passed);
}

TEST_CASE("a wrong status fails and names the code it got and the one expected", "[health][classify]") {
  CHECK(classify(404, "not found", 3ms, policy_expecting("")) == CheckResult{false, "status 404, expected 200", Failure::status});
  CHECK(classify(503, "ok", 3ms, policy_expecting("ok")) == CheckResult{false, "status 503, expected 200", Failure::status});
}

TEST_CASE("a body without the expected text fails and quotes the text", "[health][classify]") {
  CHECK(classify(200, "maintenance", 3ms, policy_expecting("ok")) ==
        CheckResult{false, "body does not contain 'ok'", Failure::body});
}

TEST_CASE("another expected status is honoured", "[health][classify]") {
  CheckPolicy policy = policy_expecting("");
  policy.expect_status = 204;
  CHECK(classify(204, "", 3ms, policy).passed);
  CHECK(classify(200, "", 3ms, policy).reason == "status 200, expected 204");
}

TEST_CASE("an answer that came after the timeout is a timeout", "[health][classify]") {
  CHECK(classify(200, "ok", 1500ms, policy_expecting("ok")) ==
        CheckResult{false, "timeout: answered after 1500ms, limit 1s", Failure::timeout});
}

TEST_CASE("a refused connection fails as connection refused", "[health][classify]") {
  const ProbeOutcome outcome = std::unexpected(ProbeFailure{ProbeError::connection_refused, "Failed to connect", 0ms});
  CHECK(classify(outcome, policy_expecting("")) == CheckResult{false, "connection refused", Failure::connection_refused});
}

TEST_CASE("a transport timeout fails as a timeout and names the limit", "[health][classify]") {
  const ProbeOutcome outcome = std::unexpected(ProbeFailure{ProbeError::timeout, "Operation timed out", 1000ms});
  CHECK(classify(outcome, policy_expecting("")) == CheckResult{false, "timeout: no answer within 1s", Failure::timeout});
}

TEST_CASE("another transport error fails with the transport's words", "[health][classify]") {
  const ProbeOutcome outcome = std::unexpected(ProbeFailure{ProbeError::other, "Empty reply from server", 2ms});
  CHECK(classify(outcome, policy_expecting("")) == CheckResult{false, "error: Empty reply from server", Failure::other});
}

TEST_CASE("a response outcome is classified by status and body", "[health][classify]") {
  const ProbeOutcome outcome = HttpResponse{404, "nope", 2ms, false};
  CHECK(classify(outcome, policy_expecting("")).reason == "status 404, expected 200");
}

TEST_CASE("the database check names its path and ignores the expected body", "[health][classify]") {
  CheckPolicy policy = policy_expecting("ok");
  policy.database_path = "/health/db";
  CHECK(classify_database(HttpResponse{200, "db fine", 2ms, false}, policy).passed);
  CHECK(classify_database(HttpResponse{503, "no db", 2ms, false}, policy).reason ==
        "database check /health/db: status 503, expected 200");
  const ProbeOutcome refused = std::unexpected(ProbeFailure{ProbeError::connection_refused, "", 0ms});
  CHECK(classify_database(refused, policy).reason == "database check /health/db: connection refused");
}
