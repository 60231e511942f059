"""Test-wide settings.

OpenBLAS spins its worker threads; on a 2-core machine shared with another busy
process that makes small matrix products (GMM's per-component work) 100x slower.
One BLAS thread per process is what the app uses too (see ``analytics/_threads.py``).
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

from threadpoolctl import threadpool_limits

threadpool_limits(limits=1, user_api="blas")
