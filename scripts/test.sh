#!/usr/bin/env bash
# Install everything the tests need (Debian's chromium included) and run the whole suite,
# the browser test too. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_venv.sh
[ -x /usr/bin/chromium ] || apt_install chromium
make_venv requirements-dev.txt
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
.venv/bin/python -m ruff check .
.venv/bin/python -m ruff format --check .
exec .venv/bin/python -m pytest "$@"
