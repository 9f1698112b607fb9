#include "db/backup_archive.hpp"

#include "tests/support/catch.hpp"

#include "core/time_format.hpp"

using namespace lbctl::db;
using Strings = std::vector<std::string>;

namespace {

// `TZ=UTC pg_restore --list` of a database whose journal (schema lbctl) lives beside the application.
const std::string k_list = R"(;
; Archive created at 2026-11-21 10:15:30 UTC
;     dbname: app
;     TOC Entries: 16
;     Compression: -1
;     Dump Version: 1.14-0
;     Format: CUSTOM
;
;
; Selected TOC Entries:
;
6; 2615 16394 SCHEMA - lbctl app
3360; 0 0 COMMENT - SCHEMA lbctl app
217; 1259 16395 TABLE lbctl cutovers app
216; 1259 16386 TABLE public orders app
215; 1259 16385 SEQUENCE public orders_id_seq app
3356; 0 0 SEQUENCE OWNED BY public orders_id_seq app
3202; 2604 16389 DEFAULT public orders id app
218; 1259 16400 TABLE public lbctl_schema_migrations app
219; 1259 16401 MATERIALIZED VIEW billing totals app
3349; 0 16395 TABLE DATA lbctl cutovers app
3348; 0 16386 TABLE DATA public orders app
3350; 0 16400 TABLE DATA public lbctl_schema_migrations app
3357; 0 0 SEQUENCE SET public orders_id_seq app
3204; 2606 16393 CONSTRAINT public orders orders_pkey app
3361; 0 0 COMMENT - EXTENSION plpgsql 
)";

Strings names(const BackupArchive& archive) {
  Strings out;
  for (const auto& e : archive.entries) out.push_back(e.type + "|" + e.schema + "|" + e.name);
  return out;
}

}  // namespace

TEST_CASE("pg_restore's list is read into typed entries with the archive's time", "[db][restore]") {
  auto archive = parse_archive_list(k_list);
  REQUIRE(archive);
  REQUIRE(archive->created_at);
  CHECK(lbctl::format_time(*archive->created_at, lbctl::TimeFormat::human) == "2026-11-21 10:15:30 UTC");
  CHECK(archive->format == "CUSTOM");
  CHECK(names(*archive) == Strings{"SCHEMA|-|lbctl", "COMMENT|-|SCHEMA lbctl", "TABLE|lbctl|cutovers",
                                   "TABLE|public|orders", "SEQUENCE|public|orders_id_seq",
                                   "SEQUENCE OWNED BY|public|orders_id_seq", "DEFAULT|public|orders id",
                                   "TABLE|public|lbctl_schema_migrations", "MATERIALIZED VIEW|billing|totals",
                                   "TABLE DATA|lbctl|cutovers", "TABLE DATA|public|orders",
                                   "TABLE DATA|public|lbctl_schema_migrations", "SEQUENCE SET|public|orders_id_seq",
                                   "CONSTRAINT|public|orders orders_pkey", "COMMENT|-|EXTENSION plpgsql"});
  CHECK(archive->has("TABLE", "public", "orders"));
  CHECK_FALSE(archive->has("TABLE", "public", "audit"));
  CHECK(archive->schemas("lbctl") == Strings{"billing", "public"});
}

TEST_CASE("text that is not pg_restore's list is refused", "[db][restore]") {
  CHECK_FALSE(parse_archive_list("pg_restore: error: input file does not appear to be a valid archive\n"));
  CHECK_FALSE(parse_archive_list(";\n; Archive created at 2026-11-21 10:15:30 UTC\n;\n"));
}

TEST_CASE("the restore list leaves lbctl's journal schema out", "[db][restore]") {
  auto archive = parse_archive_list(k_list);
  REQUIRE(archive);
  const std::string list = restore_list(*archive, "lbctl");
  CHECK(list.find(";6; 2615 16394 SCHEMA - lbctl app\n") != std::string::npos);
  CHECK(list.find(";3360; 0 0 COMMENT - SCHEMA lbctl app\n") != std::string::npos);
  CHECK(list.find(";217; 1259 16395 TABLE lbctl cutovers app\n") != std::string::npos);
  CHECK(list.find(";3349; 0 16395 TABLE DATA lbctl cutovers app\n") != std::string::npos);
  CHECK(list.find("\n216; 1259 16386 TABLE public orders app\n") != std::string::npos);
  CHECK(list.find("\n3361; 0 0 COMMENT - EXTENSION plpgsql \n") != std::string::npos);
  CHECK(values_list(*archive, "lbctl_schema_migrations") ==
        "3350; 0 16400 TABLE DATA public lbctl_schema_migrations app\n"
        "3357; 0 0 SEQUENCE SET public orders_id_seq app\n");
}

TEST_CASE("sequence values and the history's rows are read from pg_restore's script", "[db][restore]") {
  const std::string script =
      "SET client_encoding = 'UTF8';\n"
      "COPY public.lbctl_schema_migrations (version, phase, name, sha256, status) FROM stdin;\n"
      "01\tpre\t01_orders.sql\tab12\tdone\n"
      "02\tpost\ta\\tb\\\\c.sql\t\\N\trunning\n"
      "\\.\n"
      "COPY public.orders (id, item) FROM stdin;\n"
      "1\tx\n"
      "\\.\n"
      "SELECT pg_catalog.setval('public.orders_id_seq', 250, true);\n"
      "SELECT pg_catalog.setval('public.\"It''s\"', 1, false);\n";
  const auto values = parse_sequence_values(script);
  REQUIRE(values.size() == 2);
  CHECK(values[0].sequence == "public.orders_id_seq");
  CHECK(values[0].value == 250);
  CHECK(values[0].is_called);
  CHECK(values[1].sequence == "public.\"It's\"");
  CHECK_FALSE(values[1].is_called);
  const auto rows = parse_copy_rows(script, "lbctl_schema_migrations");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].at("version") == "01");
  CHECK(rows[0].at("status") == "done");
  CHECK(rows[1].at("name") == "a\tb\\c.sql");
  CHECK_FALSE(rows[1].at("sha256").has_value());
  CHECK(parse_copy_rows(script, "migrations").empty());
}
