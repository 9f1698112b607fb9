#!/usr/bin/env bash
# lbctl --version: "lbctl VERSION (git COMMIT)", the commit the sources are at.
set -euo pipefail
build=$1
source_dir=$2
version=$(awk -F'[ )]' '/^project\(lbctl VERSION/ {print $3}' "$source_dir/CMakeLists.txt")
out=$("$build/lbctl/lbctl" --version)
if command -v git >/dev/null && commit=$(git -C "$source_dir" rev-parse --short=12 HEAD 2>/dev/null); then
  pattern="^lbctl $version \\(git $commit(-dirty)?\\)\$"
else
  pattern="^lbctl $version \\(git unknown\\)\$"
fi
if ! [[ $out =~ $pattern ]]; then
  echo "lbctl --version said '$out', expected /$pattern/"
  exit 1
fi
