#!/usr/bin/env bash
# Install and start what nubo needs on a Debian machine; idempotent and quick
# when everything is already there. Run as root (or with sudo available).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*"; }
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# 1. Debian packages
need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_pkgs+=(debootstrap)
command -v ip >/dev/null 2>&1 || need_pkgs+=(iproute2)
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl ca-certificates)
command -v python3 >/dev/null 2>&1 || need_pkgs+=(python3)
# the TLS tests make their certificates with openssl
command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
# bench/instantiate.py compares with `docker-compose up -d` (Debian's 1.29)
command -v docker-compose >/dev/null 2>&1 || need_pkgs+=(docker-compose)
python3 -m venv --help >/dev/null 2>&1 && python3 -c 'import ensurepip' >/dev/null 2>&1 \
  || need_pkgs+=(python3-venv)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  log "installing Debian packages: ${need_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${need_pkgs[@]}" >/dev/null
fi

# 2. Docker Engine
if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
    $SUDO systemctl start docker || true
  fi
  if ! docker info >/dev/null 2>&1; then
    $SUDO sh -c 'nohup dockerd >/var/log/nubo-dockerd.log 2>&1 &'
  fi
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  docker info >/dev/null 2>&1 || { log "dockerd did not start; see /var/log/nubo-dockerd.log"; exit 1; }
fi
log "Docker Engine $(docker version --format '{{.Server.Version}}') is running"

# 3. Python environment
stamp=".venv/.nubo-installed"
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  python3 -m venv .venv
fi
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing Python dependencies"
  # pip warns about every missing local index directory; keep real errors visible
  quiet_pip() { .venv/bin/pip "$@" 2>&1 | { grep -v '^WARNING: Location' || true; }; }
  quiet_pip install -q --upgrade pip
  quiet_pip install -q -e '.[dev]'
  .venv/bin/python -c 'import nubo, fastapi, docker, sqlalchemy, alembic' \
    || { log "Python dependencies are missing after pip install"; exit 1; }
  echo "$want" > "$stamp"
fi

# 4. Images (base image via debootstrap, example images FROM it)
bash scripts/build-images.sh
log "ready"
