#include "db/backup_archive.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <set>
#include <sstream>

namespace lbctl::db {

namespace {

// pg_dump's entry types; several are more than one word, so the longest
// match wins ("TABLE DATA" before "TABLE").
constexpr std::array k_types{std::string_view("PUBLICATION TABLES IN SCHEMA"),
                             std::string_view("TEXT SEARCH CONFIGURATION"),
                             std::string_view("TEXT SEARCH DICTIONARY"),
                             std::string_view("TEXT SEARCH TEMPLATE"),
                             std::string_view("TEXT SEARCH PARSER"),
                             std::string_view("FOREIGN DATA WRAPPER"),
                             std::string_view("MATERIALIZED VIEW DATA"),
                             std::string_view("PROCEDURAL LANGUAGE"),
                             std::string_view("DATABASE PROPERTIES"),
                             std::string_view("PUBLICATION TABLE"),
                             std::string_view("SEQUENCE OWNED BY"),
                             std::string_view("MATERIALIZED VIEW"),
                             std::string_view("CHECK CONSTRAINT"),
                             std::string_view("OPERATOR FAMILY"),
                             std::string_view("OPERATOR CLASS"),
                             std::string_view("SECURITY LABEL"),
                             std::string_view("ACCESS METHOD"),
                             std::string_view("EVENT TRIGGER"),
                             std::string_view("FK CONSTRAINT"),
                             std::string_view("FOREIGN TABLE"),
                             std::string_view("LARGE OBJECT"),
                             std::string_view("ROW SECURITY"),
                             std::string_view("SEQUENCE SET"),
                             std::string_view("USER MAPPING"),
                             std::string_view("INDEX ATTACH"),
                             std::string_view("TABLE ATTACH"),
                             std::string_view("DEFAULT ACL"),
                             std::string_view("SHELL TYPE"),
                             std::string_view("TABLE DATA")};

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

std::optional<std::chrono::system_clock::time_point> utc_time(std::string_view text) {
  std::tm tm{};
  char zone[8] = {};
  const std::string copy(text);
  if (std::sscanf(copy.c_str(), "%d-%d-%d %d:%d:%d %7s", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, zone) != 7 ||
      std::string_view(zone) != "UTC") {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

// "216; 1259 16386 TABLE public orders app" -> its parts.
std::optional<ArchiveEntry> parse_entry(std::string_view line) {
  const auto semicolon = line.find("; ");
  if (semicolon == std::string_view::npos || semicolon == 0) return std::nullopt;
  std::string_view rest = line.substr(semicolon + 2);
  for (int oid = 0; oid < 2; ++oid) {
    const auto space = rest.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(space + 1);
  }
  ArchiveEntry entry{std::string(line), {}, {}, {}};
  const auto known = std::find_if(k_types.begin(), k_types.end(), [&](std::string_view type) {
    return rest.starts_with(type) && rest.size() > type.size() && rest[type.size()] == ' ';
  });
  const std::size_t type_end = known != k_types.end() ? known->size() : rest.find(' ');
  if (type_end == std::string_view::npos) return std::nullopt;
  entry.type = std::string(rest.substr(0, type_end));
  rest.remove_prefix(type_end + 1);
  const auto schema_end = rest.find(' ');
  entry.schema = std::string(rest.substr(0, schema_end));
  if (schema_end == std::string_view::npos) return entry;
  rest.remove_prefix(schema_end + 1);
  // The owner is the last word (empty for comments and grants: a trailing space).
  const auto owner_at = rest.rfind(' ');
  entry.name = std::string(owner_at == std::string_view::npos ? rest : rest.substr(0, owner_at));
  return entry;
}

bool belongs_to(const ArchiveEntry& e, std::string_view schema) {
  if (e.schema == schema) return true;
  if (e.type == "SCHEMA" && e.name == schema) return true;
  return e.schema == "-" && e.name == "SCHEMA " + std::string(schema);
}

bool names_table(std::string_view qualified, std::string_view name) {
  return qualified == name || (qualified.size() > name.size() && qualified.ends_with(name) &&
                               qualified[qualified.size() - name.size() - 1] == '.');
}

std::optional<std::string> decode_copy_field(std::string_view field) {
  if (field == "\\N") return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '\\' || i + 1 == field.size()) {
      out += field[i];
      continue;
    }
    const char c = field[++i];
    out += c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
  }
  return out;
}

std::vector<std::string> split(std::string_view text, std::string_view separator) {
  std::vector<std::string> out;
  for (;;) {
    const auto at = text.find(separator);
    out.emplace_back(text.substr(0, at));
    if (at == std::string_view::npos) return out;
    text.remove_prefix(at + separator.size());
  }
}

bool blank_or_control(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte <= 0x20 || byte == 0x7f;
}

// In quotes, with control characters and quotes as \xNN: safe to print.
std::string shown(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f || c == '"') {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

Result<void> unambiguous_schema_names(const BackupArchive& archive) {
  for (const auto& e : archive.entries) {
    const std::string& name = e.type == "SCHEMA" ? e.name : e.schema;
    if (std::none_of(name.begin(), name.end(), blank_or_control)) continue;
    return fail(ErrorKind::invalid,
                "the backup holds a schema named " + shown(name) +
                    " (as pg_restore --list prints it): a blank or a control character in a schema's name cannot be "
                    "told from the words around it there, so lbctl cannot tell which objects the restore would "
                    "replace; rename the schema, or restore this backup by hand with pg_restore; nothing changed");
  }
  return {};
}

bool BackupArchive::has(std::string_view type, std::string_view schema, std::string_view name) const {
  return std::any_of(entries.begin(), entries.end(),
                     [&](const ArchiveEntry& e) { return e.type == type && e.schema == schema && e.name == name; });
}

std::vector<std::string> BackupArchive::schemas(std::string_view excluded) const {
  std::set<std::string> found;
  for (const auto& e : entries) {
    if (e.schema != "-" && !e.schema.empty()) found.insert(e.schema);
    if (e.type == "SCHEMA") found.insert(e.name);
  }
  found.erase(std::string(excluded));
  found.erase("pg_catalog");
  return {found.begin(), found.end()};
}

Result<BackupArchive> parse_archive_list(std::string_view text) {
  BackupArchive archive;
  bool header = false;
  for (const auto line : lines_of(text)) {
    if (line.starts_with(";")) {
      constexpr std::string_view k_created = "; Archive created at ";
      constexpr std::string_view k_format = "Format: ";
      if (line.starts_with(k_created)) {
        header = true;
        archive.created_at = utc_time(line.substr(k_created.size()));
      } else if (const auto at = line.find(k_format); at != std::string_view::npos) {
        archive.format = std::string(line.substr(at + k_format.size()));
      }
      continue;
    }
    if (auto entry = parse_entry(line)) archive.entries.push_back(std::move(*entry));
  }
  if (!header) return fail(ErrorKind::invalid, "pg_restore --list printed no archive header");
  if (archive.entries.empty()) return fail(ErrorKind::invalid, "the archive lists no object");
  return archive;
}

std::string restore_list(const BackupArchive& archive, std::string_view excluded) {
  std::string out;
  for (const auto& e : archive.entries) out += (belongs_to(e, excluded) ? ";" : "") + e.line + "\n";
  return out;
}

std::string values_list(const BackupArchive& archive, std::string_view history_table) {
  std::string out;
  for (const auto& e : archive.entries) {
    if (e.type == "SEQUENCE SET" || (e.type == "TABLE DATA" && e.name == history_table)) out += e.line + "\n";
  }
  return out;
}

std::vector<SequenceValue> parse_sequence_values(std::string_view script) {
  constexpr std::string_view k_call = "pg_catalog.setval('";
  std::vector<SequenceValue> out;
  for (const auto line : lines_of(script)) {
    const auto at = line.find(k_call);
    if (at == std::string_view::npos) continue;
    std::string_view rest = line.substr(at + k_call.size());
    SequenceValue value;
    std::size_t i = 0;
    for (; i < rest.size(); ++i) {
      if (rest[i] == '\'' && i + 1 < rest.size() && rest[i + 1] == '\'') {
        value.sequence += '\'';
        ++i;
      } else if (rest[i] == '\'') {
        break;
      } else {
        value.sequence += rest[i];
      }
    }
    if (i >= rest.size() || !rest.substr(i).starts_with("', ")) continue;
    rest.remove_prefix(i + 3);
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value.value);
    if (ec != std::errc{}) continue;
    value.is_called = std::string_view(end, rest.data() + rest.size()).starts_with(", true");
    out.push_back(std::move(value));
  }
  return out;
}

std::vector<CopyRow> parse_copy_rows(std::string_view script, std::string_view name) {
  std::vector<CopyRow> rows;
  std::vector<std::string> columns;
  bool inside = false;
  for (const auto line : lines_of(script)) {
    if (inside) {
      if (line == "\\.") break;
      const auto fields = split(line, "\t");
      CopyRow row;
      for (std::size_t i = 0; i < columns.size() && i < fields.size(); ++i)
        row[columns[i]] = decode_copy_field(fields[i]);
      rows.push_back(std::move(row));
      continue;
    }
    // COPY public.lbctl_schema_migrations (version, phase, ...) FROM stdin;
    if (!line.starts_with("COPY ") || !line.ends_with(" FROM stdin;")) continue;
    const auto open = line.find(" (");
    const auto close = line.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open) continue;
    if (!names_table(line.substr(5, open - 5), name)) continue;
    columns = split(line.substr(open + 2, close - open - 2), ", ");
    inside = true;
  }
  return rows;
}

}  // namespace lbctl::db
