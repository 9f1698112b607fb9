#!/usr/bin/env bash
# Rules over the product code that a reader relies on (ARCHITECTURE.md,
# "Rules a reader can rely on"): no function longer than 80 lines; the
# controller's loop (drive.cpp) decides nothing by naming a step, every
# per-step rule is a column of the step table; the exit codes are explained
# in one place.
set -euo pipefail
source_dir=$2
status=0
if ! python3 "$source_dir/tests/scripts/function_lengths.py" "$source_dir" 80; then
  echo "split the functions above: no product function is longer than 80 lines"
  status=1
fi
if grep -n -E '[!=]= *Step::|Step::[a-z_]+ *[!=]=|case Step::' "$source_dir/lbctl/cutover/drive.cpp"; then
  echo "drive.cpp decides by naming a step (above): make it a column of the step table (step_table.cpp)"
  status=1
fi
copies=$(grep -rl --include='*.cpp' --include='*.hpp' '0 done; 1 failed and rolled back' "$source_dir/lbctl" | grep -v 'lbctl/cli/exit_codes.cpp' || true)
if [ -n "$copies" ]; then
  echo "the exit codes are explained outside lbctl/cli/exit_codes.cpp: $copies"
  status=1
fi
exit $status
