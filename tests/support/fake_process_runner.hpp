#pragma once
// An in-memory ProcessRunner for unit tests: records every command with its
// environment, answers with scripted exit codes and output.

#include <map>
#include <string>
#include <vector>

#include "core/process.hpp"

namespace lbctl::test {

class FakeProcessRunner final : public ProcessRunner {
 public:
  boost::asio::awaitable<Result<ProcessResult>> run(ProcessSpec spec) override;

  // The result for a command whose argv[0] is `program` (default: exit 0).
  void script(const std::string& program, ProcessResult result) { m_scripts[program] = std::move(result); }

  std::vector<ProcessSpec> runs;
  // argv[0] of each run, in order.
  std::vector<std::string> programs() const;
  // The value of `name` in the environment of run `i` ("" when absent).
  std::string env(std::size_t i, const std::string& name) const;

 private:
  std::map<std::string, ProcessResult> m_scripts;
};

}  // namespace lbctl::test
