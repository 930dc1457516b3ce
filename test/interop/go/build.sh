#!/bin/sh
# Builds the interop helper (one Go memberlist node per process) against Debian's memberlist 0.2.2
# source in GOPATH mode, as ../../../../shared/tools/memberlist-bench/build.sh does, with no module
# proxy. memberlist is copied into a temporary GOPATH entry first so overlay/interop_states.go can
# add one read-only accessor; every other dependency comes from Debian's gocode directory.
# Usage: build.sh <output binary>.  Needs: golang-go golang-github-hashicorp-memberlist-dev.
set -e
out="$1"
[ -n "$out" ] || { echo "usage: build.sh <output>" >&2; exit 2; }
here="$(cd "$(dirname "$0")" && pwd)"
command -v go >/dev/null 2>&1 || { echo "go is not installed (apt-get install golang-go)" >&2; exit 1; }
gopath=$(dpkg -L golang-github-hashicorp-memberlist-dev 2>/dev/null | sed -n 's#^\(.*/gocode\)/src/github.com/hashicorp/memberlist$#\1#p' | head -n 1)
[ -n "$gopath" ] || { echo "golang-github-hashicorp-memberlist-dev is not installed" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src/github.com/hashicorp" "$work/src/interop-helper"
cp -r "$gopath/src/github.com/hashicorp/memberlist" "$work/src/github.com/hashicorp/memberlist"
chmod -R u+w "$work/src"
rm -f "$work/src/github.com/hashicorp/memberlist"/*_test.go
cp "$here/overlay/interop_states.go" "$work/src/github.com/hashicorp/memberlist/"
cp "$here/main.go" "$work/src/interop-helper/"
export GO111MODULE=off GOPATH="$work:$gopath" GOFLAGS= GOPROXY=off
[ -n "${GOCACHE:-}" ] || export GOCACHE="$work/cache"
cd "$work/src/interop-helper"
go build -o "$out" .
