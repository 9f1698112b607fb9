#pragma once
// Small pieces the e2e stack's files share (stack.cpp, stack_app_hosts.cpp).

#include <string>
#include <vector>

#include "tests/support/lab.hpp"

namespace lbctl::test {

// The HTTP status of a GET from a lab host (0: no answer).
int lab_get(const Lab& lab, const std::string& host, const std::string& url);
// The new servers' port range, "A-B", of this test process.
std::string new_server_ports();
// A YAML flow list of double-quoted strings, quotes and backslashes escaped.
std::string yaml_list(const std::vector<std::string>& items);

}  // namespace lbctl::test
