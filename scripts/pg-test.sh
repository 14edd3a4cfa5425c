#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for tests.
#
#   scripts/pg-test.sh start DIR   create and start a cluster in DIR; print its
#                                  URL (postgresql://postgres@127.0.0.1:PORT/postgres)
#                                  as the only line on stdout, and write it to DIR/url
#   scripts/pg-test.sh stop DIR    stop that cluster and remove DIR
#   scripts/pg-test.sh pause DIR   stop that cluster (fast shutdown), keeping DIR
#   scripts/pg-test.sh resume DIR  start a paused cluster again, on its port
#
# The server listens on 127.0.0.1 only, on a free TCP port, with its unix
# socket inside DIR, trust authentication and durability switched off (fsync,
# synchronous_commit, full_page_writes): fast, and never for real data.
#
# DIR must not exist yet or be an empty directory (mktemp -d is fine). When run
# as root, DIR is handed to the `postgres` system user, who runs initdb and
# pg_ctl (PostgreSQL refuses to run as root), so every directory above DIR
# must be searchable by that user: use a DIR under /tmp, not under /root.
#
# Environment: PG_BINDIR overrides where initdb/pg_ctl/pg_isready are found
# (default: the highest /usr/lib/postgresql/*/bin).
set -euo pipefail

prog=${0##*/}
MARKER=.hwc3d-pg-test

die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
say() { printf '%s: %s\n' "$prog" "$*" >&2; }

usage() {
    sed -n '2,21s/^# \{0,1\}//p' "$0" >&2
}

find_bindir() {
    if [ -n "${PG_BINDIR:-}" ]; then
        [ -x "$PG_BINDIR/pg_ctl" ] || die "PG_BINDIR=$PG_BINDIR has no pg_ctl"
        printf '%s\n' "$PG_BINDIR"
        return
    fi
    local d best=
    # highest major version first
    while IFS= read -r d; do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then best=$d; break; fi
    done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5 -V -r)
    [ -n "$best" ] || die "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (run: scripts/install-deps.sh runtime)"
    printf '%s\n' "$best"
}

abspath() {
    # absolute path of $1, whose parent must exist
    local parent base
    parent=$(dirname -- "$1")
    base=$(basename -- "$1")
    [ -d "$parent" ] || die "parent directory $parent does not exist"
    parent=$(cd -- "$parent" && pwd -P)
    if [ "$parent" = / ]; then printf '/%s\n' "$base"; else printf '%s/%s\n' "$parent" "$base"; fi
}

# Run a command as the cluster owner: `postgres` when we are root, else us.
# Always from / so that an unreadable working directory (/root/...) is no issue.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}

free_port() {
    local py p
    for py in /usr/bin/python3 python3; do
        if command -v "$py" >/dev/null 2>&1; then
            "$py" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' && return 0
        fi
    done
    # fallback: random ports until one refuses a connection
    for _ in $(seq 1 100); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            printf '%s\n' "$p"
            return 0
        fi
    done
    die "could not find a free TCP port"
}

cmd_start() {
    local dir=$1 bindir data sock log port url started=0 attempt created=0
    bindir=$(find_bindir)
    dir=$(abspath "$dir")
    data=$dir/data
    sock=$dir/sock
    log=$dir/postgres.log

    if [ -e "$dir" ]; then
        [ -d "$dir" ] || die "$dir exists and is not a directory"
        [ -z "$(ls -A -- "$dir")" ] || die "$dir is not empty (stop the cluster there first, or use a new directory)"
    else
        mkdir -m 700 -- "$dir" || die "cannot create $dir"
        created=1
    fi
    : > "$dir/$MARKER"

    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || die "no 'postgres' system user (run: scripts/install-deps.sh runtime)"
        command -v runuser >/dev/null 2>&1 || die "runuser not found (package util-linux)"
        chown postgres: "$dir" "$dir/$MARKER"
        if ! runuser -u postgres -- test -w "$dir" -a -x "$dir"; then
            if [ "$created" -eq 1 ]; then rm -rf -- "$dir"; else rm -f -- "$dir/$MARKER"; fi
            die "user postgres cannot reach $dir (is a parent directory private, e.g. /root?); use a directory under /tmp, e.g. \$(mktemp -d)"
        fi
    fi

    # unix socket paths are limited to 107 bytes
    if [ $(( ${#sock} + 20 )) -gt 107 ]; then
        die "$dir is too long a path for a unix socket directory; use a shorter one (e.g. mktemp -d /tmp/pg.XXXXXX)"
    fi
    as_owner mkdir -m 700 "$sock"

    local locale_opt=(--no-locale)
    if locale -a 2>/dev/null | grep -qix 'c\.utf-\{0,1\}8'; then
        locale_opt=(--locale=C.UTF-8)
    fi

    say "initdb in $data ($bindir)"
    if ! as_owner "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 "${locale_opt[@]}" \
        --no-instructions >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2 || true
        die "initdb failed"
    fi

    as_owner tee -a "$data/postgresql.conf" >/dev/null <<EOF

# --- hwc3d scripts/pg-test.sh: throwaway test cluster ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 128MB
log_min_messages = warning
log_min_error_statement = panic
EOF

    # The port is picked, then bound by the server a moment later: retry if
    # someone else took it in between.
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        say "starting PostgreSQL on 127.0.0.1:$port (attempt $attempt)"
        if as_owner "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 -o "-p $port" start \
            </dev/null >&2; then
            started=1
            break
        fi
        if grep -q -E 'could not bind|Address already in use' "$log" 2>/dev/null; then
            continue
        fi
        break
    done
    if [ "$started" -ne 1 ]; then
        tail -n 30 "$log" >&2 2>/dev/null || true
        die "PostgreSQL did not start (log: $log)"
    fi

    local i
    for i in $(seq 1 120); do
        if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; then
            break
        fi
        [ "$i" -lt 120 ] || { tail -n 30 "$log" >&2 || true; die "PostgreSQL not ready after 60 s (log: $log)"; }
        sleep 0.5
    done

    url="postgresql://postgres@127.0.0.1:$port/postgres"
    printf '%s\n' "$url" | as_owner tee "$dir/url" >/dev/null
    printf '%s\n' "$port" | as_owner tee "$dir/port" >/dev/null
    say "ready: $url"
    printf '%s\n' "$url"
}

cmd_stop() {
    local dir=$1 bindir data
    dir=$(abspath "$dir")
    data=$dir/data
    if [ ! -e "$dir" ]; then
        say "$dir does not exist: nothing to stop"
        return 0
    fi
    [ -d "$dir" ] || die "$dir is not a directory"
    # never remove a directory that this script did not set up
    [ -e "$dir/$MARKER" ] || die "$dir was not made by $prog (no $MARKER): not touching it"

    if [ -f "$data/postmaster.pid" ]; then
        bindir=$(find_bindir)
        say "stopping PostgreSQL in $data"
        if ! as_owner "$bindir/pg_ctl" -D "$data" -m fast -w -t 30 stop </dev/null >&2; then
            say "fast stop failed, trying immediate"
            as_owner "$bindir/pg_ctl" -D "$data" -m immediate -w -t 30 stop </dev/null >&2 || true
        fi
    fi
    rm -rf -- "$dir"
    say "removed $dir"
}

# A paused cluster is one the tests took away under a running server
# (tests/api/test_faults.py): its clients must see their connections fail.
cmd_pause() {
    local dir bindir
    dir=$(abspath "$1")
    [ -e "$dir/$MARKER" ] || die "$dir was not made by $prog (no $MARKER): not touching it"
    bindir=$(find_bindir)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop </dev/null >&2
}

cmd_resume() {
    local dir bindir port
    dir=$(abspath "$1")
    [ -e "$dir/$MARKER" ] || die "$dir was not made by $prog (no $MARKER): not touching it"
    bindir=$(find_bindir)
    port=$(cat "$dir/port")
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 -o "-p $port" start </dev/null >&2
}

[ $# -eq 2 ] || { usage; exit 2; }
[ -n "$2" ] || die "DIR must not be empty"
case $1 in
    start) cmd_start "$2" ;;
    stop) cmd_stop "$2" ;;
    pause) cmd_pause "$2" ;;
    resume) cmd_resume "$2" ;;
    *) usage; exit 2 ;;
esac
