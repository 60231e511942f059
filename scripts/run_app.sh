#!/usr/bin/env bash
# Install the app's dependencies into .venv and start the app (opens on the sample data).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_venv.sh
make_venv requirements.txt
# One BLAS thread per process: OpenBLAS spinning threads slow fits down badly on small machines.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
# serve.py runs app.py through st.App so downloads are served uncompressed (ui/server.py).
exec .venv/bin/streamlit run serve.py "$@"
