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
# Give freed memory back to the system: a fixed threshold keeps glibc from raising it after
# the first large free (then tables freed by ended sessions stayed in the heap); measured by
# bench/load_memory.py: peak 1.9 -> 1.5 GB over 20 sessions of 20 MB uploads.
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-1048576}" MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-4194304}"
# serve.py runs app.py through st.App so downloads are served uncompressed (ui/server.py).
exec .venv/bin/streamlit run serve.py "$@"
