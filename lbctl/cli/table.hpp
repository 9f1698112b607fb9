#pragma once
// Plain text tables for terminals: columns padded to their widest cell.

#include <string>
#include <vector>

namespace lbctl {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : m_rows{std::move(header)} {}
  void add(std::vector<std::string> row) { m_rows.push_back(std::move(row)); }
  std::string render(std::string_view indent = "") const;

 private:
  std::vector<std::vector<std::string>> m_rows;
};

// True when stdout is a terminal (live displays, tables); false when piped.
bool stdout_is_terminal();

}  // namespace lbctl
