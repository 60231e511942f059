"""The analysis file (every choice of a session, reproducible) and the HTML report."""

from analytics.report.analysis import (
    Analysis,
    AnalysisError,
    AnalysisResults,
    DataFingerprint,
    DataMismatchError,
    fingerprint,
    load_analysis,
    run_analysis,
)

__all__ = [
    "Analysis",
    "AnalysisError",
    "AnalysisResults",
    "DataFingerprint",
    "DataMismatchError",
    "fingerprint",
    "load_analysis",
    "report_html",
    "run_analysis",
]


def __getattr__(name: str):  # the report builder loads Plotly: only when asked
    if name == "report_html":
        from analytics.report.html import report_html

        return report_html
    raise AttributeError(f"module 'analytics.report' has no attribute {name!r}")
