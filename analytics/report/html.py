"""The self-contained HTML report: one file an analyst can send a manager.

:func:`report_html` turns computed results (:class:`~analytics.report.analysis.AnalysisResults`)
into one HTML string: the data, how k was chosen, the segments (names, sizes, cards,
profiles, the map), the certainty, the anomalies when scored, the method and every
setting, and the analysis file itself embedded as ``<script type="application/json"
id="analysis">``, so the report can be reproduced. Plotly's JavaScript is inlined
once (the first chart) and every chart after reuses it, so the file opens offline
and makes no network request. Every user text (file, column, category and segment
names) is escaped with :func:`html.escape`.

:func:`figure_png` renders one chart as a PNG (for a slide) through Plotly's kaleido,
which drives a system Chromium (``/usr/bin/chromium`` on Debian).
"""

from __future__ import annotations

import html
import json
import os
import shutil
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from analytics.constants import METHOD_NAMES

__all__ = ["AMBIGUITY_MARGIN", "MAP_SAMPLE", "figure_png", "png_available", "report_html"]

#: Top-two probabilities closer than this make a customer "ambiguous" (as on the Segments page).
AMBIGUITY_MARGIN = 0.1
#: Points drawn on the report's map at most (as on the Segments page).
MAP_SAMPLE = 5000
#: Flagged rows listed in the report at most.
ANOMALIES_LISTED = 20
#: Chromium kaleido uses when none is configured (Debian's package).
CHROMIUM = "/usr/bin/chromium"

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2933;background:#fff}
main{max-width:1100px;margin:0 auto;padding:24px 32px 64px}
h1{font-size:1.8rem;margin:.2em 0}h2{font-size:1.35rem;margin-top:2em;border-bottom:1px solid #d9e2ec;padding-bottom:.2em}
h3{font-size:1.05rem;margin:.4em 0}
.lead{color:#52606d}.muted{color:#7b8794;font-size:.9rem}
table{border-collapse:collapse;margin:.6em 0;font-size:.92rem}
th,td{border-bottom:1px solid #e4e7eb;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f5f7fa;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.metrics{display:flex;gap:16px;flex-wrap:wrap;margin:.8em 0}
.metric{border:1px solid #e4e7eb;border-radius:8px;padding:8px 14px;min-width:140px}
.metric b{display:block;font-size:1.4rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:14px}
.card table{width:100%}.card td:nth-child(n+2){white-space:nowrap}.card td:first-child{word-break:break-word}
.card{border:1px solid #d9e2ec;border-radius:8px;padding:10px 14px;break-inside:avoid}
.swatch{display:inline-block;width:.9em;height:.9em;border-radius:2px;margin-right:.3em;vertical-align:-.1em}
.chart{margin:.6em 0;break-inside:avoid}
.warn{background:#fff8e6;border-left:4px solid #f0b429;padding:6px 12px;margin:.6em 0}
.note{background:#f0f4f8;border-left:4px solid #9fb3c8;padding:6px 12px;margin:.6em 0}
@media print{main{max-width:none}.chart{page-break-inside:avoid}}
"""


def _e(text: object) -> str:
    """Escape user text for HTML."""
    return html.escape(str(text), quote=True)


def _num(v: float, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    if isinstance(v, int | np.integer):
        return f"{int(v):,}"
    return f"{float(v):,.{digits}g}"


def _table(frame: pd.DataFrame, index: bool = False, numeric_digits: int = 4) -> str:
    """An HTML table of ``frame`` with every cell escaped."""
    cols = ([frame.index.name or ""] if index else []) + [str(c) for c in frame.columns]
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    rows = []
    for idx, r in zip(frame.index, frame.itertuples(index=False), strict=True):
        cells = [idx] if index else []
        cells.extend(r)
        tds = []
        for v in cells:
            if isinstance(v, bool | np.bool_):
                tds.append(f"<td>{'yes' if v else 'no'}</td>")
            elif isinstance(v, int | float | np.integer | np.floating):
                tds.append(f'<td class="num">{_num(v, numeric_digits)}</td>')
            else:
                tds.append(f"<td>{_e(v)}</td>")
        rows.append("<tr>" + "".join(tds) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


class _Charts:
    """Plotly figures as HTML fragments: the library inlined with the first one only."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, fig: go.Figure, chart_id: str) -> str:
        body = pio.to_html(
            fig,
            include_plotlyjs=self.count == 0,  # True = the whole library, inline
            full_html=False,
            div_id=chart_id,
            config={"displaylogo": False, "responsive": True},
        )
        self.count += 1
        return f'<div class="chart" data-chart="{_e(chart_id)}">{body}</div>'


def _preparation_words(a: Any) -> str:
    p = a.preparation
    scaling = {
        "standard": "each number scaled to z-scores (mean 0, standard deviation 1)",
        "robust": "each number scaled by its median and interquartile range",
        "none": "numbers used as they are (no scaling)",
    }[p["scaling"]]
    parts = [scaling, f"missing numbers filled with the {p['impute']}"]
    if p.get("log_transform"):
        parts.append("log(1 + x) taken of " + ", ".join(_e(c) for c in p["log_transform"]))
    parts.append("missing categories filled with the most frequent value")
    return "; ".join(parts) + "."


def _data_section(r: Any) -> str:
    a, seg = r.analysis, r.seg
    fp = a.data
    roles = pd.DataFrame(
        {
            "column": a.features,
            "role": [a.roles.get(c, "") for c in a.features],
            "in the model": [
                "yes" if c in set(seg.columns) else "no (described only)" for c in a.features
            ],
        }
    )
    return (
        "<h2>The data</h2>"
        f"<p>{_e(fp.file_name or 'A table')}: <b>{fp.rows:,}</b> rows and {len(fp.columns):,} columns; "
        f"{len(a.features):,} of them describe the customers and were used.</p>"
        + _table(roles)
        + f"<p><b>Preparation:</b> {_preparation_words(a)}</p>"
    )


def _choose_k_section(r: Any, chart: _Charts) -> str:
    from analytics.charts.choose_k import (
        bic_figure,
        elbow_figure,
        fcm_indices_figure,
        silhouette_figure,
    )

    sweep = r.sweep
    if sweep is None:
        return "<h2>How k was chosen</h2><p>No comparison of numbers of segments was run.</p>"
    out = ["<h2>How k was chosen</h2>"]
    ks = ", ".join(str(k) for k in sweep.ks)
    how = (
        "The session ran no comparison of k, so this report ran a quick one"
        if r.sweep_is_quick
        else "The numbers of segments compared in the session"
    )
    out.append(
        f"<p>{how}: {_e(METHOD_NAMES[sweep.method])} with k = {ks}. "
        f"The analysis uses <b>k = {r.seg.k}</b>"
        + (
            f"; the comparison recommends k = {sweep.recommended_k}."
            if sweep.recommended_k
            else "."
        )
        + "</p>"
    )
    out.append(f'<p class="note">{_e(sweep.reason)}</p>')
    if sweep.warning:
        out.append(f'<p class="warn">{_e(sweep.warning)}</p>')
    for note in sweep.notes:
        out.append(f'<p class="muted">{_e(note)}</p>')
    if sweep.recommended_k is None:
        return "".join(out)
    first = {"kmeans": elbow_figure, "gmm": bic_figure, "fcm": fcm_indices_figure}[sweep.method]
    out.append(chart(first(sweep), "chart-k-main"))
    out.append(chart(silhouette_figure(sweep), "chart-k-silhouette"))
    return "".join(out)


def _value(v: float, kind: str) -> str:
    if v != v:
        return "–"
    return f"{v:.0%}" if kind == "category" else f"{v:,.4g}"


def _effect(v: float, kind: str) -> str:
    if v != v:
        return "–"
    return f"{v * 100:+.0f} pts" if kind == "category" else f"d = {v:+.2f}"


def _segments_section(r: Any, chart: _Charts) -> str:
    from analytics.charts.base import segment_colour
    from analytics.charts.segments import profile_heatmap_figure, segment_map_figure, sizes_figure
    from analytics.studies import profiles

    seg, names = r.seg, r.names or {}
    prof = profiles.segment_profiles(seg)
    effects = profiles.effect_sizes(seg)
    means, z = profiles.feature_profile(seg)
    out = ["<h2>The segments</h2>"]
    sizes = pd.DataFrame(
        {
            "segment": list(range(1, seg.k + 1)),
            "name": [names.get(j, "") for j in range(1, seg.k + 1)],
            "customers": [int(s) for s in seg.sizes],
            "share": [f"{s / max(len(seg.labels), 1):.1%}" for s in seg.sizes],
            "in words": [
                profiles.describe_segment(seg, j, effects=effects) for j in range(1, seg.k + 1)
            ],
        }
    )
    out.append(_table(sizes))
    out.append(chart(sizes_figure(seg.sizes, names=names), "chart-sizes"))
    proj = profiles.projection_2d(seg, None, None, sample=MAP_SAMPLE, random_state=0)
    out.append("<h3>The map</h3>")
    out.append(chart(segment_map_figure(proj, names=names), "chart-map"))
    if proj.sampled:
        out.append(
            f'<p class="muted">Drawing {len(proj.points):,} of {proj.n_total:,} customers '
            "(a random sample; every segment keeps some points).</p>"
        )
    if proj.note:
        out.append(f'<p class="muted">{_e(proj.note)}</p>')
    if z.shape[1]:
        out.append("<h3>Profiles</h3>")
        out.append(chart(profile_heatmap_figure(z, means, names=names), "chart-profiles"))
        out.append(
            '<p class="muted">Red: the segment\'s mean is above the overall mean; blue: below '
            "(in standard deviations). Category rows compare the share of customers with that value.</p>"
        )
    out.append('<h3>Segment cards</h3><div class="cards">')
    for j in range(1, seg.k + 1):
        title = f"Segment {j}" + (f": {_e(names[j])}" if names.get(j) else "")
        top = profiles.top_effects(effects, j)
        card = pd.DataFrame(
            {
                "feature": [
                    f"{t.feature} = {t.level}" if t.kind == "category" else t.feature
                    for t in top.itertuples()
                ],
                "segment": [_value(t.segment_value, t.kind) for t in top.itertuples()],
                "others": [_value(t.rest_value, t.kind) for t in top.itertuples()],
                "effect": [_effect(t.effect, t.kind) for t in top.itertuples()],
            }
        )
        out.append(
            '<div class="card">'
            f'<h3><span class="swatch" style="background:{segment_colour(j)}"></span>{title}</h3>'
            f"<p>{int(prof.loc[j, 'size']):,} customers ({prof.loc[j, 'share']:.0%}): "
            f"{_e(profiles.describe_segment(seg, j, effects=effects))}</p>"
            + _table(card)
            + "</div>"
        )
    out.append("</div>")
    out.append(
        '<p class="muted">Effect: for numbers Cohen\'s d (0.5 medium, 1 large); for categories the '
        "difference in share, in percentage points.</p>"
    )
    return "".join(out)


def _certainty_section(r: Any, chart: _Charts) -> str:
    from analytics.charts.segments import top_probability_figure
    from analytics.studies.profiles import ambiguous_rows

    seg = r.seg
    out = ["<h2>How certain the segments are</h2>"]
    if seg.method == "kmeans":
        out.append(
            "<p>k-means gives hard labels: every customer belongs to exactly one segment, "
            "so no uncertainty can be shown.</p>"
        )
        return "".join(out)
    amb = ambiguous_rows(seg.proba, AMBIGUITY_MARGIN)
    n_amb, n = int(amb.sum()), max(len(seg.labels), 1)
    out.append(
        '<div class="metrics">'
        f'<div class="metric"><b>{n_amb / n:.1%}</b>ambiguous customers ({n_amb:,})</div>'
        f'<div class="metric"><b>{np.median(seg.proba.max(axis=1)):.2f}</b>median top probability</div>'
        "</div>"
        f"<p>A customer is ambiguous when their two most likely segments are within "
        f"{AMBIGUITY_MARGIN:.2f} of each other.</p>"
    )
    out.append(
        chart(
            top_probability_figure(seg.proba.max(axis=1), n_amb, margin=AMBIGUITY_MARGIN),
            "chart-certainty",
        )
    )
    return "".join(out)


def _anomaly_section(r: Any, chart: _Charts) -> str:
    from analytics.charts.anomaly import density_histogram

    res = r.anomalies
    if res is None:
        return ""
    s = res.scores
    a = r.analysis.anomalies or {}
    share = res.n_anomalies / max(len(s), 1)
    how = (
        f"the {a['rate']:.1%} least likely rows"
        if a.get("rate") is not None
        else f"rows with a log density at or below {a.get('cutoff'):.3g}"
    )
    out = [
        "<h2>Unusual customers (anomalies)</h2>",
        f"<p>A Gaussian mixture of {a.get('k')} components ({_e(a.get('covariance_type'))} covariance) "
        f"scored every row by how likely it is; {how} are flagged: <b>{res.n_anomalies:,}</b> "
        f"customers ({share:.1%}).</p>",
        chart(density_histogram(s["log_density"].to_numpy(), res.cutoff), "chart-anomalies"),
    ]
    flagged = s[s["is_anomaly"]].sort_values("log_density").head(ANOMALIES_LISTED)
    if len(flagged):
        shown = pd.DataFrame(
            {
                "row": [str(i) for i in flagged.index],
                "anomaly score": flagged["anomaly_score"].round(1).to_numpy(),
                "nearest segment": flagged["nearest_segment"].to_numpy(),
                "why": flagged["explanation"].astype(str).to_numpy(),
            }
        )
        out.append(f"<p>The {len(shown)} most unusual:</p>" + _table(shown))
    for w in res.warnings:
        out.append(f'<p class="muted">{_e(w)}</p>')
    return "".join(out)


def _settings_section(r: Any, analysis_json: str) -> str:
    from analytics.report.analysis import describe_method

    a, seg = r.analysis, r.seg
    s = seg.summary
    rows: list[tuple[str, str]] = [
        ("Method", describe_method(a)),
        (
            "Converged",
            f"{'yes' if s.get('converged') else 'no'} after {s.get('n_iter', '?')} iterations",
        ),
    ]
    if seg.method == "gmm":
        rows.append(("BIC / log-likelihood", f"{s['bic']:,.0f} / {s['log_likelihood']:,.0f}"))
    elif seg.method == "fcm":
        rows.append(("Partition coefficient", f"{s['partition_coefficient']:.3f}"))
    else:
        rows.append(("Inertia", f"{s['inertia']:,.1f}"))
    if s.get("strategy"):
        rows.append(("How it was fitted", str(s["strategy"])))
    rows.append(("Feature columns", ", ".join(a.features)))
    rows.append(("Preparation", f"scaling {a.preparation['scaling']}, impute {a.preparation['impute']}, "
                 f"log of {', '.join(a.preparation['log_transform']) or 'no column'}"))  # fmt: skip
    if a.anomalies:
        rows.append(("Anomalies", ", ".join(f"{k} {v}" for k, v in a.anomalies.items())))
    if a.synthetic:
        rows.append(("Synthetic data", ", ".join(f"{k} {v}" for k, v in a.synthetic.items())))
    if a.data.sha256:
        rows.append(("File sha256", a.data.sha256))
    if a.data.table_sha256:
        rows.append(("Table sha256", a.data.table_sha256))
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    out = ["<h2>Method and settings</h2>", f"<table>{body}</table>"]
    for w in seg.warnings:
        out.append(f'<p class="warn">{_e(w)}</p>')
    out.append(
        "<p>The analysis file is embedded in this report. To reproduce it, save the block "
        '<code>&lt;script id="analysis"&gt;</code> as <code>analysis.json</code> and open it on the '
        "Data page with the same table, or run <code>python -m analytics report DATA "
        "--analysis analysis.json -o report.html</code>.</p>"
    )
    # JSON inside <script>: "</" and "<!--" must not appear literally; \u003c keeps it JSON.
    safe = analysis_json.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    out.append(f'<script type="application/json" id="analysis">{safe}</script>')
    return "".join(out)


def report_html(results: Any, *, title: str | None = None) -> str:
    """The whole report as one HTML document.

    Parameters
    ----------
    results : an :class:`~analytics.report.analysis.AnalysisResults` (from
        :func:`~analytics.report.analysis.run_analysis` or the app's session)
    title : the page title; default "Customer segments: <file name>"

    Returns
    -------
    str
        A complete HTML document with Plotly's JavaScript inlined once and the
        analysis file embedded; it loads nothing from the network.
    """
    a = results.analysis
    name = a.data.file_name or "the data"
    title = title or f"Customer segments: {name}"
    chart = _Charts()
    parts = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="lead">{results.seg.k} segments of {a.data.rows:,} customers by '
        f"{_e(METHOD_NAMES[a.method])}.</p>",
        _data_section(results),
        _choose_k_section(results, chart),
        _segments_section(results, chart),
        _certainty_section(results, chart),
        _anomaly_section(results, chart),
        _settings_section(results, a.to_json()),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{''.join(parts)}</main></body></html>\n"
    )


def _browser_path() -> str | None:
    """The Chromium kaleido should drive: ``BROWSER_PATH`` if set, else Debian's."""
    path = os.environ.get("BROWSER_PATH")
    if path:
        return path
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    return shutil.which("chromium") or shutil.which("google-chrome")


def png_available() -> bool:
    """Whether kaleido and a Chromium are installed (PNG export can work)."""
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return False
    return _browser_path() is not None


def figure_png(
    fig: go.Figure, width: int = 1100, height: int | None = None, scale: float = 2.0
) -> bytes:
    """One chart as PNG bytes, for a slide.

    Parameters
    ----------
    fig : the figure
    width, height : size in CSS pixels (height: the figure's own, else 520)
    scale : pixel density (2 = sharp on a projector)

    Raises
    ------
    InputError
        When kaleido or Chromium is missing or the export fails, in words.
    """
    from analytics.errors import InputError

    browser = _browser_path()
    if browser is None or not png_available():
        raise InputError(
            "Images of charts need the 'kaleido' package and Chromium; neither was found.",
            code="no_png_export",
        )
    # kaleido >= 1 drives a system Chrome/Chromium found through BROWSER_PATH.
    os.environ.setdefault("BROWSER_PATH", browser)
    h = height or fig.layout.height or 520
    try:
        return pio.to_image(fig, format="png", width=width, height=int(h), scale=scale)
    except Exception as exc:  # kaleido raises its own error types (browser failed, timeout)
        raise InputError(
            f"The chart could not be turned into an image ({' '.join(str(exc).split())[:160]}).",
            code="png_failed",
        ) from exc


def names_from(mapping: Mapping[Any, Any] | None) -> dict[int, str]:
    """``{segment: name}`` with whole-number keys and non-empty names only."""
    out: dict[int, str] = {}
    for key, value in (mapping or {}).items():
        if value is not None and str(value).strip():
            out[int(key)] = str(value).strip()
    return out


def analysis_from_report(text: str) -> str:
    """The analysis file's text embedded in a report (the inverse of the embedding)."""
    start = text.find('<script type="application/json" id="analysis">')
    if start < 0:
        from analytics.errors import InputError

        raise InputError("This HTML file holds no embedded analysis.", code="no_analysis")
    start = text.index(">", start) + 1
    end = text.index("</script>", start)
    return json.dumps(json.loads(text[start:end]), indent=2, ensure_ascii=False) + "\n"
