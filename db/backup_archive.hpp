#pragma once
// What lbctl reads from a pg_dump archive (custom or tar format) before it
// restores one, through pg_restore's own output: the table of contents
// (`pg_restore --list`), the sequences' values and the migration history
// (`pg_restore -L LIST -f -`). Pure text handling; pg_restore.cpp runs the
// programs.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace lbctl::db {

// One line of `pg_restore --list`: "216; 1259 16386 TABLE public orders app".
struct ArchiveEntry {
  std::string line;    // as listed, for a -L list
  std::string type;    // "TABLE", "TABLE DATA", "SEQUENCE SET", "SCHEMA", "COMMENT", ...
  std::string schema;  // "-" for objects outside any schema
  std::string name;    // "orders"; "SCHEMA app" for a COMMENT or ACL on a schema
};

struct BackupArchive {
  // "; Archive created at 2026-11-21 10:15:30 UTC" (pg_restore run with TZ=UTC).
  std::optional<std::chrono::system_clock::time_point> created_at;
  std::string format;  // "CUSTOM", "TAR"
  std::vector<ArchiveEntry> entries;

  bool has(std::string_view type, std::string_view schema, std::string_view name) const;
  // The schemas the archive holds objects of (and SCHEMA entries), sorted,
  // without `excluded`.
  std::vector<std::string> schemas(std::string_view excluded) const;
};

// Parses `pg_restore --list` output. Fails (invalid) when it holds no
// "Archive created at" header or no entry: not pg_restore's list.
Result<BackupArchive> parse_archive_list(std::string_view text);

// Refuses (invalid, naming it) a schema whose name holds a blank or a
// control character: `pg_restore --list` separates its fields with spaces
// and prints a newline as a space, so such a name cannot be told from the
// words around it, and the restore could not know which objects are in it.
Result<void> unambiguous_schema_names(const BackupArchive& archive);

// A -L list with every entry of `archive` but those of schema `excluded`
// (the schema itself, its objects, and comments and grants on it), which are
// commented out. lbctl's journal lives in schema lbctl when the state and
// application databases are one: a restore must not rewind it.
std::string restore_list(const BackupArchive& archive, std::string_view excluded);

// A -L list of only the SEQUENCE SET entries and the TABLE DATA of
// `history_table` (in any schema): what the preview reads from the backup.
std::string values_list(const BackupArchive& archive, std::string_view history_table);

// A sequence's value as the backup sets it: SELECT pg_catalog.setval('public.orders_id_seq', 250, true);
struct SequenceValue {
  std::string sequence;  // as pg_restore quotes it: "public.orders_id_seq", "public.\"Odd\""
  std::int64_t value = 0;
  bool is_called = true;  // false: the next value is `value` itself, not value + 1
};
std::vector<SequenceValue> parse_sequence_values(std::string_view script);

// The rows of the COPY block of table `name` (any schema) in a pg_restore
// script, each as column -> value (nullopt for NULL), COPY's text escapes
// decoded. Empty when the script has no such block.
using CopyRow = std::map<std::string, std::optional<std::string>>;
std::vector<CopyRow> parse_copy_rows(std::string_view script, std::string_view name);

}  // namespace lbctl::db
