#!/usr/bin/env bash
# Plugs bascule into ../shared/bench/proxybench.sh with the static driver:
# blue is $UP_V1, green is $UP_V2 (upstreams the harness runs). See the
# README's benchmarking section for the command line.
#   start   run `bascule serve` in the foreground on $PROXY_ADDR
#   point   register v1 and v2, make v1 live on blue, deploy v2 ready on green
#   switch  go live with green (the harness times this)
# BENCH_SPLIT=N keeps a progressive go-live at N % in progress while it runs.
# BENCH_ONE_APP=1 points green at blue's upstream ($UP_V1) too, so that a
# split measures bascule's own cost and not a second app sharing the core.
# BENCH_CONCURRENCY sets concurrency.limit (default 24; 0 for no limit): the
# benchmark app shares one core with bascule, and 24 requests at once keep
# it busy while the rest wait in bascule's fair queue (see ADR 0005).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${BASCULE_BIN:-$here/../bin/bascule}
dir=${BENCH_TMP:?run me from proxybench.sh}/bascule
port=${PROXY_PORT:?}
export BASCULE_URL=http://127.0.0.1:$((port + 1))
export BASCULE_TOKEN=bsc_proxybench-only-token-00000000000000

case "${1:-}" in
start)
  mkdir -p "$dir"
  green=${UP_V2:?}
  if [ -n "${BENCH_ONE_APP:-}" ]; then green=${UP_V1:?}; fi
  cat > "$dir/bascule.yaml" <<YAML
app: bench
listen: ${PROXY_ADDR:?}
control: 127.0.0.1:$((port + 1))
data_dir: $dir/data
runtime:
  driver: static
  static:
    blue: ${UP_V1:?}
    green: ${green:?}
health_check:
  path: /up
  interval: 50ms
drain_timeout: 10s
YAML
  limit=${BENCH_CONCURRENCY:-24}
  if [ "$limit" != 0 ]; then
    printf 'concurrency:\n  limit: %s\n' "$limit" >> "$dir/bascule.yaml"
  fi
  BASCULE_ADMIN_TOKEN=$BASCULE_TOKEN exec "$bin" serve -c "$dir/bascule.yaml" ;;
point)
  mkdir -p "$dir"
  echo v1 > "$dir/v1"; echo v2 > "$dir/v2"
  "$bin" release add v1 "$dir/v1" && "$bin" release add v2 "$dir/v2"
  if ! "$bin" status | grep -q 'LIVE  v1'; then
    "$bin" deploy v1 && "$bin" go-live
  fi
  "$bin" status | grep -q 'green  idle  v2' || "$bin" deploy v2
  # BENCH_SPLIT=N measures with a progressive go-live in progress: N % of
  # users on v2 (green), the rest on v1, for as long as the run lasts.
  if [ -n "${BENCH_SPLIT:-}" ]; then
    "$bin" go-live --steps "$BENCH_SPLIT",100 --interval 24h
  fi
  ;;
switch)
  exec "$bin" go-live ;;
*)
  echo "usage: $0 start|point|switch" >&2; exit 2 ;;
esac
