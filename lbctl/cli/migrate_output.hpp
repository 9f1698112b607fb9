#pragma once
// How the `lbctl migrate` commands (pre, post, baseline, repair) print:
// human lines on stdout, or one JSON object per line with --json; errors on
// stderr too, as "error: ...".

#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.hpp"

namespace lbctl::cli {

class MigrateOutput {
 public:
  explicit MigrateOutput(bool json) : m_json(json) {}
  bool json() const { return m_json; }
  // A null event is a human-only line.
  void line(const std::string& text, const nlohmann::json& event) const {
    if (m_json) {
      if (!event.is_null()) std::cout << event.dump() << "\n" << std::flush;
    } else {
      std::cout << text << "\n" << std::flush;
    }
  }
  int error(const Error& e, int exit_code) const {
    if (m_json) {
      std::cout << nlohmann::json{{"event", "error"},
                                  {"kind", to_string(e.kind)},
                                  {"message", e.message},
                                  {"exit_code", exit_code}}
                       .dump()
                << "\n";
    }
    std::cerr << "error: " << e.message << "\n";
    return exit_code;
  }

 private:
  bool m_json;
};

}  // namespace lbctl::cli
