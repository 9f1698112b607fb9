#pragma once
// The config file's text as one YAML document, guarded against what
// yaml-cpp 0.7 (Debian 12) does wrong with some malformed input.

#include <string>
#include <yaml-cpp/yaml.h>

#include "lbctl/config/config_reader.hpp"

namespace lbctl::config_detail {

// The file's one document. Fails (through `reader`) on a NUL byte, on
// malformed YAML, on an empty file and on a second document.
YAML::Node load_document(const Reader& reader, const std::string& text);

}  // namespace lbctl::config_detail
