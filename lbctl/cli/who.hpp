#pragma once
// Who runs this lbctl, as the migration history's edits and the journal's
// restores record it: "alice@web1", or under sudo "root@web1 (sudo from
// alice)", so an audit finds the person and not only the account.

#include <string>

namespace lbctl {

std::string who_runs_this();

}  // namespace lbctl
