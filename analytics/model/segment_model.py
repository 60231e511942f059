"""Portable segmentation models: one JSON document, no pickle.

A model file holds everything needed to give next month's customers the same
segments without refitting: the preparation (columns, roles, imputation values,
log transforms, scaling, one-hot encodings) and the fitted parameters, with the
components already in segment order (segment 1 = the largest training segment).
JSON floats are written with Python's round-trip ``repr``, so a reloaded model
scores with bit-identical parameters. Opening a file only parses JSON: nothing in
it is ever executed.

Layout (format ``segmentation-workbench/model``, version 1)::

    {
      "format": "segmentation-workbench/model", "version": 1,
      "method": "kmeans" | "fcm" | "gmm", "k": 4,
      "preparation": {columns, options, numeric, categorical, feature_names, fill,
                      imputed, log_columns, center, scale, categories, warnings},
      "model": kmeans: {"centers": (k, p)}
               fcm:    {"centers": (k, p), "m": 2.0, "dtype": "float64"}
               gmm:    {"covariance_type": "full", "weights": (k,), "means": (k, p),
                        "covariances": full (k, p, p) | tied (p, p) | diag (k, p) | spherical (k,)},
      "summary": the training summary (sizes, n_rows, criteria, settings),
      "warnings": [...],
      "segment_names": {"1": "Big spenders", ...}   (optional; segments not named are
                                                     called "Segment j")
    }

Added columns (``predict``, ``Segmentation.table``), named for what they are:
``segment`` (1..k), ``segment_name``, then the method's soft output:

- Gaussian mixture: ``segment_probability`` (of the assigned segment) and
  ``prob_segment_1..k`` (posterior probabilities, rows sum to 1);
- fuzzy c-means: ``segment_membership`` and ``membership_segment_1..k``
  (memberships sum to 1 but are not calibrated probabilities);
- k-means: ``distance_segment_1..k``, the Euclidean distance to each segment's
  centre in prepared units (standard deviations of the scaled, possibly logged,
  features); k-means has no probabilities.

:class:`SegmentModel` rescoring is a numpy reimplementation of the estimators'
scoring (the same formulas as scikit-learn and :mod:`analytics.model.fcm`), so that
``load_model(path).predict(df)`` equals ``Segmentation.predict(df)``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from analytics.constants import COVARIANCE_TYPES, MAX_K, METHOD_NAMES, METHODS
from analytics.errors import InputError
from analytics.io.strict_json import parse_strict_json
from analytics.model.distances import BLOCK_ROWS, memberships, nearest_centre, sq_distances
from analytics.model.gaussian import precision_cholesky, variances, weighted_log_prob
from analytics.preparation import Preparer

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_MODEL_BYTES",
    "SegmentModel",
    "labelled_frame",
    "output_names",
    "align_categories",
    "as_model",
    "load_model",
    "model_bytes",
    "save_model",
    "shares_comparison",
]

FORMAT = "segmentation-workbench/model"
FORMAT_VERSION = 1
#: Largest model file opened, in bytes (64 MiB). The largest model the workbench fits
#: with full covariances (50 segments x 200 features) is about 41 MB; files of the
#: other covariance types and methods are far smaller.
MAX_MODEL_BYTES = 64 * 1024 * 1024
#: Longest whole number a model file may hold (int64 has 19 digits): Python refuses
#: to parse integers of over 4,300 digits and float() overflows far below that.
_MAX_INT_DIGITS = 20
_INT64_MAX = 2**63 - 1

_PREP_REQUIRED = (
    "columns",
    "options",
    "numeric",
    "categorical",
    "feature_names",
    "fill",
    "log_columns",
    "center",
    "scale",
    "categories",
)
_PREP_FIELDS = {f.name for f in fields(Preparer)}


class SegmentModel:
    """A fitted segmentation, reloaded from a model file: scores new rows.

    Attributes
    ----------
    method : "kmeans", "fcm" or "gmm"
    k : number of segments
    preparer : the :class:`~analytics.preparation.Preparer` that maps rows to features
    params : model parameters as arrays, components in segment order (see module docstring)
    summary : the training summary (``sizes``, ``n_rows``, criteria, settings)
    warnings : the sentences reported when the model was fitted
    """

    def __init__(
        self,
        method: str,
        k: int,
        preparer: Preparer,
        params: dict[str, Any],
        summary: dict[str, Any],
        warnings: Sequence[str] = (),
        names: dict[int, str] | None = None,
    ) -> None:
        self.method = method
        self.k = int(k)
        self.preparer = preparer
        self.params = params
        self.summary = summary
        self.warnings = list(warnings)
        self.names = check_names(names or {}, self.k)
        if method == "gmm":
            # Cholesky factors of the precisions, as scikit-learn computes them from the
            # covariances after its last M-step, so log-densities come out the same.
            self._prec_chol = precision_cholesky(params["covariances"], params["covariance_type"])

    # -- construction --------------------------------------------------------------------
    @classmethod
    def from_estimator(
        cls,
        method: str,
        estimator: Any,
        order: np.ndarray,
        preparer: Preparer | None,
        summary: dict[str, Any],
        warnings: Sequence[str] = (),
    ) -> SegmentModel:
        """The model of a fitted estimator (KMeans, FuzzyCMeans or GaussianMixture),
        components reordered so that component j is segment j + 1 (``order[j]``)."""
        order = np.asarray(order)
        k = len(order)
        if method == "kmeans":
            params: dict[str, Any] = {"centers": np.asarray(estimator.cluster_centers_)[order]}
        elif method == "fcm":
            centers = np.asarray(estimator.cluster_centers_)[order]
            params = {"centers": centers, "m": float(estimator.m), "dtype": str(centers.dtype)}
        else:
            cov_type = estimator.covariance_type
            cov = np.asarray(estimator.covariances_)
            params = {
                "covariance_type": cov_type,
                "weights": np.asarray(estimator.weights_)[order],
                "means": np.asarray(estimator.means_)[order],
                "covariances": cov if cov_type == "tied" else cov[order],
            }
        prep = None if preparer is None else Preparer.from_dict(preparer.to_dict())  # owned copy
        return cls(method, k, prep, params, json_safe(summary), list(warnings))

    @classmethod
    def from_segmentation(cls, seg: Any) -> SegmentModel:
        """The portable model of a fitted :class:`~analytics.model.fit.Segmentation`."""
        model = getattr(seg, "model", None)
        if not isinstance(model, SegmentModel):
            raise InputError("Expected a fitted segmentation.", code="not_a_segmentation")
        return model

    @classmethod
    def from_dict(cls, doc: Any) -> SegmentModel:
        """Build a model from a parsed model document; raises InputError if it is not one."""
        return _parse_document(doc)

    # -- description ---------------------------------------------------------------------
    @property
    def columns(self) -> list[str]:
        """The input columns the model needs."""
        return self.preparer.numeric + self.preparer.categorical

    @property
    def feature_names(self) -> list[str]:
        """Names of the prepared features."""
        return self.preparer.feature_names

    @property
    def sizes(self) -> np.ndarray:
        """Training rows per segment, shape (k,), segment 1 first."""
        return np.asarray(self.summary["sizes"], dtype="int64")

    @property
    def training_shares(self) -> np.ndarray:
        """Share of the training rows in each segment, shape (k,), sums to 1."""
        sizes = self.sizes.astype("float64")
        return sizes / max(sizes.sum(), 1.0)

    @property
    def segment_names(self) -> dict[int, str]:
        """Name of every segment 1..k: the given name, else "Segment j"."""
        return {j: self.names.get(j, f"Segment {j}") for j in range(1, self.k + 1)}

    def __repr__(self) -> str:
        return f"SegmentModel({METHOD_NAMES[self.method]}, k={self.k}, columns={self.columns!r})"

    # -- scoring -------------------------------------------------------------------------
    def output_names(self, existing: Sequence[Any] = ()) -> dict[str, Any]:
        """Names of the added columns, as :meth:`Segmentation.output_names` gives them."""
        return output_names(existing, self.k, self.method)

    def transform(self, new_df: pd.DataFrame) -> np.ndarray:
        """Prepared features of new rows, shape (n_new, n_features)."""
        return self.preparer.transform(_as_frame(new_df).rename(columns=str))

    def predict_proba(self, new_df: pd.DataFrame) -> np.ndarray:
        """Segment probabilities of new rows, shape (n_new, k), columns in segment order."""
        return self.proba_of(self.transform(new_df))

    def predict(self, new_df: pd.DataFrame) -> pd.DataFrame:
        """``new_df`` plus ``segment``, ``segment_name`` and the method's soft output
        (see the module docstring)."""
        new_df = _as_frame(new_df)
        X = self.transform(new_df)
        soft = self.soft_of(X)
        labels = soft.argmin(axis=1) + 1 if self.method == "kmeans" else soft.argmax(axis=1) + 1
        return labelled_frame(new_df, labels, soft, method=self.method, names=self.names)

    def log_density(self, new_df: pd.DataFrame) -> np.ndarray:
        """Log-density of new rows under the mixture (GMM only), shape (n_new,)."""
        self._need_mixture()
        return self.log_density_of(self.transform(new_df))

    # -- scoring prepared features (the one scorer: fits, files, CLI, Dask, images,
    # anomalies and synthetic data all come here) ------------------------------------
    def labels_of(self, X: np.ndarray) -> np.ndarray:
        """Segment (1..k) of prepared rows ``X`` (n, p), shape (n,)."""
        return self.component_of(X) + 1

    def component_of(self, X: np.ndarray) -> np.ndarray:
        """0-based component (segment - 1) of prepared rows ``X`` (n, p), shape (n,)."""
        if self.method == "gmm":
            top = np.empty(X.shape[0], dtype=np.intp)
            for start in range(0, X.shape[0], BLOCK_ROWS):
                block = X[start : start + BLOCK_ROWS]
                top[start : start + len(block)] = self.weighted_log_prob(block).argmax(axis=1)
            return top
        return nearest_centre(X, self.params["centers"])

    def proba_of(self, X: np.ndarray) -> np.ndarray:
        """Soft output of prepared rows ``X`` (n, p), shape (n, k), rows sum to 1:
        GMM posteriors, FCM memberships, k-means one-hot of the nearest centre."""
        if self.method == "kmeans":
            return np.eye(self.k)[self.labels_of(X) - 1]
        if self.method == "fcm":
            c = self.params["centers"]
            Xc = np.ascontiguousarray(X, dtype=c.dtype) if X.dtype != np.float32 else X
            c = c.astype(Xc.dtype)
            c_sq = np.einsum("ij,ij->i", c, c)
            out = np.empty((X.shape[0], self.k), dtype=Xc.dtype)
            for start in range(0, X.shape[0], BLOCK_ROWS):
                sl = slice(start, min(start + BLOCK_ROWS, X.shape[0]))
                out[sl] = memberships(sq_distances(Xc[sl], c, c_sq), self.params["m"])
            return out if X.dtype == np.float32 else out.astype("float64", copy=False)
        weighted = self.weighted_log_prob(X)
        weighted -= weighted.max(axis=1, keepdims=True)
        with np.errstate(under="ignore"):
            np.exp(weighted, out=weighted)
        weighted /= weighted.sum(axis=1, keepdims=True)
        return weighted

    def distances_of(self, X: np.ndarray) -> np.ndarray:
        """Euclidean distance of prepared rows ``X`` (n, p) to every centre, shape (n, k),
        in prepared units (k-means and fuzzy c-means)."""
        if self.method == "gmm":
            raise InputError("Distances to centres exist for k-means and fuzzy c-means.",
                             code="not_centroid")  # fmt: skip
        c = self.params["centers"].astype("float64", copy=False)
        c_sq = np.einsum("ij,ij->i", c, c)
        out = np.empty((X.shape[0], self.k), dtype="float64")
        for start in range(0, X.shape[0], BLOCK_ROWS):
            sl = slice(start, min(start + BLOCK_ROWS, X.shape[0]))
            out[sl] = sq_distances(np.asarray(X[sl], dtype="float64"), c, c_sq)
        np.maximum(out, 0.0, out=out)  # the expanded form can dip below 0 by rounding
        return np.sqrt(out, out=out)

    def soft_of(self, X: np.ndarray) -> np.ndarray:
        """The method's soft output for prepared rows ``X`` (n, p), shape (n, k): GMM
        posterior probabilities, FCM memberships, k-means distances to each centre."""
        if self.method == "kmeans":
            return self.distances_of(X)
        return self.proba_of(X)

    def weighted_log_prob(self, X: np.ndarray) -> np.ndarray:
        """log w_j + log N(x | mu_j, Sigma_j), shape (n, k), segment order (GMM only)."""
        self._need_mixture()
        p = self.params
        return weighted_log_prob(X, p["weights"], p["means"], self._prec_chol, p["covariance_type"])

    def log_density_of(self, X: np.ndarray) -> np.ndarray:
        """Log-density of prepared rows under the mixture, shape (n,) (GMM only)."""
        return logsumexp(self.weighted_log_prob(X), axis=1)

    def component_sd(self) -> np.ndarray:
        """Standard deviation of every prepared feature in every segment, shape (k, p)."""
        self._need_mixture()
        p = self.params
        var = variances(p["covariances"], p["covariance_type"], self.k, p["means"].shape[1])
        return np.sqrt(np.maximum(var, 1e-300))

    def _need_mixture(self) -> None:
        if self.method != "gmm":
            raise InputError("Densities exist only for Gaussian mixtures.", code="not_a_mixture")

    # -- writing ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The model document (plain JSON types)."""
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "method": self.method,
            "k": self.k,
            "preparation": json_safe(self.preparer.to_dict()),
            "model": {
                key: (val.tolist() if isinstance(val, np.ndarray) else val)
                for key, val in self.params.items()
            },
            "summary": json_safe(self.summary),
            "warnings": list(self.warnings),
            "segment_names": {str(j): name for j, name in sorted(self.names.items())},
        }

    def to_bytes(self) -> bytes:
        """The model file's bytes (UTF-8 JSON)."""
        return (json.dumps(self.to_dict(), allow_nan=False, ensure_ascii=False) + "\n").encode()

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model file to ``path``."""
        Path(path).write_bytes(self.to_bytes())


#: Per method: (name of the top value's column, prefix of the per-segment columns).
SOFT_COLUMNS = {
    "gmm": ("segment_probability", "prob_segment_"),
    "fcm": ("segment_membership", "membership_segment_"),
    "kmeans": (None, "distance_segment_"),
}
#: Longest segment name a model file or ``Segmentation.names`` may hold.
MAX_NAME_LENGTH = 200


def output_names(existing: Sequence[Any], k: int, method: str = "gmm") -> dict[str, Any]:
    """Names of the columns added to a labelled table, each suffixed ``_model`` while the
    input already uses it.

    Returns
    -------
    dict with ``segment``, ``segment_name``, ``top`` (``segment_probability`` /
    ``segment_membership``; None for k-means) and ``soft`` (the k per-segment columns:
    ``prob_segment_j`` / ``membership_segment_j`` / ``distance_segment_j``)
    """
    taken = {str(c) for c in existing}

    def free(name: str) -> str:
        while name in taken:
            name += "_model"
        return name

    top, prefix = SOFT_COLUMNS[method]
    return {
        "segment": free("segment"),
        "segment_name": free("segment_name"),
        "top": None if top is None else free(top),
        "soft": [free(f"{prefix}{j}") for j in range(1, k + 1)],
    }


def check_names(names: Any, k: int) -> dict[int, str]:
    """Validated segment names: a mapping of segment number (1..k) to non-empty text.

    Raises
    ------
    InputError (code ``bad_segment_names``) naming the first bad entry
    """
    if not isinstance(names, dict):
        raise InputError("Segment names must be a mapping of segment number to name.",
                         code="bad_segment_names")  # fmt: skip
    out: dict[int, str] = {}
    for key, name in names.items():
        try:
            j = int(key)
        except (TypeError, ValueError):
            j = 0
        if isinstance(key, bool) or str(key).strip() != str(j) or not 1 <= j <= k:
            raise InputError(f"Segment names must be for segments 1..{k}, got {_show(key)}.",
                             code="bad_segment_names")  # fmt: skip
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
            raise InputError(
                f"The name of segment {j} must be text of 1..{MAX_NAME_LENGTH} characters, "
                f"got {_show(name)}.",
                code="bad_segment_names",
            )
        out[j] = name.strip()
    return out


def labelled_frame(
    df: pd.DataFrame,
    labels: np.ndarray,
    soft: np.ndarray,
    decimals: int | None = None,
    method: str = "gmm",
    names: dict[int, str] | None = None,
) -> pd.DataFrame:
    """``df`` unchanged plus ``segment``, ``segment_name`` and the soft output.

    Parameters
    ----------
    df : DataFrame of shape (n, c)
    labels : ndarray of shape (n,), values 1..k
    soft : ndarray of shape (n, k): probabilities (gmm), memberships (fcm) or distances
        to the centres in prepared units (kmeans)
    decimals : round the added soft values (downloads), or None
    method : "gmm", "fcm" or "kmeans": decides the added columns' names
    names : segment number -> name; segments without one are called "Segment j"

    Returns
    -------
    DataFrame of shape (n, c + 2 + k) for k-means, (n, c + 3 + k) otherwise
    """
    k = soft.shape[1]
    cols = output_names(df.columns, k, method)
    if decimals is not None:
        soft = np.round(soft, decimals)
    labels = np.asarray(labels)
    given = names or {}
    lookup = np.array([given.get(j, f"Segment {j}") for j in range(1, k + 1)], dtype=object)
    added: dict[str, Any] = {
        cols["segment"]: labels,
        cols["segment_name"]: pd.Series(lookup[labels - 1], dtype="string", index=df.index)
        if len(labels)
        else pd.Series([], dtype="string", index=df.index),
    }
    if cols["top"] is not None:
        added[cols["top"]] = soft.max(axis=1) if len(labels) else np.zeros(0)
    for j, name in enumerate(cols["soft"]):
        added[name] = soft[:, j]
    # No copy of df first: with pandas copy-on-write the result never writes through to
    # the caller's frame, and copying a million-row table costs half a second.
    return pd.concat([df, pd.DataFrame(added, index=df.index)], axis=1)


# --------------------------------------------------------------------------- public helpers


def as_model(model: Any) -> SegmentModel:
    """A :class:`SegmentModel` from a model, a fitted Segmentation or a model file path."""
    if isinstance(model, SegmentModel):
        return model
    if isinstance(getattr(model, "model", None), SegmentModel):  # a fitted Segmentation
        return model.model
    if isinstance(model, str | os.PathLike):
        return load_model(model)
    raise InputError(
        "Expected a segmentation model (from segment() or load_model()) or a model file path.",
        code="not_a_model",
    )


def model_bytes(seg: Any) -> bytes:
    """The model file of a fitted segmentation, as bytes (what the download button serves)."""
    return as_model(seg).to_bytes()


def save_model(seg: Any, path: str | os.PathLike[str]) -> None:
    """Write the model file of ``seg`` to ``path`` (what ``Segmentation.save`` calls)."""
    as_model(seg).save(path)


def load_model(source: str | os.PathLike[str] | bytes | IO[bytes]) -> SegmentModel:
    """Open a model file written by :meth:`Segmentation.save`.

    Parameters
    ----------
    source : path, bytes, or a binary file object (e.g. a Streamlit upload)

    Returns
    -------
    SegmentModel whose ``predict(df)`` gives the columns and values ``Segmentation.predict`` gives

    Raises
    ------
    InputError
        The file is missing, a folder, larger than :data:`MAX_MODEL_BYTES`, is not
        JSON, is another format or version, or its contents are malformed (missing
        entries, wrong shapes, NaN, infinite or overlong numbers).
    """
    limit = MAX_MODEL_BYTES
    if isinstance(source, bytes | bytearray | memoryview):
        raw = bytes(source)
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        if path.is_dir():
            raise InputError(f"{str(source)!r} is a folder, not a model file.", code="not_a_file")
        try:
            with path.open("rb") as f:
                raw = f.read(limit + 1)  # never more than the cap, whatever the file's size
        except FileNotFoundError as exc:
            raise InputError(f"No model file at {str(source)!r}.", code="not_found") from exc
        except OSError as exc:
            raise InputError(
                f"The model file {str(source)!r} could not be opened ({exc.strerror or exc}).",
                code="unreadable",
            ) from exc
    elif hasattr(source, "read"):
        if getattr(source, "seekable", lambda: False)():
            source.seek(0)
        raw = source.read(limit + 1)
        if isinstance(raw, str):
            raw = raw.encode()
    else:
        raise InputError("Expected a model file path or its bytes.", code="not_a_model")
    if len(raw) > limit:
        raise InputError(
            f"This model file is larger than {limit // (1024 * 1024)} MB, the most a model "
            "file may be (the largest model the workbench fits is about 41 MB).",
            code="too_large",
        )
    return _parse_document(_parse_json(raw))


def align_categories(df: pd.DataFrame, model: SegmentModel) -> tuple[pd.DataFrame, dict[str, int]]:
    """Match category values written as numbers differently (``1`` vs ``1.0``) to the model's.

    Scoring itself already matches codes by value (``Preparer`` does); this rewrites
    the values shown and exported to the model's spelling and reports the rest.
    Returns the frame (a copy if anything changed) and, per categorical column, how
    many rows hold a value the model never saw (such rows get no category: an
    all-zero one-hot row).
    """
    unseen_counts: dict[str, int] = {}
    out = df
    for c in model.preparer.categorical:
        if c not in df.columns:
            continue
        cats = model.preparer.categories[c]
        known = set(cats)
        s = df[c].astype("string")
        unseen = s.notna() & ~s.isin(known)
        if not unseen.any():
            continue
        by_number: dict[float, str] = {}
        for cat in cats:
            num = _as_number(cat)
            if num is not None:
                by_number.setdefault(num, cat)
        if by_number:
            fixed = (
                s[unseen]
                .map(lambda v, table=by_number: table.get(_as_number(v), v))
                .astype("string")
            )
            if (fixed != s[unseen]).any():
                if out is df:
                    out = df.copy()
                s = s.copy()
                s[unseen] = fixed
                out[c] = s
                unseen = s.notna() & ~s.isin(known)
        if unseen.any():
            unseen_counts[c] = int(unseen.sum())
    return out, unseen_counts


def shares_comparison(model: Any, labels: Any) -> pd.DataFrame:
    """Segment shares of new data beside the training shares (drift at a glance).

    Parameters
    ----------
    model : the model (or fitted segmentation) the labels come from
    labels : shape (n_new,), segments 1..k of the new rows

    Returns
    -------
    DataFrame indexed by ``segment`` 1..k with ``training_count``, ``training_share``,
    ``new_count``, ``new_share`` and ``change`` (new minus training share, in share units)
    """
    m = as_model(model)
    lab = np.asarray(labels)
    if lab.ndim != 1 or (lab.size and (lab.min() < 1 or lab.max() > m.k)):
        raise InputError(f"Labels must be segments 1..{m.k}.", code="bad_labels")
    new_counts = np.bincount(lab.astype("int64"), minlength=m.k + 1)[1:]
    new_shares = new_counts / max(int(new_counts.sum()), 1)
    train = m.training_shares
    return pd.DataFrame(
        {
            "training_count": m.sizes,
            "training_share": train,
            "new_count": new_counts,
            "new_share": new_shares,
            "change": new_shares - train,
        },
        index=pd.RangeIndex(1, m.k + 1, name="segment"),
    )


# --------------------------------------------------------------------------- scoring kernels


# --------------------------------------------------------------------------- parsing


def _bad(message: str) -> InputError:
    return InputError(f"This is not a valid model file: {message}", code="bad_model_file")


def _parse_json(raw: bytes) -> Any:
    head = raw.removeprefix(b"\xef\xbb\xbf").lstrip()[:1]  # a UTF-8 BOM is fine
    if head != b"{":
        raise InputError(
            "This is not a segmentation model file (it is not a JSON document). "
            "Use a .json model file saved from a segmentation (the app's model download or Segmentation.save).",
            code="bad_model_file",
        )
    # Parsing must not amplify: "[]," is 3 bytes of text but a 64-byte Python list, so a
    # file of empty lists or objects would take ~30x its size in memory. A real model's
    # lists hold numbers (about 20 bytes each), so it has few containers for its size;
    # the counts over-estimate (brackets and quotes inside names count too), safely.
    containers = raw.count(b"[") + raw.count(b"{")
    if containers > 10_000 + len(raw) // 32:
        raise _bad("it holds far more lists and objects than a model of its size can.")
    if raw.count(b'"') // 2 > 100_000 + len(raw) // 16:
        raise _bad("it holds far more texts than a model of its size can.")

    return parse_strict_json(raw, _bad, "a model", max_int_digits=_MAX_INT_DIGITS)


def _get(d: dict[str, Any], key: str, where: str) -> Any:
    if key not in d:
        raise _bad(f"the {where} has no {key!r} entry.")
    return d[key]


def _str_list(v: Any, name: str) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise _bad(f"{name!r} must be a list of names.")
    return list(v)


def _number(v: Any, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise _bad(f"{name} must be a number, got {_show(v)}.")
    try:
        f = float(v)
    except OverflowError:  # an int such as 10**400
        f = math.inf
    if not math.isfinite(f):
        raise _bad(f"{name} must be a finite number, got {_show(v)}.")
    return f


def _show(v: Any, n: int = 40) -> str:
    """``repr(v)`` cut to ``n`` characters (never str() of a huge int: Python refuses)."""
    if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 64:
        return f"a number of about {int(v.bit_length() * 0.30103):,} digits"
    text = repr(v) if not isinstance(v, list | dict) else type(v).__name__
    return text if len(text) <= n else text[: n - 1] + "…"


def _check_shape(v: Any, shape: tuple[int, ...], name: str) -> None:
    """Walk nested lists, checking every length against ``shape`` and every leaf is a
    number, before numpy sees them (so nothing larger than ``shape`` is ever built)."""
    level = [v]
    for depth, n in enumerate(shape):
        nxt: list[Any] = []
        for item in level:
            if not isinstance(item, list) or len(item) != n:
                found = shape[:depth] + ((len(item),) if isinstance(item, list) else ())
                more = ", …" if isinstance(item, list) and depth + 1 < len(shape) else ""
                text = "(" + ", ".join(map(str, found)) + ("," if len(found) == 1 else "")
                raise _bad(f"{name} has shape {text}{more}), expected {shape}.")
            nxt.extend(item)
        level = nxt
    for x in level:
        if isinstance(x, bool) or not isinstance(x, int | float):
            raise _bad(f"{name} must be numbers with shape {shape}; found {_show(x)}.")


def _array(v: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    """A float64 array of exactly ``shape`` from nested lists of numbers."""
    _check_shape(v, shape, name)
    try:
        a = np.array(v, dtype="float64")
    except (OverflowError, ValueError, TypeError) as exc:  # an int beyond float64
        raise _bad(f"{name} holds numbers too large to use.") from exc
    if a.shape != shape:  # cannot happen after _check_shape; kept as the contract
        raise _bad(f"{name} has shape {a.shape}, expected {shape}.")
    if not np.isfinite(a).all():
        raise _bad(f"{name} holds numbers too large to use.")
    return a


def _parse_document(doc: Any) -> SegmentModel:
    if not isinstance(doc, dict):
        raise _bad("its top level must be an object with a format name and version.")
    fmt = doc.get("format")
    if fmt != FORMAT:
        raise InputError(
            f"This file is not a segmentation model (format {_show(fmt)}, expected {FORMAT!r}).",
            code="wrong_format",
        )
    version = doc.get("version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise InputError(
            f"This model file has format version {_show(version)}; this version of the workbench "
            f"reads version {FORMAT_VERSION} only. Refit the segments or use a matching version.",
            code="wrong_version",
        )
    method = _get(doc, "method", "file")
    if method not in METHODS:
        raise _bad(f"unknown method {_show(method)} (expected one of {', '.join(METHODS)}).")
    k = _get(doc, "k", "file")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise _bad(f"the number of segments must be a whole number 1..{MAX_K}, got {_show(k)}.")
    prep = _parse_preparation(_get(doc, "preparation", "file"))
    p = len(prep.feature_names)
    raw = _get(doc, "model", "file")
    if not isinstance(raw, dict):
        raise _bad("'model' must be an object.")
    params = _parse_params(method, k, p, raw)
    summary = _get(doc, "summary", "file")
    if not isinstance(summary, dict):
        raise _bad("'summary' must be an object.")
    sizes = _get(summary, "sizes", "summary")
    if (
        not isinstance(sizes, list)
        or len(sizes) != k
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in sizes)
        or sum(sizes) > _INT64_MAX
    ):
        raise _bad(
            f"the summary's 'sizes' must be {k} whole numbers of rows per segment "
            f"(together at most {_INT64_MAX:,})."
        )
    warnings = doc.get("warnings", [])
    if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
        raise _bad("'warnings' must be a list of sentences.")
    raw_names = doc.get("segment_names", {})
    if not isinstance(raw_names, dict):
        raise _bad("'segment_names' must be an object of segment number to name.")
    try:
        names = check_names(raw_names, k)
    except InputError as exc:
        raise _bad(str(exc)[0].lower() + str(exc)[1:]) from exc
    try:
        return SegmentModel(method, k, prep, params, summary, warnings, names)
    except (np.linalg.LinAlgError, ValueError) as exc:
        raise _bad("a covariance matrix is not positive definite.") from exc


def _parse_params(method: str, k: int, p: int, raw: dict[str, Any]) -> dict[str, Any]:
    if method == "kmeans":
        return {"centers": _array(_get(raw, "centers", "model"), (k, p), "'centers'")}
    if method == "fcm":
        m = _number(_get(raw, "m", "model"), "the fuzzifier m")
        # The fit's own range (1 < m <= 1e6): m near 1 makes the memberships overflow.
        if not 1.0 < m <= 1e6:
            raise _bad(f"the fuzzifier m must be greater than 1 and at most 1e6, got {m}.")
        dtype = raw.get("dtype", "float64")
        if dtype not in ("float64", "float32"):
            raise _bad(f"'dtype' must be 'float64' or 'float32', got {_show(dtype)}.")
        centers = _array(_get(raw, "centers", "model"), (k, p), "'centers'").astype(dtype)
        return {"centers": centers, "m": m, "dtype": dtype}
    cov_type = _get(raw, "covariance_type", "model")
    if cov_type not in COVARIANCE_TYPES:
        raise _bad(
            f"covariance type {_show(cov_type)} is not one of {', '.join(COVARIANCE_TYPES)}."
        )
    weights = _array(_get(raw, "weights", "model"), (k,), "'weights'")
    if (weights <= 0).any() or abs(weights.sum() - 1.0) > 1e-6:
        raise _bad("the mixture 'weights' must be positive and sum to 1.")
    means = _array(_get(raw, "means", "model"), (k, p), "'means'")
    cov_shape = {"full": (k, p, p), "tied": (p, p), "diag": (k, p), "spherical": (k,)}[cov_type]
    cov = _array(_get(raw, "covariances", "model"), cov_shape, "'covariances'")
    if cov_type in ("diag", "spherical") and (cov <= 0).any():
        raise _bad("every variance must be positive.")
    if cov_type in ("full", "tied"):
        mats = cov if cov_type == "full" else cov[None]
        if not np.allclose(mats, np.swapaxes(mats, 1, 2), rtol=0, atol=1e-12 * np.abs(mats).max()):
            raise _bad("a covariance matrix is not symmetric.")
    return {"covariance_type": cov_type, "weights": weights, "means": means, "covariances": cov}


def _parse_preparation(d: Any) -> Preparer:
    if not isinstance(d, dict):
        raise _bad("'preparation' must be an object.")
    for key in _PREP_REQUIRED:
        _get(d, key, "preparation")
    unknown = sorted(set(d) - _PREP_FIELDS)
    if unknown:
        raise _bad(f"the preparation has unknown entries: {', '.join(unknown)}.")
    columns = _str_list(d["columns"], "columns")
    numeric = _str_list(d["numeric"], "numeric")
    categorical = _str_list(d["categorical"], "categorical")
    if set(numeric) & set(categorical) or not set(numeric + categorical) <= set(columns):
        raise _bad("the numeric and categorical columns must be distinct chosen columns.")
    opts = d["options"]
    if not isinstance(opts, dict) or set(opts) != {"scaling", "log_transform", "impute"}:
        raise _bad("'options' must hold scaling, log_transform and impute.")
    if not isinstance(opts["log_transform"], bool):
        _str_list(opts["log_transform"], "log_transform")
    if opts["scaling"] not in ("standard", "robust", "none"):
        raise _bad(f"the scaling {_show(opts['scaling'])} is not standard, robust or none.")
    if opts["impute"] not in ("median", "mean"):
        raise _bad(f"the imputation {_show(opts['impute'])} is not median or mean.")
    fill, center, scale, categories = d["fill"], d["center"], d["scale"], d["categories"]
    if not all(isinstance(x, dict) for x in (fill, center, scale, categories)):
        raise _bad("'fill', 'center', 'scale' and 'categories' must be objects.")
    clean_fill: dict[str, Any] = {}
    clean_center: dict[str, float] = {}
    clean_scale: dict[str, float] = {}
    for c in numeric:
        for name, src in (("fill", fill), ("center", center), ("scale", scale)):
            if c not in src:
                raise _bad(f"'{name}' has no value for the numeric column {c!r}.")
        clean_fill[c] = _number(fill[c], f"the fill value of {c!r}")
        clean_center[c] = _number(center[c], f"the centre of {c!r}")
        clean_scale[c] = _number(scale[c], f"the scale of {c!r}")
        if clean_scale[c] == 0.0:
            raise _bad(f"the scale of {c!r} is zero.")
    clean_cats: dict[str, list[str]] = {}
    for c in categorical:
        if c not in categories or c not in fill:
            raise _bad(f"the categorical column {c!r} has no categories or fill value.")
        cats = _str_list(categories[c], f"categories of {c}")
        if not cats or len(set(cats)) != len(cats):
            raise _bad(f"the categories of {c!r} must be distinct and not empty.")
        if not isinstance(fill[c], str):
            raise _bad(f"the fill value of {c!r} must be text.")
        clean_cats[c] = cats
        clean_fill[c] = fill[c]
    log_columns = _str_list(d["log_columns"], "log_columns")
    if not set(log_columns) <= set(numeric):
        raise _bad("'log_columns' must be numeric columns.")
    feature_names = _str_list(d["feature_names"], "feature_names")
    expected = numeric + [f"{c}={v}" for c in categorical for v in clean_cats[c]]
    if feature_names != expected or not feature_names:
        raise _bad("'feature_names' do not match the numeric columns and categories.")
    imputed = d.get("imputed", {})
    if not isinstance(imputed, dict):
        raise _bad("'imputed' must be an object.")
    resolution = d.get("resolution", {})
    if not isinstance(resolution, dict) or not set(resolution) <= set(numeric):
        raise _bad("'resolution' must be an object of numeric columns.")
    clean_resolution = {}
    for c, v in resolution.items():
        clean_resolution[c] = _number(v, f"the resolution of {c!r}")
        if clean_resolution[c] <= 0:
            raise _bad(f"the resolution of {c!r} must be positive.")
    flags = _str_list(d.get("flags", []), "flags")
    if not set(flags) <= set(numeric):
        raise _bad("'flags' must be numeric columns.")
    log_report = d.get("log_report", {})
    if not isinstance(log_report, dict) or not set(log_report) <= set(log_columns):
        raise _bad("'log_report' must be an object of log-transformed columns.")
    clean_report: dict[str, dict[str, Any]] = {}
    for c, r in log_report.items():
        if not isinstance(r, dict) or set(r) != {"skew_before", "skew_after", "automatic"}:
            raise _bad(f"the log report of {c!r} must hold skew_before, skew_after, automatic.")
        if not isinstance(r["automatic"], bool):
            raise _bad(f"'automatic' in the log report of {c!r} must be true or false.")
        clean_report[c] = {
            "skew_before": _number(r["skew_before"], f"the skewness of {c!r}"),
            "skew_after": _number(r["skew_after"], f"the skewness of {c!r}"),
            "automatic": r["automatic"],
        }
    warnings = d.get("warnings", [])
    try:
        return Preparer.from_dict(
            {
                "columns": columns,
                "options": dict(opts),
                "numeric": numeric,
                "categorical": categorical,
                "feature_names": feature_names,
                "fill": clean_fill,
                "imputed": dict(imputed),
                "log_columns": log_columns,
                "log_report": clean_report,
                "resolution": clean_resolution,
                "flags": flags,
                "center": clean_center,
                "scale": clean_scale,
                "categories": clean_cats,
                "warnings": _str_list(warnings, "warnings"),
            }
        )
    except (TypeError, ValueError) as exc:
        raise _bad(f"the preparation could not be read ({exc}).") from exc


# --------------------------------------------------------------------------- small helpers


def _as_frame(df: Any) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise InputError("Expected a table (a pandas DataFrame).", code="not_a_table")
    return df


def _as_number(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def json_safe(obj: Any) -> Any:
    """Plain JSON types; NaN and infinities (e.g. Xie-Beni with k = 1) become None."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, np.generic):
        return json_safe(obj.item())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    return str(obj)
