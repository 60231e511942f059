"""Analyses built on the model core: choosing k, anomalies, synthetic customers,
segment profiles and image segmentation."""
