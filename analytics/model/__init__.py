"""The model core: Gaussian and distance kernels, fuzzy c-means, blocked EM, fitting
(``segment``) and the one ``SegmentModel`` scorer behind files, CLI, Dask, images,
anomalies and synthetic data."""
