"""Plotly figure builders: pure functions from computed results to ``go.Figure``.

``base`` is the one engine (layout, the segment palette, escaping of user text,
map axis ranges); ``segments``, ``choose_k``, ``anomaly``, ``synthetic``, ``model``
and ``image`` are the builders of each page, each taking the computed result first
and keyword-only options (``title=``, ``height=``, ``names=`` for segment names).
"""
