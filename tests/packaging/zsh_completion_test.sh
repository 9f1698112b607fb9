#!/usr/bin/env bash
# The generated zsh completion: it parses, and it hands each command line to
# the right function. zsh's own _describe and _arguments are replaced by
# stubs that print what they were given, so no terminal is needed.
set -euo pipefail
build=$1
script="$build/docgen/out/_lbctl"
zsh -n "$script"
# words and CURRENT as zsh's completion system sets them; prints what the
# completion offered.
offered() {
  local current=$1
  shift
  zsh -f -c '
    _describe() { local array=${@[-1]}; print -l -- ${(P)array} }
    _arguments() { print -l -- "$@" }
    words=("${@:2}")
    CURRENT=$1
    source "'"$script"'"
  ' zsh "$current" "$@"
}
status=0
expect() {
  local want=$1 current=$2
  shift 2
  local got
  got=$(offered "$current" "$@")
  if [[ $got != *"$want"* ]]; then
    echo "zsh: lbctl ${*:2} (word $current) does not offer: $want"
    printf '%s\n' "$got" | sed 's/^/  got: /'
    status=1
  fi
}
expect "cutover:Replace the old pool" 2 lbctl cu
expect "on:Every request gets a 503 page" 3 lbctl maintenance ""
expect "(-c --config)--config[" 3 lbctl validate --
expect ":file:_files" 3 lbctl rollback -c
expect "--message" 4 lbctl maintenance on --
expect ":phase:(pre post)" 3 lbctl migrate ""
exit $status
