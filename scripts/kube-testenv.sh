#!/usr/bin/env bash
# kube-testenv.sh — install the Kubernetes control plane that the tests of
# internal/kubetest run (a real etcd, kube-apiserver and
# kube-controller-manager; no mock of the API server) into a cache outside
# the repository:
#
#   ${BASCULE_KUBE_ASSETS:-${XDG_CACHE_HOME:-$HOME/.cache}/bascule/kube-v1.37.2}/
#     kube-apiserver           go build of k8s.io/kubernetes v1.37.2
#     kube-controller-manager  go build of k8s.io/kubernetes v1.37.2
#     etcd                     from Debian's etcd-server package
#
# kube-apiserver and kube-controller-manager are compiled from source through
# the Go module proxy: k8s.io/kubernetes is not meant to be a dependency, so
# a throwaway module in a temporary directory requires it and replaces each of
# its staging modules (k8s.io/api, k8s.io/apiserver, …, which its own go.mod
# points at ./staging/src) with the matching v0.37.2 release. etcd comes from
# `apt-get download etcd-server` unpacked with `dpkg-deb -x`: nothing is
# installed, no service is started.
#
# Time, measured on the project's 2-core machine (2026-12-06): the cold build
# (empty Go build cache, modules downloaded) took 1354 CPU-seconds (1024 user,
# 330 system), so an estimated 12 to 15 minutes on 2 idle cores (links run
# on one core; an idle run was not measured); under
# `nice -n 19` on a machine shared with other engineers' test runs (load
# average 10 to 27) it took 72 minutes of wall clock. CI pays it once per
# machine. With the cache warm the script checks three files and exits in
# 0.02 s.
#
# Idempotent: a binary already in the cache is kept. Each is written under a
# temporary name and renamed when complete, so an interrupted run leaves
# nothing half-built for the tests to start.
#
# Environment:
#   BASCULE_KUBE_ASSETS  the cache directory (the tests read the same variable)
#   KUBE_TESTENV_NICE    niceness of the build (default 19: other people work
#                        on this machine)
set -euo pipefail

KUBE_VERSION=1.37.2
STAGING_VERSION=0.37.2
ASSETS=${BASCULE_KUBE_ASSETS:-${XDG_CACHE_HOME:-$HOME/.cache}/bascule/kube-v$KUBE_VERSION}
NICE=${KUBE_TESTENV_NICE:-19}
export PATH="/usr/local/go/bin:$PATH"

have() { [ -x "$ASSETS/$1" ]; }

if have kube-apiserver && have kube-controller-manager && have etcd; then
  echo "kube-testenv: up to date in $ASSETS"
  exit 0
fi
mkdir -p "$ASSETS"
# Two runs at once (two worktrees, CI beside a developer) would build twice
# into the same names: the second waits for the first, then finds it done.
exec 9>"$ASSETS/.lock"
flock 9
if have kube-apiserver && have kube-controller-manager && have etcd; then
  echo "kube-testenv: up to date in $ASSETS"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

install_etcd() {
  echo "kube-testenv: etcd from Debian's etcd-server package"
  (
    cd "$work"
    # apt-get download needs the package lists; a fresh machine may have none.
    if ! apt-get download etcd-server >/dev/null 2>&1; then
      apt-get update -qq
      apt-get download etcd-server >/dev/null
    fi
    dpkg-deb -x etcd-server_*.deb etcd-root
  )
  install -m 0755 "$work/etcd-root/usr/bin/etcd" "$ASSETS/.etcd.tmp"
  mv "$ASSETS/.etcd.tmp" "$ASSETS/etcd"
}

# staging_modules prints the k8s.io modules that k8s.io/kubernetes replaces
# with its ./staging/src directories, read from its own go.mod.
staging_modules() {
  local gomod
  gomod=$(cd "$work/mod" && go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  [ -n "$gomod" ] || { echo "kube-testenv: cannot download k8s.io/kubernetes v$KUBE_VERSION" >&2; return 1; }
  sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/.*#\1#p' "$gomod"
}

build_kube() {
  echo "kube-testenv: building kube-apiserver and kube-controller-manager v$KUBE_VERSION" \
    "(cold: about 15 minutes on 2 cores)"
  mkdir -p "$work/mod"
  cat >"$work/mod/go.mod" <<EOF
module kubetestenv.invalid/build

go 1.26.0

require k8s.io/kubernetes v$KUBE_VERSION
EOF
  local mods
  mods=$(staging_modules)
  [ -n "$mods" ] || { echo "kube-testenv: no staging modules found in k8s.io/kubernetes' go.mod" >&2; return 1; }
  for m in $mods; do
    echo "replace $m => $m v$STAGING_VERSION" >>"$work/mod/go.mod"
  done
  (
    cd "$work/mod"
    # go get resolves the rest of the build list (and fills go.sum) with the
    # versions k8s.io/kubernetes names; no -u, which would move them.
    go get "k8s.io/kubernetes/cmd/kube-apiserver@v$KUBE_VERSION" \
      "k8s.io/kubernetes/cmd/kube-controller-manager@v$KUBE_VERSION"
    v=k8s.io/component-base/version
    ldflags="-s -w -X $v.gitVersion=v$KUBE_VERSION -X $v.gitMajor=${KUBE_VERSION%%.*}"
    ldflags="$ldflags -X $v.gitMinor=$(echo "$KUBE_VERSION" | cut -d. -f2) -X $v.gitTreeState=clean"
    for cmd in kube-apiserver kube-controller-manager; do
      have "$cmd" && continue
      CGO_ENABLED=0 nice -n "$NICE" go build -trimpath -ldflags "$ldflags" \
        -o "$ASSETS/.$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd"
      mv "$ASSETS/.$cmd.tmp" "$ASSETS/$cmd"
    done
  )
}

start=$SECONDS
have etcd || install_etcd
if ! have kube-apiserver || ! have kube-controller-manager; then
  build_kube
fi
echo "kube-testenv: ready in $ASSETS ($((SECONDS - start)) s)"
