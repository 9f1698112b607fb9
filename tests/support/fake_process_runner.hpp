#pragma once
// An in-memory ProcessRunner for unit tests: records every command with its
// environment, answers with scripted exit codes and output.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/process.hpp"

namespace lbctl::test {

class FakeProcessRunner final : public ProcessRunner {
 public:
  boost::asio::awaitable<Result<ProcessResult>> run(ProcessSpec spec) override;

  // The result for a command whose argv[0] is `program` (default: exit 0).
  void script(const std::string& program, ProcessResult result) { m_scripts[program] = std::move(result); }
  // `program` runs past its timeout: the run fails with `timeout`, as the real runner's does.
  void time_out(const std::string& program) { m_timeouts.insert(program); }

  std::vector<ProcessSpec> runs;
  // argv[0] of each run, in order.
  std::vector<std::string> programs() const;
  // The value of `name` in the environment of run `i` ("" when absent).
  std::string env(std::size_t i, const std::string& name) const;

 private:
  std::map<std::string, ProcessResult> m_scripts;
  std::set<std::string> m_timeouts;
};

}  // namespace lbctl::test
