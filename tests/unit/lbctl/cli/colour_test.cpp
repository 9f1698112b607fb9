#include "tests/support/catch.hpp"

#include <sstream>

#include "lbctl/cli/colour.hpp"
#include "lbctl/cli/sinks.hpp"
#include "lbctl/cutover/events.hpp"

using namespace lbctl;

namespace {

std::string terminal_output(bool colour) {
  std::ostringstream out;
  TerminalSink sink(out, colour);
  sink.emit(Event{.step = "drain", .kind = EventKind::step_started, .text = "draining 4 old servers"});
  return out.str();
}

}  // namespace

TEST_CASE("colour only on a terminal, and not when NO_COLOR is set and not empty", "[colour]") {
  CHECK(colour_wanted(true, nullptr));
  CHECK(colour_wanted(true, ""));
  CHECK_FALSE(colour_wanted(true, "1"));
  CHECK_FALSE(colour_wanted(true, "0"));  // any value: no-color.org
  CHECK_FALSE(colour_wanted(false, nullptr));
  CHECK_FALSE(colour_wanted(false, "1"));
}

TEST_CASE("the live display's current step is bold only with colour", "[colour][events]") {
  const auto with = terminal_output(true);
  CHECK_THAT(with, Catch::Contains("\x1b[1m> drain\x1b[0m"));
  const auto without = terminal_output(false);
  CHECK_THAT(without, Catch::Contains("> drain ("));
  CHECK(without.find("\x1b[1m") == std::string::npos);
  CHECK(without.find("\x1b[0m") == std::string::npos);
}
