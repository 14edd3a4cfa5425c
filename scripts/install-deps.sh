#!/usr/bin/env bash
# Install the Debian packages HWC3D needs, only those that are missing.
#
#   scripts/install-deps.sh [GROUP...]
#
# Groups:
#   build    compiler, libraries and tools to build build/hwc3d (the default)
#   runtime  PostgreSQL and Redis servers (installed only: no system service
#            is enabled or started by this script), Blender and bubblewrap
#            (its sandbox)
#   test     what `make test` and `make fuzz` use: pytest and friends,
#            PostgreSQL, Redis, curl, clang with libFuzzer
#   bench    wrk, the HTTP load generator
#   web      Node.js and npm, for the front-end assets (Swagger UI)
#   all      every group above
#
# Idempotent: when everything is there it runs no apt command at all.
# Runs apt-get as root, or through sudo for a normal user.
set -euo pipefail

prog=${0##*/}

die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
say() { printf '%s: %s\n' "$prog" "$*" >&2; }

usage() {
    sed -n '2,18s/^# \{0,1\}//p' "$0" >&2
}

group_packages() {
    case $1 in
        build)
            echo gcc make pkg-config libmicrohttpd-dev libjansson-dev \
                libsqlite3-dev sqlite3 libpq-dev libsodium-dev libjwt-dev \
                libcurl4-openssl-dev libxml2-dev libhiredis-dev libwslay-dev libmagic-dev \
                libvips-dev libassimp-dev zlib1g-dev libcairo2-dev libfontconfig-dev libegl-dev libgles-dev \
                python3 python3-yaml ca-certificates libclamav-dev
            ;;
        runtime)
            # libgl1-mesa-dri: llvmpipe for the renderer; ffmpeg: its videos
            echo postgresql redis-server blender bubblewrap python3-numpy \
                libgl1-mesa-dri libegl1 libgles2 ffmpeg
            ;;
        test)
            # clang, its libFuzzer/sanitizer runtimes and llvm-symbolizer:
            # `make fuzz` (tests/fuzz); chromium: the browser tests (tests/e2e);
            # nginx: the proxy of `make test-cluster` (docs/deployment.md);
            # faketime: an instance with a skewed clock (tests/api/test_cluster.py)
            echo python3-pytest python3-requests python3-websockets \
                python3-aiosmtpd python3-yaml python3-pil postgresql redis-server curl \
                clang libclang-rt-14-dev llvm chromium nginx faketime
            ;;
        bench)
            echo wrk bc python3-pil python3-requests
            ;;
        web)
            # npm last: it is often provided by the nodejs package itself
            # (NodeSource's nodejs "Provides: npm" and conflicts with
            # Debian's npm), see is_satisfied below.
            echo nodejs npm
            ;;
        *)
            return 1
            ;;
    esac
}

# A package counts as present when dpkg says it is installed, or when an
# installed package provides it (a virtual package, e.g. npm from NodeSource's
# nodejs), or, for npm, when an npm command is already on PATH.
is_satisfied() {
    local pkg=$1 status
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] && return 0
    if dpkg-query -W -f='${Status}|${Provides}\n' 2>/dev/null |
        awk -F'|' -v p="$pkg" '
            $1 == "install ok installed" {
                n = split($2, a, /, */)
                for (i = 1; i <= n; i++) { sub(/ .*/, "", a[i]); if (a[i] == p) found = 1 }
            }
            END { exit !found }'; then
        return 0
    fi
    if [ "$pkg" = npm ] && command -v npm >/dev/null 2>&1; then
        return 0
    fi
    return 1
}

command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script supports Debian/Ubuntu only"
command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this script supports Debian/Ubuntu only"

groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(build)

expanded=()
for g in "${groups[@]}"; do
    case $g in
        -h|--help) usage; exit 0 ;;
        all) expanded+=(build runtime test bench web) ;;
        *) expanded+=("$g") ;;
    esac
done

wanted=()
for g in "${expanded[@]}"; do
    pkgs=$(group_packages "$g") || { usage; die "unknown group '$g' (expected: build runtime test bench web all)"; }
    for p in $pkgs; do
        case " ${wanted[*]-} " in *" $p "*) ;; *) wanted+=("$p") ;; esac
    done
done

missing=()
deferred=()
for p in "${wanted[@]}"; do
    if ! is_satisfied "$p"; then
        # npm may come with nodejs: decide about it once nodejs is in.
        if [ "$p" = npm ] && ! is_satisfied nodejs; then
            deferred+=("$p")
        else
            missing+=("$p")
        fi
    fi
done

if [ ${#missing[@]} -eq 0 ] && [ ${#deferred[@]} -eq 0 ]; then
    say "all packages present (${groups[*]})"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    die "missing packages: ${missing[*]} ${deferred[*]}; run this script as root or install sudo"
fi

updated=0
apt_update() {
    [ "$updated" -eq 1 ] && return 0
    say "running apt-get update"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update >&2 ||
        die "apt-get update failed"
    updated=1
}

apt_install() {
    say "installing: $*"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "$@" >&2 ||
        die "apt-get install failed for: $*"
}

# The package servers (postgresql, redis-server) must not be started by their
# maintainer scripts: tests start their own throwaway instances. A
# policy-rc.d that denies everything does that on Debian; it is put in place
# only for the duration of our apt-get run and only if none exists already.
policy=/usr/sbin/policy-rc.d
policy_added=0
cleanup() {
    if [ "$policy_added" -eq 1 ]; then
        "${SUDO[@]}" rm -f "$policy" || true
    fi
}
trap cleanup EXIT

needs_policy=0
for p in "${missing[@]}"; do
    case $p in postgresql|postgresql-*|redis-server) needs_policy=1 ;; esac
done
if [ "$needs_policy" -eq 1 ] && [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# temporary, from hwc3d scripts/install-deps.sh\nexit 101\n' |
        "${SUDO[@]}" tee "$policy" >/dev/null && "${SUDO[@]}" chmod 755 "$policy" && policy_added=1
fi

if [ ${#missing[@]} -gt 0 ]; then
    apt_update
    apt_install "${missing[@]}"
fi

if [ ${#deferred[@]} -gt 0 ]; then
    still=()
    for p in "${deferred[@]}"; do
        is_satisfied "$p" || still+=("$p")
    done
    if [ ${#still[@]} -gt 0 ]; then
        apt_update
        apt_install "${still[@]}"
    fi
fi

# Check that everything asked for is there now.
absent=()
for p in "${wanted[@]}"; do
    is_satisfied "$p" || absent+=("$p")
done
[ ${#absent[@]} -eq 0 ] || die "still missing after install: ${absent[*]}"
say "done (${groups[*]})"
