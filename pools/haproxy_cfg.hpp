#pragma once
// haproxy.cfg and map files as text lbctl can rewrite. Runtime API changes
// (`add server`, `del server`, `set server state`, `set weight`, `add map`)
// are lost on reload, so after each batch lbctl writes them into the files
// HAProxy reads at start. Only the lines that must change change: every other
// byte (comments, spacing, other sections, each line's own line end) stays.
// Pure functions over text; reading and writing the files is the caller's.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace lbctl::pools {

// One `server` line of the backend's section.
struct CfgServerLine {
  std::string name;
  std::string address;              // the second argument as written (unquoted)
  std::size_t line = 0;             // 1-based line number in the file
  std::string text;                 // the line as written, without its line end
  std::optional<unsigned> weight;   // `weight N` on the line (the last one when several)
  bool disabled = false;            // starts in maintenance: its last `disabled`/`enabled`, else the default-server's
  std::optional<std::uint64_t> id;  // `id N` on the line
  unsigned default_weight = 1;      // what `default-server` says at this line (they apply to lines below them)
  bool default_disabled = false;    // `default-server ... disabled` at this line

  // The weight HAProxy gives the server when it reads the file.
  unsigned effective_weight() const { return weight.value_or(default_weight); }
};

// How a backend keeps a user on one server, as its section (and the defaults
// it inherits) says. The `dynamic-cookie-key`'s value is a secret: only its
// presence is kept.
struct CfgPersistence {
  // The `cookie` line's words after the keyword ("SRV insert indirect nocache
  // dynamic"); "" when none.
  std::string cookie;
  bool cookie_dynamic = false;      // `dynamic` is one of them
  bool dynamic_cookie_key = false;  // a `dynamic-cookie-key` applies
  // The section's stick-table and stick rules, as written ("stick-table type
  // ip size 1m expire 30m", "stick on src").
  std::vector<std::string> stick;
  // The tables those rules use: `table NAME` on a rule, else the section's
  // own (named like it) when it declares one.
  std::vector<std::string> stick_tables;
  bool option_persist = false;  // `option persist`: a cookie holds even when its server is down
  bool force_persist = false;   // `force-persist` rules
  bool any() const { return !cookie.empty() || !stick.empty() || force_persist; }
};

struct CfgBackend {
  std::string kind;  // "backend" or "listen"
  std::string name;
  std::size_t header_line = 0;  // 1-based
  std::size_t last_line = 0;    // 1-based, last line of the section
  std::vector<CfgServerLine> servers;
  // What a server line without `weight` gets at the end of the section:
  // `default-server ... weight N` in the section, else in the defaults
  // section it inherits (the last `defaults` before it, or `from NAME` on its
  // header, following that section's own `from`), else 1.
  unsigned default_weight = 1;
  bool default_disabled = false;  // likewise for `default-server ... disabled`
  // `hash-type`'s method ("map-based", "consistent"), from the section or the
  // defaults it inherits; "" when none says (HAProxy's default: map-based).
  std::string hash_type;
  CfgPersistence persistence;
};

// Finds the section `backend NAME` or `listen NAME` and reads its server
// lines. Fails (invalid, "line N: ...") when it is missing or defined twice,
// when it holds a `server-template`, an `.if`/`.elif`/`.else`/`.endif`, a
// server name twice, a `server` line without name and address, an unclosed
// quote or a `weight`/`id` that is not a number, when `from NAME` names no
// earlier defaults section, and when the file holds a NUL byte.
Result<CfgBackend> find_backend(std::string_view text, std::string_view backend);

// What the live LB holds for one server, as the file must say it.
struct DesiredServer {
  std::string name;
  std::string address;   // HOST:PORT, for lines lbctl writes
  std::uint64_t id = 0;  // for lines lbctl writes (0: no `id`)
  std::string options;   // for lines lbctl writes, e.g. "check inter 1s fall 2 rise 2"
  bool maint = false;    // -> `disabled`
  unsigned weight = 1;   // the user weight

  friend bool operator==(const DesiredServer&, const DesiredServer&) = default;
};

// The file's text with the backend's server lines equal to `servers`:
// - a server with a line keeps it, with only `disabled` (added or removed with
//   the blank before it) and `weight` (value replaced, or ` weight N` added
//   when it differs from the line's effective weight) changed; what is added
//   goes after the last word, before a trailing comment;
// - a server without a line gets `server NAME ADDRESS [id ID] [OPTIONS]
//   [weight W] [disabled]`, in the order of `servers`, after the section's
//   last server line (with none, after its last line that is neither blank
//   nor a comment), indented like the last server line, else like the
//   section's first indented line, else 4 spaces;
// - a server line whose name is not in `servers` goes, with its line end;
// - every other byte stays; new lines take the line end most lines use; a
//   file that ended without a newline still does.
// Returns the text byte-equal when it already says so. Fails like
// find_backend, when a name is listed twice, when a new line's name, address
// or options cannot be written on one line, and when the written file would
// not read back as `servers` (e.g. options that hold `weight` or `disabled`).
Result<std::string> rewrite_backend_servers(std::string_view text, std::string_view backend,
                                            const std::vector<DesiredServer>& servers);

// A unified diff for `lbctl plan`: "--- LABEL" / "+++ LABEL", then hunks with
// "@@ -a,b +c,d @@" headers, three lines of context, "-old" / "+new" lines,
// and GNU diff's "\ No newline at end of file" marker. Empty when equal.
std::string line_diff(std::string_view before, std::string_view after, std::string_view label);

// Map files: `key value` per line, read as HAProxy 2.6 reads them (a '#' in
// the first column starts a comment; blank lines are skipped; the value is
// the rest of the line after the blanks that follow the key).
//
// The text with `key` mapped to `value`: the first line of `key` replaced by
// "key value" (kept as written when it already says `value`), later lines of
// `key` removed, or "key value" appended when absent; with nullopt, every
// line of `key` removed. Every other byte stays, line ends as in
// rewrite_backend_servers. Fails (invalid) on a NUL byte in the text, a key
// that is empty, holds a blank or a line end or starts with '#', and a value
// with a line end or a leading blank (HAProxy would not read it back).
Result<std::string> rewrite_map_key(std::string_view text, std::string_view key,
                                    const std::optional<std::string>& value);

// The value of `key` (its first line) in a map file's text; nullopt when absent.
std::optional<std::string> map_file_value(std::string_view text, std::string_view key);

}  // namespace lbctl::pools
