"""Names and limits shared by the whole package: one definition of each.

Imports nothing, so the command line can use it without loading numpy or scikit-learn.
"""

from __future__ import annotations

#: Covariance structures of a Gaussian mixture (scikit-learn's names).
COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
#: The segmentation methods, by their API name.
METHODS = ("kmeans", "fcm", "gmm")
#: Their names in words.
METHOD_NAMES = {"kmeans": "k-means", "fcm": "fuzzy c-means", "gmm": "Gaussian mixture"}
#: Most segments any table or image may be split into.
MAX_K = 50

__all__ = ["COVARIANCE_TYPES", "MAX_K", "METHODS", "METHOD_NAMES"]
