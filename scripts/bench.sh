#!/usr/bin/env bash
# `make bench`: the server at scale (issue 15), wrk on loopback against the
# release build, on SQLite, on PostgreSQL, and PostgreSQL with one and two
# instances behind nginx (docs/deployment.md's sample).  Ends with ONE
# table (workload x engine x connections: requests/s, of which 2xx/s, p50,
# p99, non-2xx, socket errors) and the memory and WebSocket lines.  docs/performance.md
# says what each figure means and shows a run.
#
# Bounded: every wrk run lasts BENCH_DURATION seconds, the data is made
# once, and the script stops by itself (servers, nginx and PostgreSQL too).
#
# Data: seed-demo --scale USERS --models MODELS --likes LIKES, then an
# admin and COMMUNITIES communities of POSTS posts made through the API
# (scripts/bench-prep.py), checked (every like count equals its rows) and
# cached in $BENCH_CACHE_DIR/<key>/ (an SQLite data directory, a pg_dump
# and its data directory), the key naming the sizes and a hash of the
# migrations and the seed code.  A second run restores the cache.
#
# Environment (defaults in brackets):
#   BENCH_SCALE_SET    full [full]: 50,000 models, 10,000 users, 1,000,000 likes
#                      small: 5,000 models, 1,000 users, 50,000 likes
#   BENCH_MODELS, BENCH_USERS, BENCH_LIKES   override the set's sizes
#   BENCH_COMMUNITIES [100], BENCH_POSTS [20]: communities, posts in each
#   BENCH_DURATION     seconds per wrk run [10]
#   BENCH_CONNECTIONS  connection counts [64 256]
#   BENCH_WRK_THREADS  wrk threads [2]
#   BENCH_TIMEOUT      wrk's request timeout [30s]; a late answer counts as
#                      a socket error (timeout), not in the latencies
#   BENCH_ONLY         all | sqlite | postgres [all]: the engines
#   BENCH_WORKLOADS    any of: read search dashboard community login cart
#                      checkout [all seven], and list and detail (the read
#                      mix's random list pages and model pages alone)
#   BENCH_CLUSTER      1 | 0 [1]: read and search through nginx to one,
#                      then two instances (PostgreSQL; needs nginx)
#   BENCH_WS           1 | 0 [1]: scripts/bench-ws.py, with BENCH_WS_IDLE
#                      [5000] idle sockets and BENCH_WS_FANOUT [1000] listeners
#   BENCH_EXTRA        0 | 1 [0]: also the earlier sections: fixed URLs, the
#                      response cache off, uploads, latency under load and
#                      the dashboard's server time
#   BENCH_CACHE_DIR    [build/bench-cache]
#
# A quick run (about 5 minutes with a warm cache):
#   BENCH_SCALE_SET=small BENCH_DURATION=3 make bench
set -euo pipefail
cd "$(dirname "$0")/.."

case ${BENCH_SCALE_SET:-full} in
full) MODELS=50000 USERS=10000 LIKES=1000000 ;;
small) MODELS=5000 USERS=1000 LIKES=50000 ;;
*) echo "bench: BENCH_SCALE_SET is full or small" >&2; exit 2 ;;
esac
MODELS=${BENCH_MODELS:-$MODELS}
USERS=${BENCH_USERS:-${BENCH_SCALE:-$USERS}}
LIKES=${BENCH_LIKES:-$LIKES}
COMMUNITIES=${BENCH_COMMUNITIES:-100}
POSTS=${BENCH_POSTS:-20}
DURATION=${BENCH_DURATION:-10}
CONNS_LIST=${BENCH_CONNECTIONS:-64 256}
THREADS=${BENCH_WRK_THREADS:-2}
TIMEOUT=${BENCH_TIMEOUT:-30s}
ONLY=${BENCH_ONLY:-all}
WORKLOADS=${BENCH_WORKLOADS:-read search dashboard community login cart checkout}
CLUSTER=${BENCH_CLUSTER:-1}
WS=${BENCH_WS:-1}
EXTRA=${BENCH_EXTRA:-0}
CACHE_ROOT=${BENCH_CACHE_DIR:-$PWD/build/bench-cache}
BIN=$PWD/build/hwc3d
SECRET=bench-secret-0123456789abcdef0123456789abcdef
ADMIN_EMAIL=bench-admin@example.com
ADMIN_PASSWORD=bench-Admin-password-2026
MAXCONN=0
for c in $CONNS_LIST; do if [ "$c" -gt "$MAXCONN" ]; then MAXCONN=$c; fi; done
command -v wrk >/dev/null || { echo "bench: wrk is not installed (scripts/install-deps.sh bench)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "bench: no $BIN (make build/hwc3d)" >&2; exit 1; }
want_engine() { [ "$ONLY" = all ] || [ "$ONLY" = "$1" ]; }
have_pg() { ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; }

KEY="m$MODELS-u$USERS-l$LIKES-c${COMMUNITIES}x$POSTS-$(cat migrations/*.sql src/cli/seed*.c scripts/bench-prep.py scripts/benchlib.py | sha1sum | cut -c1-10)"
CACHE=$CACHE_ROOT/$KEY
mkdir -p "$CACHE"

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

WORK=$(mktemp -d /tmp/hwc3d-bench.XXXXXX)
TABLE=$WORK/table.tsv
NOTES=$WORK/notes.txt
: >"$TABLE"
: >"$NOTES"
PGDIR=""
PIDS=()
HUGE_BEFORE=""
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
	[ -n "$PGDIR" ] && scripts/pg-test.sh stop "$PGDIR" >/dev/null 2>&1 || true
	[ -n "$HUGE_BEFORE" ] && echo "$HUGE_BEFORE" >/proc/sys/vm/nr_hugepages 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

note() { printf '%s\n' "$*" | tee -a "$NOTES"; }

# The servers' environment (each is started with it).
server_env() { # data_dir database_url ('' for SQLite)
	export DATA_DIR=$1 HOST=127.0.0.1 JWT_SECRET_KEY=$SECRET
	# The limiter runs on every request but with budgets no benchmark reaches.
	export RATE_LIMIT_GENERAL=1000000000/minute RATE_LIMIT_ADMIN=1000000000/minute
	export RATE_LIMIT_AUTH=1000000000/minute RATE_LIMIT_SESSION=1000000000/minute
	# wrk opens all its connections from 127.0.0.1: lift the per-address cap
	export MAX_CONNECTIONS_PER_IP=$((MAXCONN * 2 + 64)) MAX_CONNECTIONS=$((MAXCONN * 2 + 4096))
	if [ -n "$2" ]; then export DATABASE_URL=$2; else unset DATABASE_URL; fi
}

SERVER_PID=""
ACCESS_LOG_FILE=""
start_server() { # dir port [VAR=value...]: sets SERVER_PID
	local dir=$1 port=$2
	shift 2
	(cd "$dir" && exec env PORT="$port" "$@" "$BIN" serve 2>>"$dir/server-$port.log") &
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	for _ in $(seq 200); do
		curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench: the server on port $port did not start (see $dir/server-$port.log):" >&2
	tail -5 "$dir/server-$port.log" >&2
	exit 1
}

stop_pid() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	local keep=() p
	for p in "${PIDS[@]}"; do if [ "$p" != "$1" ]; then keep+=("$p"); fi; done
	PIDS=("${keep[@]}")
}

rss() { awk -v k="$2:" '$1 == k {printf "%.0f MB", $2 / 1024}' "/proc/$1/status"; }

# One wrk run, printed and added to the table.
run_wrk() { # workload engine conns url [wrk args...]
	local w=$1 e=$2 c=$3 url=$4 out rps p50 p99 total non2xx errs from=0 codes
	shift 4
	if [ -n "$ACCESS_LOG_FILE" ]; then from=$(wc -l <"$ACCESS_LOG_FILE"); fi
	out=$(wrk -t"$THREADS" -c"$c" -d"${DURATION}s" --timeout "$TIMEOUT" --latency "$url" "$@" 2>&1) || true
	printf '== %s %s %s\n%s\n' "$w" "$e" "$c" "$out" >>"$WORK/wrk.log"
	rps=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
	p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	total=$(awk '/requests in/ {print $1}' <<<"$out")
	non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
	errs=$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' <<<"$out")
	[ -n "$rps" ] || { echo "  wrk failed: $(head -3 <<<"$out")" >&2; rps="-"; }
	# what the non-2xx answers were, from the server's access log
	if [ -n "${non2xx:-}" ] && [ -n "$ACCESS_LOG_FILE" ]; then
		sleep 0.2
		codes=$(tail -n +"$((from + 1))" "$ACCESS_LOG_FILE" | grep '"type":"access"' |
			grep -o '"status":[0-9]*' | cut -d: -f2 | grep -v '^2' | sort | uniq -c |
			awk '{printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1}' || true)
		note "non-2xx $w $e $c: ${codes:-not in the access log}"
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$e" "$c" "$rps" "${p50:--}" "${p99:--}" \
		"${non2xx:-0}" "${errs:-0}" "${total:-0}" >>"$TABLE"
	printf '  %-10s %-12s %4s conns %8s req/s  p50 %9s  p99 %9s  non-2xx %s  errors %s\n' \
		"$w" "$e" "$c" "$rps" "${p50:--}" "${p99:--}" "${non2xx:-0}" "${errs:-0}"
}

# ------------------------------------------------------------------ data

# Seeds DATA_DIR (and DATABASE_URL's database, if set) with the bench data:
# seed-demo, the admin, the communities (a server runs for those), checked.
generate() { # dir database_url db_for_queries
	local dir=$1 url=$2 qdb=$3 port t0
	t0=$(date +%s)
	server_env "$dir" "$url"
	(cd "$dir" && "$BIN" seed-demo --scale "$USERS" --models "$MODELS" --likes "$LIKES" >"$dir/seed.log" 2>&1 &&
		"$BIN" create-admin --email "$ADMIN_EMAIL" --password "$ADMIN_PASSWORD" >>"$dir/seed.log" 2>&1) ||
		{ echo "bench: seed-demo failed:" >&2; tail -5 "$dir/seed.log" >&2; exit 1; }
	port=$(free_port)
	start_server "$dir" "$port"
	/usr/bin/python3 scripts/bench-prep.py communities "http://127.0.0.1:$port" "$qdb" "$SECRET" \
		"$COMMUNITIES" "$POSTS" | sed 's/^/  /'
	stop_pid "$SERVER_PID"
	/usr/bin/python3 scripts/bench-prep.py check "$qdb" | sed 's/^/  /'
	echo "  generated in $(($(date +%s) - t0)) s"
}

sqlite_data() { # -> $WORK/sqlite, from the cache (made first if need be)
	if [ ! -f "$CACHE/sqlite/.complete" ]; then
		echo "== generating the SQLite data ($KEY)"
		rm -rf "$CACHE/sqlite.tmp"
		mkdir -p "$CACHE/sqlite.tmp"
		generate "$CACHE/sqlite.tmp" "" "$CACHE/sqlite.tmp/hwc3d.db"
		rm -f "$CACHE/sqlite.tmp"/server-*.log
		touch "$CACHE/sqlite.tmp/.complete"
		mv "$CACHE/sqlite.tmp" "$CACHE/sqlite"
	else
		echo "== SQLite data from the cache ($CACHE/sqlite)"
	fi
	rm -rf "$WORK/sqlite"
	cp -a "$CACHE/sqlite" "$WORK/sqlite"
}

pg_start() {
	if [ -n "$PGDIR" ]; then return; fi
	PGDIR=$(mktemp -d /tmp/hwc3d-bench-pg.XXXXXX)
	# Huge pages for PostgreSQL's shared memory, as its documentation
	# advises for production (huge_pages=try uses them when the kernel has
	# them): with 4 KB pages every new backend takes a page fault for each
	# page of shared buffers it touches first.  Reserved only when root
	# can, and given back on exit.
	local before
	before=$(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo "")
	if [ -n "$before" ] && [ "$before" -lt 100 ] && [ -w /proc/sys/vm/nr_hugepages ]; then
		echo 100 >/proc/sys/vm/nr_hugepages 2>/dev/null && HUGE_BEFORE=$before || true
	fi
	PGURL=$(scripts/pg-test.sh start "$PGDIR" 2>/dev/null)
	export PGOPTIONS="-c client_min_messages=warning"
	PGBASE=${PGURL%/postgres}
}

pg_data() { # -> database hwc3d_bench and $WORK/pg, from the cache
	pg_start
	if [ ! -f "$CACHE/pg/.complete" ]; then
		echo "== generating the PostgreSQL data ($KEY)"
		rm -rf "$CACHE/pg.tmp"
		mkdir -p "$CACHE/pg.tmp/data"
		psql "$PGURL" -qc "DROP DATABASE IF EXISTS hwc3d_gen" -c "CREATE DATABASE hwc3d_gen" >/dev/null
		generate "$CACHE/pg.tmp/data" "$PGBASE/hwc3d_gen" "$PGBASE/hwc3d_gen"
		pg_dump -Fc -f "$CACHE/pg.tmp/hwc3d.dump" "$PGBASE/hwc3d_gen"
		psql "$PGURL" -qc "DROP DATABASE hwc3d_gen" >/dev/null
		rm -f "$CACHE/pg.tmp/data"/server-*.log
		touch "$CACHE/pg.tmp/.complete"
		mv "$CACHE/pg.tmp" "$CACHE/pg"
	else
		echo "== PostgreSQL data from the cache ($CACHE/pg)"
	fi
	local t0
	t0=$(date +%s)
	psql "$PGURL" -qc "DROP DATABASE IF EXISTS hwc3d_bench" -c "CREATE DATABASE hwc3d_bench" >/dev/null
	pg_restore -j2 --no-owner -d "$PGBASE/hwc3d_bench" "$CACHE/pg/hwc3d.dump"
	# a restore carries no statistics and no visibility map
	psql "$PGBASE/hwc3d_bench" -qc "VACUUM (ANALYZE)" >/dev/null
	echo "  restored in $(($(date +%s) - t0)) s"
	rm -rf "$WORK/pg"
	cp -a "$CACHE/pg/data" "$WORK/pg"
}

# ------------------------------------------------------------- workloads

# The password pool's completed and rejected totals (/metrics).
pool_password() { # port
	curl -fsS "http://127.0.0.1:$1/metrics" | awk '/^hwc3d_pool_completed_total\{kind="password"/ {c = $NF}
		/^hwc3d_pool_rejected_total\{kind="password"/ {r = $NF} END {print c + 0, r + 0}'
}

# Every chosen workload at every connection count, on a running server.
workloads() { # engine port qdb
	local e=$1 port=$2 qdb=$3 url=http://127.0.0.1:$2 w c k=0 lines
	/usr/bin/python3 scripts/bench-prep.py lines dashboard "$qdb" "$SECRET" "$WORK/dashboard-$e.txt" >/dev/null
	/usr/bin/python3 scripts/bench-prep.py lines community "$qdb" "$WORK/community-$e.txt" >/dev/null
	# checkout and cart pairs: a disjoint slice for every run
	lines=$((DURATION * 3000))
	for w in $WORKLOADS; do
		for c in $CONNS_LIST; do
			case $w in
			read) run_wrk read "$e" "$c" "$url" -s scripts/bench-random.lua -- mix "$MODELS" ;;
			search) run_wrk search "$e" "$c" "$url" -s scripts/bench-random.lua -- search "$MODELS" ;;
			list | detail) run_wrk "$w" "$e" "$c" "$url" -s scripts/bench-random.lua -- "$w" "$MODELS" ;;
			dashboard) run_wrk dashboard "$e" "$c" "$url" -s scripts/bench-lines.lua -- "$WORK/dashboard-$e.txt" ;;
			community) run_wrk community "$e" "$c" "$url" -s scripts/bench-lines.lua -- "$WORK/community-$e.txt" ;;
			login)
				local before after
				before=$(pool_password "$port")
				run_wrk login "$e" "$c" "$url" -s scripts/bench-login.lua -- "$USERS"
				sleep 1 # the hashes still queued finish (or are dropped with their connections)
				after=$(pool_password "$port")
				note "login $e $c: the password pool hashed $(( ${after% *} - ${before% *} )) passwords" \
					"(~$(( (${after% *} - ${before% *}) / (DURATION + 1) ))/s) and refused $(( ${after#* } - ${before#* } )) (503, queue full)"
				;;
			cart | checkout)
				/usr/bin/python3 scripts/bench-checkout.py "$qdb" "$SECRET" "$lines" $((k * lines)) \
					>"$WORK/pairs.txt"
				k=$((k + 1))
				run_wrk "$w" "$e" "$c" "$url" -s scripts/bench-checkout.lua -- "$WORK/pairs.txt" "$THREADS" "$w"
				;;
			*) echo "bench: unknown workload $w" >&2 ;;
			esac
		done
	done
}

bench_engine() { # engine dir database_url qdb
	local e=$1 dir=$2 url=$3 qdb=$4 port idle
	server_env "$dir" "$url"
	port=$(free_port)
	start_server "$dir" "$port"
	ACCESS_LOG_FILE=$dir/server-$port.log
	sleep 1
	idle=$(rss "$SERVER_PID" VmRSS)
	echo "== $e: $MODELS models, $USERS users, $LIKES likes; ${DURATION}s per run, $THREADS wrk threads, $(nproc) cores"
	# warm-up, not counted: the first reads after a restore find cold caches
	wrk -t"$THREADS" -c64 -d3s "http://127.0.0.1:$port" -s scripts/bench-random.lua -- mix "$MODELS" >/dev/null 2>&1 || true
	workloads "$e" "$port" "$qdb"
	note "memory $e: idle $idle, after the runs $(rss "$SERVER_PID" VmRSS), peak $(rss "$SERVER_PID" VmHWM) (VmRSS, VmHWM)"
	note "password pool $e: $(curl -fsS "http://127.0.0.1:$port/metrics" | awk -F'[ }]' '/^hwc3d_pool_(workers|completed_total|rejected_total)\{kind="password"/ {sub(/hwc3d_pool_/, "", $1); sub(/\{.*/, "", $1); printf "%s %s ", $1, $NF}')"
	if [ "$EXTRA" = 1 ]; then
		extra_fixed "$e" "$port"
		stop_pid "$SERVER_PID"
		# The same random keys with the response cache off: the uncached path.
		start_server "$dir" "$port" RESPONSE_CACHE=off
		local m c=${CONNS_LIST%% *}
		for m in list search mix; do
			run_wrk "random-$m-nocache" "$e" "$c" "http://127.0.0.1:$port" -s scripts/bench-random.lua -- "$m" "$MODELS"
		done
	fi
	stop_pid "$SERVER_PID"
	ACCESS_LOG_FILE=""
}

# nginx (docs/deployment.md's sample) in front of N instances on one
# PostgreSQL database: the read mix and the search.
nginx_conf() { # dir listen port...
	local dir=$1 listen=$2 a=$3 b=${4:-}
	mkdir -p "$dir"
	awk '/nginx-sample: begin/ {on = 1; next} /nginx-sample: end/ {on = 0} on' docs/deployment.md |
		sed -n '/^```nginx$/,/^```$/p' | sed '1d;$d' >"$dir/sample.conf"
	{
		printf 'daemon off;\npid %s/nginx.pid;\nerror_log %s/error.log;\n' "$dir" "$dir"
		[ "$(id -u)" = 0 ] && printf 'user root;\n'
		sed -e "s/127.0.0.1:8000;/127.0.0.1:$listen;/" -e "s/127.0.0.1:8001 /127.0.0.1:$a /" \
			-e "$([ -n "$b" ] && echo "s/127.0.0.1:8002 /127.0.0.1:$b /" || echo '/127.0.0.1:8002 /d')" \
			-e "s|^http {|http {\n    access_log off;\n    client_body_temp_path $dir/body;\n    proxy_temp_path $dir/proxy;\n    fastcgi_temp_path $dir/fastcgi;\n    uwsgi_temp_path $dir/uwsgi;\n    scgi_temp_path $dir/scgi;|" \
			"$dir/sample.conf"
	} >"$dir/nginx.conf"
}

bench_cluster() { # dir database_url
	local dir=$1 url=$2 pa pb listen n pids ngx label
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { note "cluster: nginx is not installed: skipped"; return; }
	local NGINX
	NGINX=$(command -v nginx || echo /usr/sbin/nginx)
	server_env "$dir" "$url"
	pa=$(free_port)
	pb=$(free_port)
	start_server "$dir" "$pa"
	local a=$SERVER_PID
	start_server "$dir" "$pb"
	local b=$SERVER_PID
	for n in 1 2; do
		listen=$(free_port)
		if [ "$n" = 1 ]; then nginx_conf "$WORK/nginx$n" "$listen" "$pa"; else nginx_conf "$WORK/nginx$n" "$listen" "$pa" "$pb"; fi
		"$NGINX" -p "$WORK/nginx$n" -c "$WORK/nginx$n/nginx.conf" 2>"$WORK/nginx$n/stderr" &
		ngx=$!
		PIDS+=("$ngx")
		for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$listen/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
		label="pg+nginx x$n"
		echo "== $label: nginx (docs/deployment.md's sample, 1 worker) in front of $n instance(s)"
		# warm-up, not counted: every instance's response cache and connections
		wrk -t"$THREADS" -c64 -d3s "http://127.0.0.1:$listen" -s scripts/bench-random.lua -- mix "$MODELS" >/dev/null 2>&1 || true
		for w in read search; do
			for c in $CONNS_LIST; do
				if [ "$w" = read ]; then
					run_wrk read "$label" "$c" "http://127.0.0.1:$listen" -s scripts/bench-random.lua -- mix "$MODELS"
				else
					run_wrk search "$label" "$c" "http://127.0.0.1:$listen" -s scripts/bench-random.lua -- search "$MODELS"
				fi
			done
		done
		stop_pid "$ngx"
	done
	note "memory pg+nginx x2: instance a peak $(rss "$a" VmHWM), instance b peak $(rss "$b" VmHWM)"
	stop_pid "$a"
	stop_pid "$b"
}

# ----------------------------------------------------- earlier sections

extra_fixed() { # engine port
	local e=$1 u=http://127.0.0.1:$2
	local c=${CONNS_LIST%% *}
	run_wrk "GET /api/categories" "$e" "$c" "$u/api/categories"
	run_wrk "GET /api/categories?limit=5" "$e" "$c" "$u/api/categories?limit=5&page=2"
	run_wrk "GET /healthz" "$e" "$c" "$u/healthz"
	run_wrk "GET /api/nope (404)" "$e" "$c" "$u/api/nope"
	run_wrk "GET /api/admin/categories (401)" "$e" "$c" "$u/api/admin/categories"
	run_wrk "GET /api/models (page 1)" "$e" "$c" "$u/api/models"
	run_wrk "GET /api/models p50 filtered" "$e" "$c" "$u/api/models?page=50&category=props&sort=price_low&min_price=5"
	run_wrk "GET /api/models?search=" "$e" "$c" "$u/api/models?search=dragon%20castle"
	run_wrk "GET /api/models/{id}" "$e" "$c" "$u/api/models/1000"
}

# Uploads and analysis (SQLite; the database plays no part in these).
bench_uploads() {
	local dir=$WORK/uploads port pid
	mkdir -p "$dir/models" "$dir/data"
	port=$(free_port)
	/usr/bin/python3 tests/media/make_models.py "$dir/models" --big 50 >/dev/null
	mv "$dir/models/big.glb" "$dir/big50.glb"
	/usr/bin/python3 tests/media/make_models.py "$dir/models" --big 100 >/dev/null
	mv "$dir/models/big.glb" "$dir/big100.glb"
	server_env "$dir/data" ""
	export RATE_LIMIT_UPLOAD=1000000/hour
	(cd "$dir" && "$BIN" seed-demo --scale 2 >/dev/null 2>&1)
	start_server "$dir" "$port"
	pid=$SERVER_PID
	echo "== uploads and analysis (release build)"
	local t0 t1
	t0=$(date +%s%N)
	"$BIN" analyze-model GLB <"$dir/big50.glb" >/dev/null
	t1=$(date +%s%N)
	printf '  %-36s %8.2f s   (%s MB)\n' "analysis of a 50 MB GLB (child alone)" \
		"$(echo "($t1 - $t0) / 1000000000" | bc -l)" "$(($(stat -c %s "$dir/big50.glb") / 1048576))"
	local rss_before
	rss_before=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
	DIR="$dir" PORT="$port" /usr/bin/python3 - <<'PY'
import base64, hashlib, hmac, io, json, os, time
import requests
secret = os.environ["JWT_SECRET_KEY"].encode()
def b(x): return base64.urlsafe_b64encode(x).rstrip(b"=").decode()
t = int(time.time())
h = b(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
p = b(json.dumps({"sub": "1", "role": "user", "iat": t, "ims": t * 1000, "exp": t + 900}).encode())
tok = h + "." + p + "." + b(hmac.new(secret, (h + "." + p).encode(), hashlib.sha256).digest())
base = f"http://127.0.0.1:{os.environ['PORT']}"
hdr = {"Authorization": "Bearer " + tok}
path = os.path.join(os.environ["DIR"], "big100.glb")
size = os.path.getsize(path)
with open(path, "rb") as f:
    t0 = time.time()
    r = requests.post(base + "/api/upload/model", headers=hdr, files={"file": ("big.glb", f)}, timeout=600)
    dt = time.time() - t0
assert r.status_code == 201, r.text[:300]
print(f"  {'upload of a %d MB GLB (with analysis)' % (size >> 20):36s} {dt:8.2f} s   {size / dt / 1048576:8.1f} MB/s"
      f"   (poly_count {r.json()['poly_count']})")
try:
    from PIL import Image
    img = Image.frombytes("RGB", (3400, 2600), os.urandom(3400 * 2600 * 3))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=95)
    data = buf.getvalue()
    t0 = time.time()
    r = requests.post(base + "/api/upload/image", headers=hdr, files={"file": ("photo.jpg", data)}, timeout=120)
    dt = time.time() - t0
    assert r.status_code == 201, r.text[:300]
    print(f"  {'image validation of a %.1f MB JPEG' % (len(data) / 1048576):36s} {dt:8.2f} s   (re-encoded {r.json()['width']}x{r.json()['height']})")
except ImportError:
    print("  (python3-pil missing: image benchmark skipped)")
PY
	printf '  %-36s %s kB -> %s kB\n' "server peak RSS before -> after" "$rss_before" \
		"$(awk '/VmHWM/ {print $2}' /proc/$pid/status)"
	stop_pid "$pid"
}

# Issue 9's latency check and issue 10's dashboard timing, through their
# tests on the release build.
bench_latency() {
	echo "== latency under load (release build): uncached GET /api/categories during 4 analyses + 20 logins"
	local engine
	for engine in sqlite postgres; do
		[ "$engine" = postgres ] && [ -z "${TEST_PG_URL:-}" ] && continue
		HWC3D_TEST_BINARY=$BIN /usr/bin/python3 -m pytest tests/api/test_pool.py -q -s -p no:cacheprovider \
			-k "uncached and $engine" 2>&1 | grep -E "^\[$engine\]" | sed 's/^/  /' || true
	done
	echo "== creator dashboard (release build): 1,000 models, 1,000,000 views over a year; server time, median of 15 calls"
	HWC3D_TIMING_BINARY=$BIN /usr/bin/python3 -m pytest tests/api/test_dashboard.py -q -s -p no:cacheprovider \
		-k within_20_ms 2>&1 | grep -E "^(sqlite|postgres): /api" | sed 's/^/  /' || true
}

# ------------------------------------------------------------------ main

echo "bench: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)," \
	"$(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo) RAM, load average $(cut -d' ' -f1-3 /proc/loadavg)"
T_START=$(date +%s)
if want_engine sqlite; then
	sqlite_data
	bench_engine sqlite "$WORK/sqlite" "" "$WORK/sqlite/hwc3d.db"
	if [ "$EXTRA" = 1 ]; then bench_uploads; fi
fi
if want_engine postgres; then
	if have_pg; then
		pg_data
		bench_engine postgres "$WORK/pg" "$PGBASE/hwc3d_bench" "$PGBASE/hwc3d_bench"
		if [ "$CLUSTER" = 1 ]; then bench_cluster "$WORK/pg" "$PGBASE/hwc3d_bench"; fi
		export TEST_PG_URL=$PGURL
	else
		note "postgres: no PostgreSQL server installed: skipped"
	fi
fi
if [ "$EXTRA" = 1 ]; then bench_latency; fi

if [ "$WS" = 1 ]; then
	echo "== WebSockets (release build, SQLite, a fresh demo database)"
	WS_IDLE=${BENCH_WS_IDLE:-5000} WS_FANOUT=${BENCH_WS_FANOUT:-1000} HWC3D_TEST_BINARY=$BIN \
		timeout 600 /usr/bin/python3 scripts/bench-ws.py 2>&1 | tee "$WORK/ws.txt" || note "bench-ws failed"
	sed -n 's/^  /websockets: /p' "$WORK/ws.txt" >>"$NOTES"
fi

# ----------------------------------------------------------------- table
echo
echo "== $MODELS models, $USERS users, $LIKES likes, $COMMUNITIES communities; ${DURATION}s per run," \
	"$THREADS wrk threads; $(nproc) cores, load average now $(cut -d' ' -f1-3 /proc/loadavg); $(($(date +%s) - T_START)) s in all"
awk -F'\t' -v order="$WORKLOADS random-list-nocache random-search-nocache random-mix-nocache" '
	BEGIN { ww = 8; we = 6 }
	{ row[NR] = $0; w[NR] = $1; if (length($1) > ww) ww = length($1); if (length($2) > we) we = length($2) }
	END {
		n = split(order, o, " ")
		fmt = "%-" ww "s  %-" we "s %6s %9s %9s %10s %10s %9s %7s\n"
		printf fmt, "workload", "engine", "conns", "req/s", "2xx/s", "p50", "p99", "non-2xx", "errors"
		for (k = 1; k <= n; k++) for (i = 1; i <= NR; i++) if (!done[i] && w[i] == o[k]) { pr(row[i]); done[i] = 1 }
		for (i = 1; i <= NR; i++) if (!done[i]) pr(row[i])
	}
	function pr(r,   f, ok) {
		split(r, f, "\t")
		ok = f[4] == "-" || f[9] == 0 ? "-" : sprintf("%.0f", f[4] * (f[9] - f[7]) / f[9])
		printf fmt, f[1], f[2], f[3], f[4], ok, f[5], f[6], f[7], f[8]
	}
' "$TABLE"
cat "$NOTES"
