#include "tests/support/fake_migrator.hpp"

#include <stdexcept>

namespace lbctl::test {

using db::Phase;

namespace {

std::string cutover_text(std::optional<std::int64_t> id) { return id ? std::to_string(*id) : "none"; }

}  // namespace

void FakeMigrator::set_pending(Phase phase, const std::vector<std::string>& names) {
  auto& state = m_phases[phase];
  state.pending.clear();
  for (const auto& entry : names) {
    const bool alone = entry.starts_with('!');
    const std::string name = alone ? entry.substr(1) : entry;
    auto file = db::parse_migration_file(
        phase, name, alone ? "-- lbctl:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (c);\n" : "SELECT 1;\n");
    if (!file) throw std::invalid_argument(file.error().message);
    state.pending.push_back(std::move(*file));
  }
}

void FakeMigrator::set_unfinished(Phase phase, const std::string& name) {
  db::AppliedMigration m;
  m.phase = phase;
  m.name = name;
  m.version = db::MigrationVersion::from_file_name(name) ? db::MigrationVersion::from_file_name(name)->text() : name;
  m.status = db::AppliedMigration::Status::running;
  m_phases[phase].unfinished.push_back(m);
}

void FakeMigrator::fail_next_plan(Phase phase, Error error) {
  m_phases[phase].plan_failures.push_back(std::move(error));
}

void FakeMigrator::fail_next_apply(Phase phase, Error error) {
  m_phases[phase].apply_failures.push_back(std::move(error));
}

std::vector<std::string> FakeMigrator::applied(Phase phase) const {
  auto it = m_phases.find(phase);
  return it == m_phases.end() ? std::vector<std::string>{} : it->second.applied;
}

Result<db::PhasePlan> FakeMigrator::plan(Phase phase) {
  calls.push_back("plan " + std::string(db::to_string(phase)));
  auto& state = m_phases[phase];
  if (!state.plan_failures.empty()) {
    Error e = state.plan_failures.front();
    state.plan_failures.pop_front();
    return std::unexpected(e);
  }
  db::PhasePlan plan;
  plan.phase = phase;
  plan.pending = state.pending;
  plan.unfinished = state.unfinished;
  plan.applied = state.applied.size();
  return plan;
}

boost::asio::awaitable<Result<db::PhaseReport>> FakeMigrator::apply(Phase phase,
                                                                    std::optional<std::int64_t> cutover_id) {
  calls.push_back("apply " + std::string(db::to_string(phase)) + " cutover=" + cutover_text(cutover_id));
  auto& state = m_phases[phase];
  if (m_clock && apply_time.count() > 0) co_await m_clock->sleep_for(apply_time);
  if (!state.apply_failures.empty()) {
    Error e = state.apply_failures.front();
    state.apply_failures.pop_front();
    co_return std::unexpected(e);
  }
  if (!state.unfinished.empty()) {
    co_return fail(ErrorKind::conflict, std::string(db::to_string(phase)) + "/" + state.unfinished.front().name +
                                            " was recorded running and never finished");
  }
  db::PhaseReport report;
  report.phase = phase;
  report.attempts = state.pending.empty() ? 0 : 1;
  report.elapsed = apply_time;
  for (const auto& file : state.pending) {
    report.applied.push_back({file.label(), file.version.text(), file.sha256, file.no_transaction, {}});
    state.applied.push_back(file.name);
  }
  state.pending.clear();
  co_return report;
}

boost::asio::awaitable<Result<db::PhaseReport>> FakeMigrator::apply_together(std::vector<Phase> phases,
                                                                             std::optional<std::int64_t> cutover_id) {
  std::string names;
  for (const auto phase : phases) names += (names.empty() ? "" : "+") + std::string(db::to_string(phase));
  calls.push_back("apply " + names + " cutover=" + cutover_text(cutover_id));
  if (m_clock && apply_time.count() > 0) co_await m_clock->sleep_for(apply_time);
  for (const auto phase : phases) {
    auto& state = m_phases[phase];
    if (!state.apply_failures.empty()) {
      Error e = state.apply_failures.front();
      state.apply_failures.pop_front();
      co_return std::unexpected(e);
    }
  }
  db::PhaseReport report;
  report.phase = phases.front();
  report.attempts = 1;
  for (const auto phase : phases) {
    auto& state = m_phases[phase];
    for (const auto& file : state.pending) {
      report.applied.push_back({file.label(), file.version.text(), file.sha256, file.no_transaction, {}});
      state.applied.push_back(file.name);
    }
    state.pending.clear();
  }
  co_return report;
}

boost::asio::awaitable<Result<db::BackupResult>> FakeBackup::run(const db::BackupRequest& request) {
  calls.push_back("backup " + request.service + " cutover=" + cutover_text(request.cutover_id));
  requests.push_back(request);
  if (!m_failures.empty()) {
    Error e = m_failures.front();
    m_failures.pop_front();
    co_return std::unexpected(e);
  }
  co_return result;
}

}  // namespace lbctl::test
