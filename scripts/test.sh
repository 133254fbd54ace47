#!/usr/bin/env bash
# The test command: set up what is missing, check style, types and layers,
# then run unit, integration (real Docker Engine) and end-to-end tests, the
# whole suite once on SQLite and once on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export NUBO_REQUIRE_DOCKER=1
# the dockerd-restart test restarts the engine this script started
export NUBO_TEST_DOCKERD_RESTART="${NUBO_TEST_DOCKERD_RESTART:-1}"
echo "[test] ruff"; .venv/bin/ruff check nubo tests bench
.venv/bin/ruff format --check nubo tests bench
echo "[test] mypy --strict"; .venv/bin/mypy nubo
echo "[test] import-linter"; .venv/bin/lint-imports

# A PostgreSQL server for the tests only, apart from the one users serve nubo
# with: without fsync (a test database need not survive a power cut), on its own port.
if [ "$(id -u)" -eq 0 ]; then pg_test_data=/var/lib/nubo/postgres-test
else pg_test_data="$HOME/.local/share/nubo/postgres-test"; fi
echo "[test] PostgreSQL"
pg_url="$(NUBO_PG_DATA="${NUBO_TEST_PG_DATA:-$pg_test_data}" NUBO_PG_PORT="${NUBO_TEST_PG_PORT:-5440}" \
  NUBO_PG_FAST=1 bash scripts/postgres.sh)"
# the tests create and drop a database per test; they connect to the maintenance database
pg_admin_url="${pg_url%/*}/postgres"

# Both runs go to the end so that a failure on one backend does not hide the other's.
status=0
echo "[test] pytest on SQLite"
NUBO_TEST_DATABASE=sqlite .venv/bin/pytest -q -p no:cacheprovider "$@" || status=1
echo "[test] pytest on PostgreSQL"
NUBO_TEST_DATABASE=postgresql NUBO_TEST_POSTGRES_URL="$pg_admin_url" \
  .venv/bin/pytest -q -p no:cacheprovider "$@" || status=1
exit "$status"
