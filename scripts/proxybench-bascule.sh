#!/usr/bin/env bash
# Plugs bascule into ../shared/bench/proxybench.sh with the static driver:
# blue is $UP_V1, green is $UP_V2 (upstreams the harness runs). See the
# README's benchmarking section for the command line.
#   start   run `bascule serve` in the foreground on $PROXY_ADDR
#   point   register v1 and v2, make v1 live on blue, deploy v2 ready on green
#   switch  go live with green (the harness times this)
# BENCH_SPLIT=N keeps a progressive go-live at N % in progress while it runs.
# BENCH_CONCURRENCY sets concurrency.limit (default 24; 0 for no limit): the
# benchmark app shares one core with bascule, and 24 requests at once keep
# it busy while the rest wait in bascule's fair queue (see ADR 0005).
# BENCH_INSTANCES=N runs each color on N instances (ADR 0012): $UP_V1 and
# $UP_V2 plus N-1 more upstreams each, on the ports 10, 20, ... above theirs,
# started here with the harness's upstream binary (BENCH_UPSTREAM_BIN,
# default ../shared/bench/bin/upstream) and stopped by `stop` (pass it as
# --custom-stop). The concurrency limit then holds per instance.
#   stop    stop the extra upstreams BENCH_INSTANCES started
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${BASCULE_BIN:-$here/../bin/bascule}
dir=${BENCH_TMP:?run me from proxybench.sh}/bascule-${PROXY_PORT:?}
port=${PROXY_PORT:?}
export BASCULE_URL=http://127.0.0.1:$((port + 1))
export BASCULE_TOKEN=bsc_proxybench-only-token-00000000000000

# extra_upstreams COLOR VERSION ADDR: start BENCH_INSTANCES-1 more upstreams
# beside ADDR and print the color's list of addresses for bascule.yaml.
extra_upstreams() {
  local color=$1 version=$2 addr=$3 n=${BENCH_INSTANCES:-1} i port list
  local upbin=${BENCH_UPSTREAM_BIN:-$here/../../shared/bench/bin/upstream}
  list=$addr
  for ((i = 1; i < n; i++)); do
    port=$((${addr##*:} + 10 * i))
    "$upbin" -port "$port" -color "$color" -version "$version" >>"$dir/extra-$port.log" 2>&1 &
    echo $! >>"$dir/extra.pids"
    list="$list, 127.0.0.1:$port"
  done
  echo "[$list]"
}

case "${1:-}" in
start)
  mkdir -p "$dir"
  blue=${UP_V1:?} green=${UP_V2:?}
  if [ "${BENCH_INSTANCES:-1}" -gt 1 ]; then
    blue=$(extra_upstreams blue v1 "$UP_V1")
    green=$(extra_upstreams green v2 "$UP_V2")
  fi
  cat > "$dir/bascule.yaml" <<YAML
app: bench
listen: ${PROXY_ADDR:?}
control: 127.0.0.1:$((port + 1))
data_dir: $dir/data
runtime:
  driver: static
  static:
    blue: $blue
    green: $green
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
stop)
  if [ -f "$dir/extra.pids" ]; then
    while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$dir/extra.pids"
    rm -f "$dir/extra.pids"
  fi ;;
*)
  echo "usage: $0 start|point|switch|stop" >&2; exit 2 ;;
esac
