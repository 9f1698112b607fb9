#pragma once
// Which release a cutover deploys: `--release` wins over the config's
// `release:`; without either the journal names it r<cutover id>.

#include <string>

#include "core/error.hpp"
#include "db/journal.hpp"
#include "lbctl/config/config.hpp"

namespace lbctl::cli {

// The release given (the flag, else the config's); "" when none. invalid
// (exit 2) for a flag that is not 1-64 characters from [A-Za-z0-9._-].
Result<std::string> given_release(const std::string& flag, const Config& config);

// The same for `plan`, which starts no cutover: without one given, the name
// the next cutover will get (r<its id>), read from the journal.
Result<std::string> planned_release(const std::string& flag, const Config& config, db::Journal& journal);

}  // namespace lbctl::cli
