#!/usr/bin/env bash
# The man page renders without groff warnings, and it says what --help says:
# every command (nested ones too), its description, and each option's flags
# and description, as `lbctl COMMAND --help` prints them.
set -euo pipefail
build=$1
lbctl="$build/lbctl/lbctl"
page="$build/docgen/out/lbctl.1.gz"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A width no paragraph reaches: each is one line, neither wrapped nor justified;
# the C locale, so groff writes `\-` as the ASCII hyphen --help prints.
LC_ALL=C MANWIDTH=3000 man --warnings=all -l "$page" >"$work/page" 2>"$work/warnings"
if [ -s "$work/warnings" ]; then echo "groff warnings:"; cat "$work/warnings"; exit 1; fi
# man -l on a terminal-width page too: what a user sees.
MANWIDTH=80 man -l "$page" >"$work/page80"
grep -q 'lbctl cutover' "$work/page80"
squeeze() { tr -s ' \t\n' ' '; }
squeeze <"$work/page" >"$work/page.flat"

status=0
expect() {
  if ! grep -qF -- "$1" "$work/page.flat"; then echo "not on the man page: $1 ($2)"; status=1; fi
}

# Subcommand names and descriptions from a --help text (CLI11: "Subcommands:" then "  NAME  DESCRIPTION").
subcommands() { awk '/^Subcommands:/ {on=1; next} on && /^  [a-z]/ {sub(/,$/, "", $1); print $1} on && /^$/ {on=0}' ; }
check_command() {
  local path=$1 help name description
  # shellcheck disable=SC2086 # the path is words on purpose
  help=$("$lbctl" $path --help)
  expect "lbctl $path" "a command"
  description=${help%%$'\n'*}
  expect "$(printf '%s' "$description" | squeeze)" "the description of $path"
  # Option lines: "  -c,--config TEXT   The config file ..." (wrapped descriptions continue below).
  while IFS= read -r line; do
    flags=$(printf '%s\n' "$line" | awk '{print $1}')
    expect "${flags%%,*}" "an option of $path"
    text=$(printf '%s\n' "$line" | sed -E 's/^  +[^ ]+( [A-Z:{},]+)*( REQUIRED)? {2,}//')
    [ "$text" != "$line" ] && expect "$(printf '%s' "$text" | squeeze)" "the text of $flags in $path"
  done < <(printf '%s\n' "$help" | grep -E '^  +-')
  for name in $(printf '%s\n' "$help" | subcommands); do check_command "$path $name"; done
}
count=0
for command in $("$lbctl" --help | subcommands); do
  check_command "$command"
  count=$((count + 1))
done
[ "$count" -ge 10 ] || { echo "only $count commands found in lbctl --help"; status=1; }
exit $status
