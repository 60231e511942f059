#!/usr/bin/env bash
# Install the app's dependencies into .venv and start the app (opens on the sample data).
# It listens on 127.0.0.1 only (.streamlit/config.toml). To serve a team behind a TLS
# reverse proxy: bash scripts/run_app.sh --server.address 0.0.0.0  (README, "Deployment").
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_venv.sh
make_venv requirements.txt
# One BLAS thread per process: OpenBLAS spinning threads slow fits down badly on small machines.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
# serve.py runs app.py through st.App so downloads are served uncompressed (ui/server.py).
exec .venv/bin/streamlit run serve.py "$@"
