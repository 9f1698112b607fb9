#pragma once
// What "healthy" means for a server: the endpoint(s) to ask, the answer to
// expect, and how often and how long to ask.

#include <chrono>
#include <cstdint>
#include <string>

namespace lbctl::health {

using Duration = std::chrono::milliseconds;

// How lbctl's own checks reach a server that speaks only HTTPS.
struct ProbeTls {
  bool https = false;   // health.scheme: https
  std::string ca_file;  // health.ca_file: verify with this CA bundle; empty = the system's
  bool verify = true;   // health.tls_verify: false skips the certificate and host name checks
};

struct CheckPolicy {
  ProbeTls tls;
  std::string path = "/health-check.html";
  int expect_status = 200;
  std::string expect_body;    // a substring of the body; empty = any body
  std::string database_path;  // a second endpoint that must pass too (same status; body not checked); empty = none
  Duration timeout{1000};     // per request, connect included
  Duration interval{500};     // from the start of one round to the start of the next
  int rise = 2;               // consecutive passing rounds to be healthy
  Duration deadline{300000};  // for the whole verification
  // Each round starts up to jitter_percent % of interval late, so many targets
  // do not stay in lock step; the seed makes the draw repeatable.
  int jitter_percent = 5;
  std::uint64_t jitter_seed = 0x6c62637463;
};

}  // namespace lbctl::health
