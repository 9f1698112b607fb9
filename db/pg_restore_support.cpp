#include "db/pg_restore_support.hpp"

namespace lbctl::db {

std::string outside_dependents_query(const std::string& schemas_array) {
  // Each dependent's schema: a view through its rule, a constraint, trigger
  // or default through its table, the rest directly.
  return "WITH covered AS (SELECT oid FROM pg_namespace WHERE nspname = ANY (" + schemas_array +
         ")), inside AS ("
         " SELECT 'pg_class'::regclass AS classid, oid AS objid FROM pg_class WHERE relnamespace IN (SELECT oid FROM "
         "covered)"
         " UNION ALL SELECT 'pg_proc'::regclass, oid FROM pg_proc WHERE pronamespace IN (SELECT oid FROM covered)"
         " UNION ALL SELECT 'pg_type'::regclass, oid FROM pg_type WHERE typnamespace IN (SELECT oid FROM covered)"
         "), dependents AS ("
         " SELECT DISTINCT d.classid, d.objid FROM pg_depend d JOIN inside i ON d.refclassid = i.classid"
         " AND d.refobjid = i.objid WHERE d.deptype = 'n'"
         "), placed AS ("
         " SELECT classid, objid, CASE classid"
         "  WHEN 'pg_class'::regclass THEN (SELECT relnamespace FROM pg_class WHERE oid = objid)"
         "  WHEN 'pg_proc'::regclass THEN (SELECT pronamespace FROM pg_proc WHERE oid = objid)"
         "  WHEN 'pg_type'::regclass THEN (SELECT typnamespace FROM pg_type WHERE oid = objid)"
         "  WHEN 'pg_rewrite'::regclass THEN (SELECT c.relnamespace FROM pg_rewrite r JOIN pg_class c"
         "   ON c.oid = r.ev_class WHERE r.oid = objid)"
         "  WHEN 'pg_constraint'::regclass THEN (SELECT coalesce(c.relnamespace, k.connamespace) FROM pg_constraint k"
         "   LEFT JOIN pg_class c ON c.oid = k.conrelid WHERE k.oid = objid)"
         "  WHEN 'pg_trigger'::regclass THEN (SELECT c.relnamespace FROM pg_trigger t JOIN pg_class c"
         "   ON c.oid = t.tgrelid WHERE t.oid = objid)"
         "  WHEN 'pg_attrdef'::regclass THEN (SELECT c.relnamespace FROM pg_attrdef a JOIN pg_class c"
         "   ON c.oid = a.adrelid WHERE a.oid = objid)"
         "  END AS nsp FROM dependents"
         ") SELECT pg_describe_object(classid, objid, 0) FROM placed"
         " WHERE nsp IS NOT NULL AND nsp NOT IN (SELECT oid FROM covered) AND nsp <> 'pg_catalog'::regnamespace"
         " ORDER BY 1";
}

PsqlFailure classify_psql_failure(int exit_code, std::string_view err) {
  if (exit_code == 2) {
    // "psql: error: connection to server on socket ... failed: ..." comes before anything ran.
    return err.starts_with("psql: error: connection to server") ? PsqlFailure::not_connected
                                                                : PsqlFailure::connection_lost;
  }
  if (err.find("canceling statement due to lock timeout") != std::string_view::npos ||
      err.find("deadlock detected") != std::string_view::npos) {
    return PsqlFailure::busy;
  }
  return PsqlFailure::rolled_back;
}

}  // namespace lbctl::db
