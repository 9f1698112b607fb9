#!/usr/bin/env bash
# The generated bash completion, driven as bash drives it on <TAB>.
set -euo pipefail
build=$1
lbctl="$build/lbctl/lbctl"
# shellcheck source=/dev/null
source "$build/docgen/out/lbctl.bash"
status=0
# complete WORD... : the replies for the last word, sorted, space-separated.
complete_words() {
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _lbctl
  printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
expect() {
  local want=$1 got
  shift
  got=$(complete_words "$@")
  if [ "$got" != "$want" ]; then echo "lbctl ${*:2} <TAB>: expected '$want', got '$got'"; status=1; fi
}
expect "cutover" lbctl cu
expect "off on" lbctl maintenance o
expect "--config" lbctl validate --c
expect "--json" lbctl rollback --js
expect "post pre" lbctl migrate p
expect "--dry-run" lbctl migrate pre --dr
expect "" lbctl maintenance on --message ""
# A flag takes no value: what follows it is completed as usual.
expect "--config" lbctl validate --json --con
# Every command lbctl --help lists is offered first.
top=$(complete_words lbctl "")
for command in $("$lbctl" --help | awk '/^Subcommands:/ {on=1; next} on && /^  [a-z]/ {sub(/,$/, "", $1); print $1}'); do
  case " $top " in *" $command "*) ;; *) echo "lbctl <TAB> does not offer $command"; status=1 ;; esac
done
# A file after -c.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
touch "$work/shop.yaml"
(cd "$work" && expect "shop.yaml" lbctl plan -c sh) || status=1
exit $status
