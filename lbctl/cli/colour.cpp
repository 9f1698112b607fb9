#include "lbctl/cli/colour.hpp"

#include <cstdlib>

#include "lbctl/cli/table.hpp"

namespace lbctl {

bool colour_wanted(bool terminal, const char* no_color) {
  return terminal && (no_color == nullptr || *no_color == '\0');
}

bool stdout_colour_wanted() { return colour_wanted(stdout_is_terminal(), std::getenv("NO_COLOR")); }

}  // namespace lbctl
