#pragma once
// The journal in Postgres: schema `lbctl` of state.database_url, created and
// upgraded by lbctl itself (versioned DDL under an advisory lock). The service
// lock is pg_try_advisory_lock on a connection of its own, held for the
// cutover's life: if lbctl dies, Postgres drops the lock with the connection
// and the cutover reads as interrupted.

#include <chrono>
#include <memory>
#include <string>

#include "db/journal.hpp"

namespace lbctl::db {

struct PgJournalOptions {
  std::string database_url;  // a secret: never printed
  std::chrono::seconds connect_timeout{5};
  // Who we are, shown to others in pg_stat_activity (application_name) so a
  // lock's holder can be named even before its row exists.
  std::string host;
  int pid = 0;
  // A server that stops answering is an error within this (both connections).
  std::chrono::milliseconds partition_timeout{10000};
  // adopt() takes a cutover over only once its heartbeat is older; the
  // server frees the lock of a runner it no longer hears from after
  // lease + k_lock_release_margin.
  std::chrono::milliseconds lease{15000};
};

inline constexpr std::chrono::seconds k_lock_release_margin{10};

class PgJournal final : public Journal {
 public:
  // Connects and creates or upgrades schema lbctl. Fails with unreachable
  // when the database is; refused when the DDL fails (e.g. no CREATE right);
  // invalid when the schema is newer than this lbctl knows.
  static Result<std::unique_ptr<PgJournal>> open(PgJournalOptions options);

  // The schema version this build creates.
  static int schema_version();

  ~PgJournal() override;
  PgJournal(const PgJournal&) = delete;
  PgJournal& operator=(const PgJournal&) = delete;

  Result<Cutover> begin(const NewCutover& cutover) override;
  Result<Cutover> adopt(const std::string& service, const std::string& host, int pid) override;
  Result<std::chrono::milliseconds> lease_left(const std::string& service) override;
  Result<void> save(Cutover& cutover) override;
  Result<void> heartbeat(std::int64_t cutover_id) override;
  Result<Cutover> reacquire(std::int64_t cutover_id, std::int64_t version, const std::string& host, int pid) override;
  Result<void> save_server(std::int64_t cutover_id, const ServerRecord& server) override;
  Result<void> save_servers(std::int64_t cutover_id, const std::vector<ServerRecord>& servers) override;
  Result<std::vector<ServerRecord>> servers(std::int64_t cutover_id) override;
  Result<std::int64_t> add_event(std::int64_t cutover_id, std::string_view step, std::string_view kind,
                                 std::string_view detail_json) override;
  Result<std::vector<Event>> events(std::int64_t cutover_id, std::int64_t after_id, std::size_t limit) override;
  Result<std::vector<Event>> recent_events(std::int64_t cutover_id, std::size_t limit) override;
  Result<std::int64_t> request_abort(const std::string& service) override;
  Result<bool> abort_requested(std::int64_t cutover_id) override;
  Result<std::int64_t> request_promote(const std::string& service, const std::string& by) override;
  Result<std::int64_t> request_undo(const std::string& service, const std::string& by) override;
  Result<Requests> requests(std::int64_t cutover_id) override;
  Result<void> lock_service(const std::string& service, const std::string& host, int pid) override;
  void release() override;
  Result<void> save_lb_records(const std::string& service, const std::vector<LbRecord>& records) override;
  Result<std::vector<LbRecord>> lb_records(const std::string& service) override;
  Result<std::optional<Cutover>> latest(const std::string& service) override;
  Result<Cutover> get(std::int64_t cutover_id) override;
  Result<std::vector<Cutover>> history(const std::string& service, std::size_t limit) override;
  Result<std::map<std::string, std::int64_t>> outcome_counts(const std::string& service) override;
  Result<Restore> begin_restore(const NewRestore& restore) override;
  Result<void> finish_restore(std::int64_t restore_id, RestoreStatus status, std::string_view error,
                              std::string_view detail_json) override;
  Result<std::vector<Restore>> restores(const std::string& service, std::size_t limit) override;
  // `lbctl agent` stopping (SIGTERM) with its event loops stopped: gives up
  // the service's running cutover that `host`/`pid` owns (its owner token
  // cleared, so the next agent adopts it at its next poll rather than after
  // the lease) and journals why (`text`, a warning). The ids given up.
  Result<std::vector<std::int64_t>> give_up(const std::string& service, const std::string& host, int pid,
                                            const std::string& text);
  Result<CutoverRequest> submit_request(const NewRequest& request) override;
  Result<CutoverRequest> cutover_request(std::int64_t request_id) override;
  Result<std::vector<CutoverRequest>> request_queue(const std::string& service, std::size_t taken) override;
  Result<std::int64_t> takeovers(const std::string& service) override;

  struct State;  // libpqxx lives in the .cpp files

 private:
  explicit PgJournal(std::unique_ptr<State> state);
  std::unique_ptr<State> m_state;
};

}  // namespace lbctl::db
