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
SCALE=${BENCH_SCALE:-10000}
MODELS=${BENCH_MODELS:-50000}
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

run_wrk() { # name url [wrk args...]
	local out rps p99 name=$1 url=$2
	shift 2
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$url" "$@" 2>&1)
	rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
	printf '  %-28s %10s req/s   p99 %8s%s\n' "$name" "$rps" "$p99" "${non2xx:+   (non-2xx: $non2xx)}"
}

bench_engine() { # label database_url
	local label=$1 url=$2 dir=$WORK/$1 port
	mkdir -p "$dir"
	port=$(free_port)
	export DATA_DIR=$dir PORT=$port HOST=127.0.0.1 JWT_SECRET_KEY=bench-secret-0123456789abcdef0123456789abcdef
	# The limiter runs on every request but with budgets no benchmark reaches.
	export RATE_LIMIT_GENERAL=1000000000/minute RATE_LIMIT_ADMIN=1000000000/minute
	# wrk opens all its connections from 127.0.0.1: lift the per-address cap
	export MAX_CONNECTIONS_PER_IP=$((CONNS + 16))
	if [ -n "$url" ]; then export DATABASE_URL=$url; else unset DATABASE_URL; fi
	(cd "$dir" && "$BIN" seed-demo --scale "$SCALE" --models "$MODELS" >/dev/null 2>&1)
	start_server "$dir" "$port"
	echo "== $label: $CONNS connections, $THREADS wrk threads, ${DURATION}s each, $(nproc) cores, $MODELS models, $SCALE users"
	run_wrk "GET /api/categories" "http://127.0.0.1:$port/api/categories"
	run_wrk "GET /api/categories?limit=5" "http://127.0.0.1:$port/api/categories?limit=5&page=2"
	run_wrk "GET /healthz" "http://127.0.0.1:$port/healthz"
	run_wrk "GET /api/nope (404)" "http://127.0.0.1:$port/api/nope"
	run_wrk "GET /api/admin/categories (401)" "http://127.0.0.1:$port/api/admin/categories"
	run_wrk "GET /api/models (page 1)" "http://127.0.0.1:$port/api/models"
	run_wrk "GET /api/models p50 filtered" "http://127.0.0.1:$port/api/models?page=50&category=props&sort=price_low&min_price=5"
	run_wrk "GET /api/models?search=" "http://127.0.0.1:$port/api/models?search=dragon%20castle"
	run_wrk "GET /api/models/{id}" "http://127.0.0.1:$port/api/models/1000"
	# Random keys (scripts/bench-random.lua): thousands of distinct pages,
	# sorts, categories, words and ids, so most keys are cold.
	local m
	for m in list search detail mix; do
		run_wrk "random $m" "http://127.0.0.1:$port" -s scripts/bench-random.lua -- "$m" "$MODELS"
	done
	# Checkout with the test processor: every request a real purchase, a
	# different seeded buyer and priced model each (scripts/bench-checkout.py).
	local pairs=$WORK/checkout-$label.txt
	/usr/bin/python3 scripts/bench-checkout.py "${url:-$dir/hwc3d.db}" "$JWT_SECRET_KEY" 60000 >"$pairs"
	run_wrk "POST /api/checkout (test card)" "http://127.0.0.1:$port" -s scripts/bench-checkout.lua -- "$pairs" "$THREADS"
	printf '  %-28s %10s\n' "server RSS after runs" "$(awk '/VmRSS/ {print $2, $3}' /proc/$SERVER_PID/status)"
	printf '  %-28s %10s\n' "server peak RSS" "$(awk '/VmHWM/ {print $2, $3}' /proc/$SERVER_PID/status)"
	stop_server
	# The same random keys with the response cache off: the uncached path.
	RESPONSE_CACHE=off start_server "$dir" "$port"
	for m in list search mix; do
		run_wrk "random $m (cache off)" "http://127.0.0.1:$port" -s scripts/bench-random.lua -- "$m" "$MODELS"
	done
	stop_server
}

start_server() { # dir port (the environment is the server's)
	(cd "$1" && exec "$BIN" serve 2>>"$1/server.log") &
	SERVER_PID=$!
	for _ in $(seq 100); do
		curl -fsS "http://127.0.0.1:$2/healthz" >/dev/null 2>&1 && break
		sleep 0.1
	done
}

stop_server() {
	kill "$SERVER_PID"
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=""
}

# Uploads and analysis (SQLite; the database plays no part in these).
bench_uploads() {
	local dir=$WORK/uploads port pid
	mkdir -p "$dir/models"
	port=$(free_port)
	/usr/bin/python3 tests/media/make_models.py "$dir/models" --big 50 >/dev/null
	mv "$dir/models/big.glb" "$dir/big50.glb"
	/usr/bin/python3 tests/media/make_models.py "$dir/models" --big 100 >/dev/null
	mv "$dir/models/big.glb" "$dir/big100.glb"
	export DATA_DIR=$dir/data PORT=$port HOST=127.0.0.1 JWT_SECRET_KEY=bench-secret-0123456789abcdef0123456789abcdef
	export RATE_LIMIT_UPLOAD=1000000/hour
	unset DATABASE_URL
	(cd "$dir" && "$BIN" seed-demo --scale 2 >/dev/null 2>&1)
	(cd "$dir" && exec "$BIN" serve 2>"$dir/server.log") &
	pid=$!
	SERVER_PID=$pid
	for _ in $(seq 100); do
		curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
		sleep 0.1
	done
	echo "== uploads and analysis (release build)"
	local t0 t1
	t0=$(date +%s%N)
	"$BIN" analyze-model GLB < "$dir/big50.glb" >/dev/null
	t1=$(date +%s%N)
	printf '  %-36s %8.2f s   (%s MB)\n' "analysis of a 50 MB GLB (child alone)" \
		"$(echo "($t1 - $t0) / 1000000000" | bc -l)" "$(( $(stat -c %s "$dir/big50.glb") / 1048576 ))"
	local rss_before
	rss_before=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
	DIR="$dir" PORT="$port" /usr/bin/python3 - <<'PY'
import base64, hashlib, hmac, io, json, os, time, urllib.request
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
    import random
    random.seed(1)
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
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	SERVER_PID=""
}

# Issue 9's latency check on the release build: uncached GET
# /api/categories while 4 model analyses and 20 sign-ins run
# (tests/api/test_pool.py's scenario; the test suite runs it on the
# sanitizer build with a looser bound).
bench_latency() {
	echo "== latency under load (release build): uncached GET /api/categories during 4 analyses + 20 logins"
	local engine
	for engine in sqlite postgres; do
		[ "$engine" = postgres ] && [ -z "${TEST_PG_URL:-}" ] && continue
		HWC3D_TEST_BINARY=$BIN /usr/bin/python3 -m pytest tests/api/test_pool.py -q -s -p no:cacheprovider \
			-k "uncached and $engine" 2>&1 | grep -E "^\[$engine\]" | sed 's/^/  /' || true
	done
}

# Issue 10's creator dashboard on the release build: a creator with 1,000
# models and 1,000,000 views over a year (tests/api/test_dashboard.py builds
# it), the server's own time per call (median of 15).
bench_dashboard() {
	echo "== creator dashboard (release build): 1,000 models, 1,000,000 views over a year; server time, median of 15 calls"
	HWC3D_TIMING_BINARY=$BIN /usr/bin/python3 -m pytest tests/api/test_dashboard.py -q -s -p no:cacheprovider \
		-k within_20_ms 2>&1 | grep -E "^(sqlite|postgres): /api" | sed 's/^/  /' || true
}

bench_engine sqlite ""
bench_uploads
if [ -x /usr/lib/postgresql/15/bin/postgres ] || ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
	PGDIR=$(mktemp -d /tmp/hwc3d-bench-pg.XXXXXX)
	# Huge pages for PostgreSQL's shared memory, as its documentation
	# advises for production (huge_pages=try uses them when the kernel has
	# them): with 4 KB pages every new backend takes a page fault for each
	# page of shared buffers it touches first, ~70 ms for the models table
	# here, and the first second of a run is those faults.  Reserved only
	# when root can, and given back on exit.
	HUGE_BEFORE=$(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo "")
	if [ -n "$HUGE_BEFORE" ] && [ "$HUGE_BEFORE" -lt 100 ] && [ -w /proc/sys/vm/nr_hugepages ]; then
		echo 100 >/proc/sys/vm/nr_hugepages 2>/dev/null || true
		trap 'cleanup; echo "$HUGE_BEFORE" >/proc/sys/vm/nr_hugepages 2>/dev/null || true' EXIT
	fi
	PGURL=$(scripts/pg-test.sh start "$PGDIR" 2>/dev/null)
	psql "$PGURL" -qc "CREATE DATABASE hwc3d_bench" >/dev/null
	bench_engine postgresql "${PGURL%/postgres}/hwc3d_bench"
	export TEST_PG_URL=$PGURL
fi
bench_latency
bench_dashboard

echo "== WebSockets (release build): 10,000 idle sockets held, one event to 1,000 subscribers"
HWC3D_TEST_BINARY=$BIN timeout 600 /usr/bin/python3 scripts/bench-ws.py || echo "  bench-ws failed"
