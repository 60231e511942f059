"""``sweep_k()``: fit every k in a range, score each fit, recommend one k in plain words.

Criteria per method (one row per k in ``KSweep.table``):

- k-means: ``inertia`` (within-segment sum of squares, the elbow curve), ``silhouette``,
  ``calinski_harabasz`` and ``davies_bouldin`` (scikit-learn's metrics on the labels).
- k-means also: ``gap`` and ``gap_se`` (the gap statistic and its standard error).
- Gaussian mixture: ``bic_<type>``, ``aic_<type>`` and ``icl_<type>`` for every
  covariance type tried, ``bic``/``aic``/``icl`` (the best over types),
  ``best_covariance`` (the type with the lowest ICL at that k: the model the
  recommendation uses) and ``silhouette`` of that model's hard labels.
- Fuzzy c-means: ``objective``, ``mpc`` (modified partition coefficient),
  ``partition_coefficient``, ``partition_entropy``, ``xie_beni``, ``gap``/``gap_se``
  (of the FCM objective) and ``silhouette`` of the hard labels (highest membership).
- Every method: ``smallest_share``, the share of rows in the smallest segment.

k may start at 1 (one group). The recommendation rule is documented in
:mod:`.recommend`; its words in :mod:`.wording`.

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
- :mod:`.checks`: validation of the ks and covariance types;
- :mod:`.gap`: the gap statistic (structureless reference data);
- :mod:`.mixture_em`: the lean EM the mixture sweep runs (scikit-learn's algorithm).
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
from analytics.studies.choose_k.recommend import (
    DEFAULT_MIN_SHARE,
    PARSIMONY_IC,
    Recommendation,
    recommend,
)
from analytics.studies.choose_k.resampling import STABILITY_MAX_ROWS, stability
from analytics.studies.choose_k.sweep import (
    EXACT_ROWS,
    SCREEN_ROWS,
    SWEEP_STARTS,
    SWEEP_SUBSAMPLE,
    KSweep,
    sweep_k,
)
from analytics.studies.choose_k.wording import explain

__all__ = [
    "CRITERIA",
    "DEFAULT_MIN_SHARE",
    "EXACT_ROWS",
    "PARSIMONY_IC",
    "SCREEN_ROWS",
    "SWEEP_STARTS",
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
