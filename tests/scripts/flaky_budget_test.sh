#!/usr/bin/env bash
# scripts/test counts the tests that passed only when run again alone, names
# them, and fails the run when there are more than LBCTL_FLAKY_BUDGET. Run
# against stand-ins for ctest, cmake and install-deps: a first ctest run
# fails the tests named in FAILS, the rerun passes them (or fails when
# RERUN_FAILS=1).
set -euo pipefail
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tree/scripts" "$work/bin"
cp "$source_dir/scripts/test" "$work/tree/scripts/test"
printf '#!/bin/sh\nexit 0\n' >"$work/tree/scripts/install-deps"
printf '#!/bin/sh\nexit 0\n' >"$work/bin/cmake"
cat >"$work/bin/ctest" <<'FAKE'
#!/usr/bin/env bash
# --test-dir DIR ... [--rerun-failed]
dir=$2
log="$dir/Testing/Temporary/LastTestsFailed.log"
mkdir -p "$(dirname "$log")"
case " $* " in
  *" --rerun-failed "*)
    echo "rerun: $(cut -d: -f2 "$log" | tr '\n' ',')"
    [ "${RERUN_FAILS:-0}" = 1 ] && exit 8
    rm -f "$log"; exit 0 ;;
esac
[ -z "$FAILS" ] && exit 0
i=0; : >"$log"
IFS=','; for name in $FAILS; do i=$((i + 1)); echo "$i:$name" >>"$log"; done
exit 8
FAKE
chmod +x "$work/tree/scripts/"* "$work/bin/"*

run() {  # FAILS RERUN_FAILS BUDGET: prints the output, returns the exit code
  set +e
  FAILS=$1 RERUN_FAILS=$2 LBCTL_FLAKY_BUDGET=$3 LBCTL_OTHER_HAPROXY=0 LBCTL_FUZZ_SECONDS=0 \
    PATH="$work/bin:$PATH" LBCTL_BUILD_DIR="$work/build" "$work/tree/scripts/test" >"$work/out" 2>&1
  local code=$?
  set -e
  return $code
}
expect() {  # WHAT PATTERN
  if ! grep -q -- "$2" "$work/out"; then
    echo "$1: expected /$2/ in:"; cat "$work/out"; exit 1
  fi
}

run "" 0 2 || { echo "a clean run failed:"; cat "$work/out"; exit 1; }
expect "a clean run" "flaky: 0 test(s) passed only on a rerun (budget 2)"

run "unit: one,e2e: two" 0 2 || { echo "two flaky tests within a budget of 2 failed the run:"; cat "$work/out"; exit 1; }
expect "within budget" "flaky: 2 test(s) passed only on a rerun (budget 2)"
expect "within budget, named" "   e2e: two"
expect "within budget, named" "   unit: one"

if run "unit: one,e2e: two,chaos: three" 0 2; then echo "three flaky tests over a budget of 2 passed the run:"; cat "$work/out"; exit 1; fi
expect "over budget" "3 flaky tests, over the budget of 2"
expect "over budget, named" "   chaos: three"

if run "e2e: two" 1 2; then echo "a test that failed alone too passed the run:"; cat "$work/out"; exit 1; fi

if run "e2e: two" 0 0; then echo "one flaky test over a budget of 0 passed the run:"; cat "$work/out"; exit 1; fi
echo ok
