"""Plotly figure builders: pure functions from computed results to ``go.Figure``."""
