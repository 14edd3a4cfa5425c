#!/usr/bin/env bash
# Run the libFuzzer targets (built by `make fuzz-build` into build/fuzz/bin/).
#
#   scripts/fuzz.sh [TARGET...]        default: every build/fuzz/bin/fuzz_*
#
# Each target runs for FUZZ_SECONDS (default 60; 0 replays the corpora
# only) on its committed seed corpus tests/fuzz/corpus/TARGET/ (read only,
# crash-* files there are regression inputs) plus a working corpus in
# build/fuzz/corpus/TARGET/ that grows from run to run.  Any crash, leak,
# timeout or out-of-memory stops that target; its input is written to
# build/fuzz/crashes/TARGET-*, every other target still runs, and the script
# exits 1.  A summary line per target gives executions per second and
# coverage.  FUZZ_ARGS adds libFuzzer options to every run.
set -uo pipefail

cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
seconds=${FUZZ_SECONDS:-60}
case $seconds in '' | *[!0-9]*) echo "fuzz.sh: FUZZ_SECONDS must be a number" >&2; exit 2 ;; esac

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for b in build/fuzz/bin/fuzz_*; do [ -x "$b" ] && targets+=("${b##*/}"); done
fi
[ ${#targets[@]} -gt 0 ] || { echo "fuzz.sh: no targets (run make fuzz-build)" >&2; exit 2; }

# Per-target limits: input size, seconds per input, extra options.
opts_for() {
    case $1 in
        fuzz_router) echo "-max_len=4096 -timeout=10" ;;
        fuzz_lists) echo "-max_len=8192 -timeout=20" ;;
        fuzz_json) echo "-max_len=16384 -timeout=10" ;;
        fuzz_multipart) echo "-max_len=16384 -timeout=10" ;;
        fuzz_auth) echo "-max_len=4096 -timeout=10" ;;
        fuzz_framing) echo "-max_len=20000 -timeout=10" ;;
        # assimp 5.2.5 (Debian's, not instrumented) leaks on some broken
        # files itself; the sandboxed child exits after one file, so that
        # costs nothing in the server, but it would stop every run here.
        fuzz_model) echo "-max_len=65536 -timeout=20 -detect_leaks=0" ;;
        *) echo "-max_len=8192 -timeout=10" ;;
    esac
}
asan_for() {
    case $1 in
        fuzz_model) echo "detect_leaks=0" ;; # also at exit (see above)
        *) echo "detect_leaks=1" ;;
    esac
}

mkdir -p build/fuzz/crashes
failed=()
summary=()
for t in "${targets[@]}"; do
    bin=build/fuzz/bin/$t
    [ -x "$bin" ] || { echo "fuzz.sh: $bin missing (make fuzz-build)" >&2; failed+=("$t"); continue; }
    seeds=tests/fuzz/corpus/$t
    work=build/fuzz/corpus/$t
    mkdir -p "$work" "$seeds"
    dict=()
    [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
    if [ "$seconds" -eq 0 ]; then
        run=(-runs=0)
    else
        run=(-max_total_time="$seconds")
    fi
    log=build/fuzz/$t.log
    echo "== $t: ${seconds}s"
    # shellcheck disable=SC2046 # opts_for gives separate words on purpose
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}$(asan_for "$t")" \
        timeout -k 10 $((seconds * 2 + 300)) "$bin" "${run[@]}" $(opts_for "$t") "${dict[@]}" \
        -rss_limit_mb=3072 -print_final_stats=1 \
        -artifact_prefix="build/fuzz/crashes/$t-" ${FUZZ_ARGS:-} "$work" "$seeds" >"$log" 2>&1
    rc=$?
    last=$(grep -E '^#[0-9]+[[:space:]]+(DONE|INITED|pulse|NEW|REDUCE)' "$log" | tail -1)
    execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    rate=$(sed -n 's/.* exec\/s: \([0-9]*\).*/\1/p' <<<"$last")
    if [ $rc -ne 0 ]; then
        failed+=("$t")
        echo "   FAILED (exit $rc); the end of $log:"
        grep -v '^{' "$log" | tail -40 | sed 's/^/   | /'
        summary+=("$t: FAILED, see $log and build/fuzz/crashes/")
    else
        summary+=("$t: ok, ${execs:-?} runs, ${rate:-?} exec/s, cov ${cov:-?}")
    fi
done

echo "== fuzzing summary"
printf '   %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz.sh: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
    exit 1
fi
