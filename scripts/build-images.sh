#!/usr/bin/env bash
# Build the images nubo's examples and tests use, locally (no registry needed):
#   nubo/debian:bookworm   debootstrap --variant=minbase + docker import (only if missing)
#   nubo/sipp-base:latest, nubo/sipp-server:latest, nubo/sipp-client:latest
#   nubo/cpu-load:latest   the CPU-load example VNF (examples/load)
# Idempotent: an existing base is kept and docker's build cache makes re-runs fast.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE_IMAGE="nubo/debian:bookworm"
MIRROR="${NUBO_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SIPP_DIR="$ROOT/examples/sipp"
LOAD_DIR="$ROOT/examples/load"

say() { printf '==> %s\n' "$*"; }
die() { printf 'build-images: error: %s\n' "$*" >&2; exit 1; }

command -v docker >/dev/null 2>&1 || die "the docker CLI is not installed (Debian package docker.io)"
docker info >/dev/null 2>&1 || die "cannot reach the Docker Engine (is dockerd running and may $(id -un) use it?)"

build_base() {
    command -v debootstrap >/dev/null 2>&1 \
        || die "$BASE_IMAGE is missing and debootstrap is not installed (apt-get install debootstrap)"
    [ "$(id -u)" -eq 0 ] || die "$BASE_IMAGE is missing; debootstrap needs root: run this script as root once"
    local rootfs
    rootfs="$(mktemp -d /tmp/nubo-debootstrap.XXXXXX)"
    # shellcheck disable=SC2064  # expand now: the path is fixed
    trap "rm -rf '$rootfs'" EXIT
    say "debootstrap --variant=minbase bookworm from $MIRROR (takes a few minutes)"
    debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$rootfs.log" 2>&1 \
        || { tail -n 20 "$rootfs.log" >&2; die "debootstrap failed (full log: $rootfs.log)"; }
    rm -f "$rootfs.log"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    say "importing the root filesystem as $BASE_IMAGE"
    tar -C "$rootfs" -c . | docker import \
        --change 'LABEL io.nubo.base=true' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["/bin/bash"]' \
        - "$BASE_IMAGE" >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
}

if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    say "$BASE_IMAGE present"
else
    build_base
fi

for name in sipp-base sipp-server sipp-client; do
    say "building nubo/$name:latest"
    # the legacy builder's deprecation banner is noise here; show output only on failure
    if ! out="$(docker build --label io.nubo.example=sipp -t "nubo/$name:latest" "$SIPP_DIR/$name" 2>&1)"; then
        printf '%s\n' "$out" | tail -n 30 >&2
        die "docker build of nubo/$name failed"
    fi
done

say "building nubo/cpu-load:latest"
if ! out="$(docker build --label io.nubo.example=load -t "nubo/cpu-load:latest" "$LOAD_DIR" 2>&1)"; then
    printf '%s\n' "$out" | tail -n 30 >&2
    die "docker build of nubo/cpu-load failed"
fi

say "images ready: $BASE_IMAGE nubo/sipp-base:latest nubo/sipp-server:latest nubo/sipp-client:latest nubo/cpu-load:latest"
