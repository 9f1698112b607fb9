#pragma once
// What HAProxy says about its processes, read apart from the transport:
// `show info` (which process answers) and the master CLI's `show proc`
// (the workers a reload left behind).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lbctl::pools {

// Which HAProxy process answers: `show info`'s Pid and Start_time_sec. It
// changes on every reload (a new worker) and restart.
struct LbIdentity {
  std::uint64_t pid = 0;
  std::uint64_t start_time = 0;

  bool known() const { return pid != 0; }
  bool operator==(const LbIdentity&) const = default;
};

// Reads Pid and Start_time_sec from a `show info` answer (zeros when absent).
LbIdentity parse_identity(std::string_view show_info);

// Which HAProxy answers: `show info`'s Version ("3.0.11-1+deb13u4"), and
// its branch as numbers. What lbctl may ask of an LB depends on it (`cookie`
// on `add server` from 3.0 on).
struct HaproxyVersion {
  std::string text;  // as HAProxy says it; empty when it does not
  int major = 0;
  int minor = 0;

  bool known() const { return !text.empty(); }
  // True for major.minor and later; false when the version is not known.
  bool at_least(int want_major, int want_minor) const {
    return known() && (major > want_major || (major == want_major && minor >= want_minor));
  }
};

// Reads Version from a `show info` answer (unknown when absent or not
// "MAJOR.MINOR..."; the text is kept only when it is printable, at most 64 characters).
HaproxyVersion parse_version(std::string_view show_info);

// A worker a reload left behind, still finishing its sessions (`show proc`
// on the master CLI lists it with a reload count above 0).
struct OldWorker {
  std::uint64_t pid = 0;
  unsigned reloads = 0;
};
std::vector<OldWorker> parse_old_workers(std::string_view show_proc);

// What the master CLI's `@!PID show stat` said of an old worker: it has
// ended ("Can't find the target": no sessions left), it did not answer (an
// ending worker: nothing on 2.6, "Can't connect to the target CLI!" on 3.0),
// or it answered (its stats, to parse).
enum class OldWorkerAnswer { ended, unanswered, stats };
OldWorkerAnswer classify_old_worker_answer(std::string_view answer);

}  // namespace lbctl::pools
