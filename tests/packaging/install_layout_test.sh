#!/usr/bin/env bash
# cmake --install into a temporary prefix lays out every file a user needs.
set -euo pipefail
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
expected=(
  bin/lbctl
  share/man/man1/lbctl.1.gz
  share/bash-completion/completions/lbctl
  share/zsh/vendor-completions/_lbctl
  share/doc/lbctl/examples/example.yaml
  share/doc/lbctl/examples/haproxy.cfg
  share/doc/lbctl/examples/haproxy-tls-cli.cfg
  share/doc/lbctl/examples/lb-host/lbctl-install-file
  share/doc/lbctl/examples/app-hosts/lbctl-ssh-provider
  share/doc/lbctl/examples/app-hosts/lbctl-app-host
  share/doc/lbctl/copyright
  share/doc/lbctl/changelog.gz
  lib/systemd/system/lbctl-agent.service
  lib/systemd/system/lbctl-serve.service
)
status=0
for file in "${expected[@]}"; do
  if [ ! -f "$prefix/$file" ]; then echo "missing: $file"; status=1; fi
done
# Nothing else: no test binaries, no demo app, no headers.
extra=$(cd "$prefix" && find . -type f | sed 's|^\./||' | sort | grep -vxF -f <(printf '%s\n' "${expected[@]}") || true)
if [ -n "$extra" ]; then echo "not expected in the install tree:"; echo "$extra"; status=1; fi
[ -x "$prefix/bin/lbctl" ] || { echo "bin/lbctl is not executable"; status=1; }
version=$("$prefix/bin/lbctl" --version) || true
[[ $version == "lbctl "* ]] || { echo "the installed lbctl does not run: '$version'"; status=1; }
gzip -t "$prefix/share/man/man1/lbctl.1.gz" "$prefix/share/doc/lbctl/changelog.gz"
# The units run the installed program as the lbctl user, on the folder of service configs.
for unit in agent serve; do
  file=$prefix/lib/systemd/system/lbctl-$unit.service
  grep -qx "ExecStart=/usr/bin/lbctl $unit -c /etc/lbctl/services.*" "$file" || { echo "lbctl-$unit.service: ExecStart"; status=1; }
  grep -qx "User=lbctl" "$file" || { echo "lbctl-$unit.service: User"; status=1; }
done
exit $status
