"""What a fit, sweep, anomaly, synthetic or image job will cost, before it starts.

One pure estimate of time and memory from the job's shape, and a check that turns a
job above the limits into a message in plain words with concrete changes that would
make it fit. Nothing here imports Streamlit; the app (``ui/cost.py``) calls
:func:`check` before it starts work, the tests call it directly.

Where the numbers come from (float64 everywhere, 8 bytes a number; n rows, d prepared
features, k components):

* Work per start and component: every EM/Lloyd iteration touches each row, feature and
  component once (``n * d``); a full covariance also multiplies each row by a d x d
  factor per component in the E-step and in the M-step (``2 * n * d**2 / 16`` in the
  unit below; tied does it once per row for all components), and a full covariance factorises one d x d matrix per component and iteration
  (``d**3 / 160`` over a typical fit; a 200 x 2,000 full mixture with k = 4
  and 4 starts is estimated at 240 s and took 135 s). One unit is about 1e-7 s on this project's 2-core
  machine (a Gaussian-mixture sweep of k = 2..10 over the four covariance types on
  20,000 rows x 10 columns, about 60 million units, takes about 2 s).
* Memory: the prepared table and two working copies (``3 * n * d``), four (n, k)
  arrays (responsibilities, log-densities), and for a full covariance five (k, d, d)
  arrays (scikit-learn keeps covariances, precisions, their factors and the best
  start's copy); tied keeps five (d, d). The reported case, 200 rows x 2,000 columns
  with k = 50 and full covariances, needs 5 * 50 * 2,000**2 * 8 bytes = 8 GB, which is
  what the server reached.

The estimate is rough (within a factor of a few); the limits leave room for that.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from analytics.errors import InputError

#: Seconds per unit of work (row x feature x component x start), measured, rounded up.
SECONDS_PER_UNIT = 1e-7
#: Longest job started from a page, in seconds (a sweep can be stopped between ks).
MAX_SECONDS = 15 * 60
#: Memory one session's job may use, in bytes.
MAX_BYTES = 2 * 1024**3
#: Bytes per number (float64).
BYTES = 8
#: Above this many rows a mixture's starts run on a random sample of this size and only
#: the best start is refined on every row (``analytics.model.fit``'s ``subsample``).
GMM_SUBSAMPLE = 20_000

KINDS = ("fit", "sweep", "anomaly", "synthetic", "image")
METHODS = ("kmeans", "fcm", "gmm")
COVARIANCES = ("full", "tied", "diag", "spherical")
#: Simpler covariance types to suggest, cheapest last.
_SIMPLER = {"full": ("tied", "diag", "spherical"), "tied": ("diag", "spherical")}


class JobTooBigError(InputError):
    """A job whose estimated time or memory is above the limits (raised by :func:`require`)."""


@dataclass(frozen=True)
class Job:
    """The shape of one piece of work.

    Attributes
    ----------
    kind : "fit", "sweep", "anomaly", "synthetic" or "image"
    rows, features : shape (n_rows, n_features) of the prepared matrix fitted
        (for an image: pixels fitted and features per pixel)
    ks : every number of components fitted (one for a fit, the range for a sweep)
    method : "kmeans", "fcm" or "gmm"
    covariance_types : every covariance type fitted per k (Gaussian mixtures)
    starts : independent starts per k and covariance type
    score_rows : rows assigned once after the fit (an image fitted on a sample of
        pixels then colours every pixel); 0 when the fit's own rows are the output
    """

    kind: str
    rows: int
    features: int
    ks: tuple[int, ...]
    method: str = "gmm"
    covariance_types: tuple[str, ...] = ("full",)
    starts: int = 1
    score_rows: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        bad = [c for c in self.covariance_types if c not in COVARIANCES]
        if bad:
            raise ValueError(f"covariance types must be among {COVARIANCES}, got {bad}")

    @staticmethod
    def of(
        kind: str,
        rows: int,
        features: int,
        ks: int | Iterable[int],
        method: str = "gmm",
        covariance_types: str | Iterable[str] = ("full",),
        starts: int = 1,
        score_rows: int = 0,
    ) -> Job:
        """A Job from loose arguments: one k or several, one covariance type or several."""
        ks_t = (int(ks),) if isinstance(ks, int) else tuple(int(k) for k in ks)
        cov_t = (
            (covariance_types,)
            if isinstance(covariance_types, str)
            else tuple(covariance_types) or ("full",)
        )
        return Job(
            kind, int(rows), int(features), ks_t, method, cov_t, int(starts), int(score_rows)
        )

    @property
    def covariances(self) -> tuple[str, ...]:
        """The covariance types that matter: every one for a mixture, none otherwise."""
        return self.covariance_types if self.method == "gmm" else ("diag",)


@dataclass(frozen=True)
class Cost:
    """Estimated cost of a job: ``units`` of work, ``seconds`` and peak ``bytes``."""

    units: float
    seconds: float
    bytes: float


def _row_work(n: int, d: int, k: int, cov: str, method: str) -> float:
    """Units of one start with k components: rows x features x components, more for matrices."""
    work = float(n) * d * k
    if method == "gmm" and cov == "full":
        # E-step and M-step each multiply every row by a d x d matrix per component.
        work += float(n) * k * d * d / 16 * 2 + k * float(d) ** 3 / 160
    elif method == "gmm" and cov == "tied":
        # One shared d x d matrix: one product per row in each step, whatever k.
        work += float(n) * d * d / 16 * 2 + float(d) ** 3 / 160
    return work


def _param_bytes(d: int, k: int, cov: str, method: str) -> float:
    """Bytes of one fitted model's parameters (kept by a sweep for every k)."""
    if method != "gmm":
        return float(k) * d * BYTES
    per = {"full": k * float(d) * d, "tied": float(d) * d, "diag": float(k) * d, "spherical": k}
    return (float(k) * d + per[cov]) * BYTES


def _temp_bytes(n: int, d: int, k: int, cov: str, method: str) -> float:
    """Peak bytes while fitting one model with k components (beyond the data itself)."""
    temp = 4.0 * n * k * BYTES
    if method == "gmm":
        temp += 4 * _param_bytes(d, k, cov, method)
    return temp


def estimate(job: Job) -> Cost:
    """Estimated work, seconds and peak memory of ``job``.

    Parameters
    ----------
    job : the job's shape

    Returns
    -------
    Cost : ``units`` (rows x features x components x starts, plus matrix work),
    ``seconds`` (units x :data:`SECONDS_PER_UNIT`) and ``bytes`` (peak memory: the data
    and its working copies, the largest single fit's temporaries, and for a sweep the
    parameters of every model it keeps)
    """
    n, d = max(job.rows, 1), max(job.features, 1)
    ks = job.ks or (1,)
    units = 0.0
    peak_temp = 0.0
    kept = 0.0
    for cov in job.covariances:
        for k in ks:
            k = max(int(k), 1)
            if job.method == "gmm" and n > GMM_SUBSAMPLE:
                # Starts on the sample, then one refinement on every row.
                units += max(job.starts, 1) * _row_work(GMM_SUBSAMPLE, d, k, cov, job.method)
                units += _row_work(n, d, k, cov, job.method)
            else:
                units += max(job.starts, 1) * _row_work(n, d, k, cov, job.method)
            peak_temp = max(peak_temp, _temp_bytes(n, d, k, cov, job.method))
            kept += _param_bytes(d, k, cov, job.method)
    if job.score_rows:
        # One pass over every scored row: its features, one density per component.
        kmax = max(max(int(k) for k in ks), 1)
        units += float(job.score_rows) * d * kmax * (1 + (d / 8 if job.method == "gmm" else 0))
        peak_temp += (float(job.score_rows) * (d + 2 * kmax)) * BYTES
    data = 3.0 * n * d * BYTES
    return Cost(units=units, seconds=units * SECONDS_PER_UNIT, bytes=data + peak_temp + kept)


def size_in_words(nbytes: float) -> str:
    """Bytes as an analyst would read them: "350 MB", "8.0 GB"."""
    if nbytes < 1024**3:
        return f"{max(nbytes / 1024**2, 1):,.0f} MB"
    return f"{nbytes / 1024**3:,.1f} GB"


def time_in_words(seconds: float) -> str:
    """Seconds as an analyst would say them: "under a second", "about 3 minutes"."""
    if seconds < 1:
        return "under a second"
    if seconds < 1.5:
        return "about a second"
    if seconds < 10:
        return f"about {round(seconds)} seconds"
    if seconds < 90:
        return f"about {round(seconds / 5) * 5} seconds"
    minutes = seconds / 60
    if minutes < 90:
        return f"about {round(minutes)} minutes"
    hours = minutes / 60
    if hours < 48:
        return f"about {hours:.1f} hours"
    return f"about {hours / 24:,.0f} days"


def fits(job: Job, max_seconds: float = MAX_SECONDS, max_bytes: float = MAX_BYTES) -> bool:
    """Whether ``job`` is within both limits."""
    c = estimate(job)
    return c.seconds <= max_seconds and c.bytes <= max_bytes


def _largest(lo: int, hi: int, ok) -> int | None:
    """Largest integer v in [lo, hi] with ok(v), assuming ok is monotone (True then False)."""
    if hi < lo or not ok(lo):
        return None
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _what(job: Job) -> str:
    ks = job.ks or (1,)
    k_text = f"k = {ks[0]}" if len(ks) == 1 else f"k = {min(ks)} to {max(ks)}"
    parts = [f"{job.rows:,} rows × {job.features:,} features", k_text]
    if job.method == "gmm":
        covs = job.covariance_types
        parts.append(
            f"{covs[0]} covariance"
            if len(covs) == 1
            else f"{len(covs)} covariance types ({', '.join(covs)})"
        )
    if job.starts > 1:
        parts.append(f"{job.starts} starts")
    return ", ".join(parts)


def suggestions(
    job: Job, max_seconds: float = MAX_SECONDS, max_bytes: float = MAX_BYTES
) -> list[str]:
    """Changes that would bring ``job`` within the limits, each in plain words.

    Tries, in order: a simpler covariance type (or, for a sweep over several, leaving
    out the dearest), fewer starts, fewer components, fewer
    columns, a sample of the rows. Only changes that are enough on their own are given.
    """

    def ok(j: Job) -> bool:
        return fits(j, max_seconds, max_bytes)

    out: list[str] = []
    if job.method == "gmm" and len(job.covariance_types) == 1:
        for cov in _SIMPLER.get(job.covariance_types[0], ()):
            alt = replace(job, covariance_types=(cov,))
            if ok(alt):
                c = estimate(alt)
                out.append(
                    f"choose the {cov} covariance type "
                    f"({time_in_words(c.seconds)}, {size_in_words(c.bytes)})"
                )
                break
    elif job.method == "gmm":
        # A sweep over several types: leave out the dearest ones first.
        dropped: list[str] = []
        for cov in ("full", "tied", "diag"):
            if cov not in job.covariance_types:
                continue
            dropped.append(cov)
            left = tuple(c for c in job.covariance_types if c not in dropped)
            if not left:
                break
            alt = replace(job, covariance_types=left)
            if ok(alt):
                c = estimate(alt)
                out.append(
                    f"untick the {' and '.join(dropped)} covariance type"
                    + ("s" * (len(dropped) > 1))
                    + f" ({time_in_words(c.seconds)}, {size_in_words(c.bytes)})"
                )
                break
    if job.starts > 1 and ok(replace(job, starts=1)):
        out.append("use one start")
    ks = job.ks or (1,)

    def ok_k(kmax: int) -> bool:
        return ok(replace(job, ks=tuple(k for k in ks if k <= kmax) or (kmax,)))

    top = _largest(1, max(ks), ok_k)
    if top is not None and top < max(ks) and top >= 2:
        out.append(f"ask for at most {top} segments")
    cols = _largest(1, job.features - 1, lambda f: ok(replace(job, features=f)))
    if cols is not None:
        out.append(f"use at most {cols:,} columns (choose them on the Data page)")
    rows = _largest(max(10 * max(ks), 2), job.rows - 1, lambda r: ok(replace(job, rows=r)))
    if rows is not None:
        out.append(f"fit a random sample of at most {rows:,} rows")
    return out


def problem(job: Job, max_seconds: float = MAX_SECONDS, max_bytes: float = MAX_BYTES) -> str | None:
    """None when ``job`` is within the limits, else why not and what to change, in words.

    Parameters
    ----------
    job : the job's shape
    max_seconds, max_bytes : the limits (default: 15 minutes and 2 GB per session)

    Returns
    -------
    str or None : e.g. "This would need about 8.0 GB of memory (a session may use 2.0 GB)
    and take about 6.2 hours (at most about 15 minutes): 200 rows × 2,000 features, k = 50,
    full covariance. It was not started. To make it fit: choose the diag covariance type
    (...); or use at most 447 columns (...)."
    """
    c = estimate(job)
    too_slow = c.seconds > max_seconds
    too_big = c.bytes > max_bytes
    if not (too_slow or too_big):
        return None
    why = []
    if too_big:
        why.append(
            f"need about {size_in_words(c.bytes)} of memory "
            f"(a session may use {size_in_words(max_bytes)})"
        )
    if too_slow:
        why.append(
            f"take {time_in_words(c.seconds)} (at most {time_in_words(max_seconds)} is allowed)"
        )
    noun = {
        "fit": "This fit",
        "sweep": "This sweep",
        "anomaly": "Scoring",
        "synthetic": "Fitting the generator",
        "image": "This image segmentation",
    }[job.kind]
    text = f"{noun} would {' and '.join(why)}: {_what(job)}. It was not started."
    tips = suggestions(job, max_seconds, max_bytes)
    if tips:
        text += " To make it fit: " + "; or ".join(tips) + "."
    else:
        text += " Use fewer columns, fewer segments or a sample of the rows."
    return text


def require(job: Job, max_seconds: float = MAX_SECONDS, max_bytes: float = MAX_BYTES) -> None:
    """Raise :class:`JobTooBigError` with :func:`problem`'s message when ``job`` is too big."""
    text = problem(job, max_seconds, max_bytes)
    if text is not None:
        raise JobTooBigError(text, code="job_too_big")
