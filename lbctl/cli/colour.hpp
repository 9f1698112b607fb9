#pragma once
// Whether lbctl's output may carry colour and other text attributes (ANSI
// SGR sequences): only on a terminal, and never when NO_COLOR is set to a
// non-empty value (no-color.org). Cursor movement for live displays is not
// colour and stays.

namespace lbctl {

// `terminal`: the stream is a terminal; `no_color`: NO_COLOR's value
// (nullptr when unset).
bool colour_wanted(bool terminal, const char* no_color);

// colour_wanted for stdout and this process's NO_COLOR.
bool stdout_colour_wanted();

}  // namespace lbctl
