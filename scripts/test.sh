#!/usr/bin/env bash
# The test command: set up what is missing, check style, types and layers,
# then run unit, integration (real Docker Engine) and end-to-end tests.
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
echo "[test] pytest"
.venv/bin/pytest -q -p no:cacheprovider "$@"
