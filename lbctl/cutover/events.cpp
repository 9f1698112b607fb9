#include "lbctl/cutover/events.hpp"

#include "core/enum_names.hpp"

namespace lbctl {

namespace {

constexpr auto k_event_kinds = enum_names<EventKind>({
    {EventKind::started, "started"},
    {EventKind::resume, "resume"},
    {EventKind::taken_over, "taken_over"},
    {EventKind::abort, "abort"},
    {EventKind::requested, "requested"},
    {EventKind::plan, "plan"},
    {EventKind::warning, "warning"},
    {EventKind::step_started, "step_started"},
    {EventKind::step_done, "step_done"},
    {EventKind::step_failed, "step_failed"},
    {EventKind::reloaded, "reloaded"},
    {EventKind::state_database_lost, "state_database_lost"},
    {EventKind::state_database_back, "state_database_back"},
    {EventKind::haproxy, "haproxy"},
    {EventKind::lb_view, "lb_view"},
    {EventKind::backup, "backup"},
    {EventKind::skipped, "skipped"},
    {EventKind::migrated, "migrated"},
    {EventKind::frozen, "frozen"},
    {EventKind::unfrozen, "unfrozen"},
    {EventKind::cloned, "cloned"},
    {EventKind::healthy, "healthy"},
    {EventKind::unhealthy, "unhealthy"},
    {EventKind::hook_started, "hook_started"},
    {EventKind::hook_done, "hook_done"},
    {EventKind::hook_failed, "hook_failed"},
    {EventKind::attached, "attached"},
    {EventKind::stage, "stage"},
    {EventKind::stage_passed, "stage_passed"},
    {EventKind::analysis, "analysis"},
    {EventKind::paused, "paused"},
    {EventKind::promoted, "promoted"},
    {EventKind::undo_window, "undo_window"},
    {EventKind::undo_closed, "undo_closed"},
    {EventKind::health_files_removed, "health_files_removed"},
    {EventKind::drain_progress, "drain_progress"},
    {EventKind::drained, "drained"},
    {EventKind::sessions_cut, "sessions_cut"},
    {EventKind::detached, "detached"},
    {EventKind::waiting, "waiting"},
    {EventKind::terminated, "terminated"},
    {EventKind::maintenance_on, "maintenance_on"},
    {EventKind::maintenance_off, "maintenance_off"},
    {EventKind::rolling_back, "rolling_back"},
    {EventKind::old_pool_up, "old_pool_up"},
    {EventKind::new_pool_gone, "new_pool_gone"},
    {EventKind::rolled_back, "rolled_back"},
    {EventKind::failed, "failed"},
    {EventKind::completed, "completed"}
});

}  // namespace

std::string_view to_string(EventKind kind) { return k_event_kinds.name(kind); }

std::optional<EventKind> parse_event_kind(std::string_view text) { return k_event_kinds.parse(text); }

}  // namespace lbctl
