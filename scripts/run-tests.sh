#!/usr/bin/env bash
# The whole test run behind `make test`: C unit tests, then the black-box API
# suite (with the browser tests of tests/api/test_browser.py), each against
# SQLite and a throwaway PostgreSQL cluster.  Expects the test build (make
# test-build) to exist.  `--e2e` (make test-e2e) runs the browser tests alone,
# `--cluster` (make test-cluster) the two instances behind nginx alone.
set -euo pipefail
cd "$(dirname "$0")/.."

TESTS=(tests/api)
UNIT=1
if [ "${1:-}" = "--e2e" ]; then
	shift
	TESTS=(tests/api/test_browser.py tests/api/test_browser_admin.py)
	UNIT=0
elif [ "${1:-}" = "--cluster" ]; then
	shift
	TESTS=tests/api/test_cluster.py
	UNIT=0
fi

PY=/usr/bin/python3
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

PGDIR=$(mktemp -d /tmp/hwc3d-pg.XXXXXX)
cleanup() { scripts/pg-test.sh stop "$PGDIR" >/dev/null 2>&1 || true; }
trap cleanup EXIT
TEST_PG_URL=$(scripts/pg-test.sh start "$PGDIR")
export TEST_PG_URL

# the S3 round trip of the unit tests runs against the npm stand-in
[ -f node_modules/s3rver/bin/s3rver.js ] && export TEST_S3RVER=node_modules/s3rver/bin/s3rver.js

if [ "$UNIT" = 1 ]; then
	echo "== C unit tests"
	build/test/unit
	echo "== API tests (SQLite and PostgreSQL), with the browser tests"
else
	echo "== $TESTS"
fi

set +e
$PY -m pytest "${TESTS[@]}" -q -p no:cacheprovider "$@"
rc=$?
set -e
for engine in sqlite postgres; do
	if [ -d "build/screenshots/$engine" ]; then
		echo "screenshots of the page sweep ($engine): $(pwd)/build/screenshots/$engine/ ($(ls "build/screenshots/$engine" | wc -l) files)"
	fi
done
if [ "$rc" -eq 5 ]; then
	echo "pytest collected no tests" >&2
fi
exit "$rc"
