"""``sweep_k()``: fit every k in a range, score each fit, recommend one k in plain words.

Criteria per method (one row per k in ``KSweep.table``):

- k-means: ``inertia`` (within-segment sum of squares, the elbow curve), ``silhouette``,
  ``calinski_harabasz`` and ``davies_bouldin`` (scikit-learn's metrics on the labels).
- Gaussian mixture: ``bic_<type>`` and ``aic_<type>`` for every covariance type tried,
  ``bic``/``aic`` (the best over types), ``best_covariance`` (the type with the lowest
  BIC at that k) and ``silhouette`` of that model's hard labels.
- Fuzzy c-means: ``partition_coefficient``, ``partition_entropy``, ``xie_beni`` and
  ``silhouette`` of the hard labels (highest membership).

Silhouette needs every pairwise distance (n^2), so above ``SILHOUETTE_EXACT_MAX`` rows it
is computed on a random sample of that many rows (the same rows for every k, stated in
``KSweep.silhouette_sample_size``); the value equals scikit-learn's
``silhouette_score(X, labels, sample_size=..., random_state=...)``.

The modules, one concern each:

- :mod:`.criteria`: how to read each criterion (:data:`CRITERIA`), the elbow
  (:func:`knee_point`, kneedle), the silhouette computations;
- :mod:`.sweep`: :func:`sweep_k`, :class:`KSweep` and the per-method fitting loops;
- :mod:`.recommend`: the recommended k as data (:class:`Recommendation`: votes,
  agreeing and disagreeing criteria, edge flags) from a list of rules;
- :mod:`.wording`: that decision in sentences (``KSweep.reason`` and ``warning``);
- :mod:`.stability`: refits on resamples compared by adjusted Rand index;
- :mod:`.checks`: validation of the ks and covariance types.
"""

from __future__ import annotations

from analytics.studies.choose_k.criteria import (
    CRITERIA,
    SILHOUETTE_EXACT_MAX,
    Criterion,
    SilhouetteRows,
    knee_point,
    silhouette_values,
)
from analytics.studies.choose_k.recommend import Recommendation, recommend
from analytics.studies.choose_k.resampling import STABILITY_MAX_ROWS, stability
from analytics.studies.choose_k.sweep import SWEEP_SUBSAMPLE, KSweep, sweep_k
from analytics.studies.choose_k.wording import explain

__all__ = [
    "CRITERIA",
    "SILHOUETTE_EXACT_MAX",
    "STABILITY_MAX_ROWS",
    "SWEEP_SUBSAMPLE",
    "Criterion",
    "KSweep",
    "Recommendation",
    "SilhouetteRows",
    "explain",
    "knee_point",
    "recommend",
    "silhouette_values",
    "stability",
    "sweep_k",
]
