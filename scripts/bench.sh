#!/usr/bin/env bash
# `make bench`: wrk on loopback against a release build, on SQLite and then
# PostgreSQL.  Prints requests/s and p99 latency per endpoint and the
# server's resident memory after the runs.  Bounded: each run lasts
# BENCH_DURATION seconds (default 10) and the script stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${BENCH_DURATION:-10}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_WRK_THREADS:-2}
SCALE=${BENCH_SCALE:-1000}
BIN=$PWD/build/hwc3d
command -v wrk >/dev/null || { echo "bench: wrk is not installed (scripts/install-deps.sh bench)" >&2; exit 1; }

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

WORK=$(mktemp -d /tmp/hwc3d-bench.XXXXXX)
PGDIR=""
SERVER_PID=""
cleanup() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
	[ -n "$PGDIR" ] && scripts/pg-test.sh stop "$PGDIR" >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

run_wrk() { # name url
	local out rps p99
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$2" 2>&1)
	rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
	printf '  %-28s %10s req/s   p99 %8s%s\n' "$1" "$rps" "$p99" "${non2xx:+   (non-2xx: $non2xx)}"
}

bench_engine() { # label database_url
	local label=$1 url=$2 dir=$WORK/$1 port
	mkdir -p "$dir"
	port=$(free_port)
	export DATA_DIR=$dir PORT=$port HOST=127.0.0.1 JWT_SECRET_KEY=bench-secret-0123456789abcdef0123456789abcdef
	# The limiter runs on every request but with budgets no benchmark reaches.
	export RATE_LIMIT_GENERAL=1000000000/minute RATE_LIMIT_ADMIN=1000000000/minute
	if [ -n "$url" ]; then export DATABASE_URL=$url; else unset DATABASE_URL; fi
	(cd "$dir" && "$BIN" seed-demo --scale "$SCALE" >/dev/null 2>&1)
	(cd "$dir" && exec "$BIN" serve 2>"$dir/server.log") &
	SERVER_PID=$!
	for _ in $(seq 100); do
		curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
		sleep 0.1
	done
	echo "== $label: $CONNS connections, $THREADS wrk threads, ${DURATION}s each, $(nproc) cores"
	run_wrk "GET /api/categories" "http://127.0.0.1:$port/api/categories"
	run_wrk "GET /api/categories?limit=5" "http://127.0.0.1:$port/api/categories?limit=5&page=2"
	run_wrk "GET /healthz" "http://127.0.0.1:$port/healthz"
	run_wrk "GET /api/nope (404)" "http://127.0.0.1:$port/api/nope"
	run_wrk "GET /api/admin/categories (401)" "http://127.0.0.1:$port/api/admin/categories"
	printf '  %-28s %10s\n' "server RSS after runs" "$(awk '/VmRSS/ {print $2, $3}' /proc/$SERVER_PID/status)"
	printf '  %-28s %10s\n' "server peak RSS" "$(awk '/VmHWM/ {print $2, $3}' /proc/$SERVER_PID/status)"
	kill "$SERVER_PID"
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=""
}

bench_engine sqlite ""
if [ -x /usr/lib/postgresql/15/bin/postgres ] || ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
	PGDIR=$(mktemp -d /tmp/hwc3d-bench-pg.XXXXXX)
	PGURL=$(scripts/pg-test.sh start "$PGDIR" 2>/dev/null)
	psql "$PGURL" -qc "CREATE DATABASE hwc3d_bench" >/dev/null
	bench_engine postgresql "${PGURL%/postgres}/hwc3d_bench"
fi
