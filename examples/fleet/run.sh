#!/bin/sh
# bascule as a fleet, on this one machine: one PostgreSQL, two control-plane
# instances sharing it, two routers following them, and two instances of the
# app per color. It deploys v1 and v2, goes live through both routers, kills
# the leading control-plane instance with SIGKILL, and rolls back through the
# one left. On several machines each part runs on hosts of its own; only the
# addresses change.
#
#   examples/fleet/run.sh          run it, then stop everything
#   KEEP=1 examples/fleet/run.sh   leave it running until Ctrl-C
#
# Needs bascule on the PATH (make build; export PATH=$PWD/bin:$PATH), curl,
# and PostgreSQL's initdb and pg_ctl (on the PATH or in
# /usr/lib/postgresql/*/bin: apt-get install postgresql). Ports
# PORT_BASE+1 to PORT_BASE+99 (default 18000) must be free.
set -eu

bascule=${BASCULE:-bascule}
base=${PORT_BASE:-18000}
work=$(mktemp -d "${TMPDIR:-/tmp}/bascule-fleet-XXXXXX")
pids=""
as_pg=""

stop() {
	trap - EXIT INT TERM
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	[ -d "$work/pg/data" ] && $as_pg pg_ctl stop -D "$work/pg/data" -m fast >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap stop EXIT
trap 'exit 130' INT TERM

# wait_for WHAT CMD...: runs CMD until it succeeds, 30 s at most.
wait_for() {
	what=$1
	shift
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -ge 300 ]; then
			echo "gave up waiting for $what; the logs' ends:" >&2
			tail -n 20 "$work"/*.log >&2 || true
			exit 1
		fi
		sleep 0.1
	done
}

if ! command -v initdb >/dev/null 2>&1; then
	for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && PATH=$d:$PATH; done
fi
command -v initdb >/dev/null 2>&1 || { echo "PostgreSQL's initdb is not installed (apt-get install postgresql)" >&2; exit 1; }

echo "== PostgreSQL, the shared store (on a unix socket in $work/pg)"
mkdir "$work/pg"
if [ "$(id -u)" = 0 ]; then # PostgreSQL refuses to run as root
	pguser=postgres
	id "$pguser" >/dev/null 2>&1 || pguser=nobody
	chmod 755 "$work"
	chown "$pguser" "$work/pg"
	as_pg="runuser -u $pguser --"
fi
$as_pg initdb -D "$work/pg/data" -U bascule --auth=trust >"$work/initdb.log" 2>&1
$as_pg pg_ctl start -w -D "$work/pg/data" -l "$work/pg/postgres.log" -o "-c listen_addresses='' -k $work/pg" >/dev/null
store="postgres://bascule@/postgres?host=$work/pg"

echo "== two instances per color (the sample app: blue runs v1, green v2)"
app() { # app COLOR RELEASE PORT
	PORT=$3 BASCULE_COLOR=$1 "$bascule" sample-app --release "$2" >"$work/app-$3.log" 2>&1 &
	pids="$pids $!"
}
app blue v1 $((base + 1))
app blue v1 $((base + 2))
app green v2 $((base + 3))
app green v2 $((base + 4))

echo "== two control-plane instances"
BASCULE_ADMIN_TOKEN=bsc_$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
export BASCULE_ADMIN_TOKEN
control() { # control N: writes cpN.yaml, starts the instance
	n=$1
	cat >"$work/cp$n.yaml" <<EOF
listen: 127.0.0.1:$((base + 10 + n))
control: 127.0.0.1:$((base + 20 + n))
control_advertise_url: http://127.0.0.1:$((base + 20 + n))
control_lease_ttl: 5s
data_dir: $work/cp$n
store:
  driver: postgres
  url: $store
health_check:
  path: /healthz
  interval: 200ms
runtime:
  driver: static
  static:
    blue: [127.0.0.1:$((base + 1)), 127.0.0.1:$((base + 2))]
    green: [127.0.0.1:$((base + 3)), 127.0.0.1:$((base + 4))]
EOF
	"$bascule" serve -c "$work/cp$n.yaml" >"$work/cp$n.log" 2>&1 &
	eval "cp${n}_pid=$!"
	pids="$pids $!"
	wait_for "control-plane instance $n" curl -sf "http://127.0.0.1:$((base + 20 + n))/healthz"
}
control 1
control 2
cp1=http://127.0.0.1:$((base + 21))
cp2=http://127.0.0.1:$((base + 22))
leader() { curl -sf -H "Authorization: Bearer $BASCULE_ADMIN_TOKEN" "$1/api/v1/leader" | grep -Eq '"leading": *true'; }
wait_for "a leader" leader "$cp1"
echo "   $cp1 leads, $cp2 follows and forwards changes to it"

echo "== two routers, each following either instance"
export BASCULE_URL=$cp2 BASCULE_TOKEN=$BASCULE_ADMIN_TOKEN
router_token=$("$bascule" token create -q --role router edge)
for n in 1 2; do
	"$bascule" router --control "$cp1,$cp2" --token "$router_token" --id "edge-$n" \
		--listen 127.0.0.1:$((base + 30 + n)) --data "$work/edge-$n" >"$work/edge-$n.log" 2>&1 &
	pids="$pids $!"
done
r1=http://127.0.0.1:$((base + 31))
r2=http://127.0.0.1:$((base + 32))

show() { # show ARGS...: prints the bascule command as typed, then runs it
	echo "\$ bascule $*"
	"$bascule" "$@"
}
quietly() { # quietly ARGS...: the same, its output left out
	echo "\$ bascule $* >/dev/null"
	"$bascule" "$@" >/dev/null
}
routers() { # what each router answers now
	printf 'edge-1: %s   edge-2: %s\n' "$(curl -s "$r1/")" "$(curl -s "$r2/")"
}
# A router heartbeats every second with its requests in flight; one taken
# while routers' last answer was still being written counts it for a second.
# The listings below wait for the routers to report them done.
idle() { ! "$bascule" router list --json | grep -Eq '"(in_flight|queued)": *[1-9]'; }

echo "== releases go live through both routers (CI would talk to either instance)"
mkdir -p "$work/release"
echo "the app's files" >"$work/release/README"
cd "$work"
quietly release add v1 release/
quietly deploy v1
show go-live
quietly release add v2 release/
show deploy v2
show go-live
routers
wait_for "the routers to report no request in flight" idle
show router list

echo "== the leader is killed (SIGKILL); the other instance takes over"
# shellcheck disable=SC2154 # set by control()
kill -9 "$cp1_pid"
wait_for "the second instance to lead" leader "$cp2"
echo "   $cp2 leads; the routers never stopped serving:"
routers
# The dead instance's own router is gone for good: each switch would name
# it as not confirmed until it is forgotten.
wait_for "its router to be marked stale" sh -c "\"$bascule\" router list | grep -q STALE"
wait_for "the routers to report no request in flight" idle
show router list
show router forget "serve@$(hostname):$((base + 11))"
show rollback -m "back to v1"
routers

if [ "${KEEP:-}" = 1 ]; then
	echo
	echo "Still running: production on $r1 and $r2, the control plane on $cp2"
	echo "(BASCULE_URL=$cp2 BASCULE_TOKEN=$BASCULE_ADMIN_TOKEN). Ctrl-C stops everything."
	while :; do sleep 3600; done
fi
