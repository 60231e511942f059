"""Plotly figure builders for the Image segmentation page: arrays in, ``go.Figure`` out.

Browsers slow down on multi-megapixel figures, so the page draws a downscaled copy
(:func:`downscale`); the builders take a ``pixel_step`` so axes still read in the
original image's pixel coordinates. Like every chart here: the arrays first, then
keyword-only options, finished through :func:`analytics.charts.base.finish`. Image
segments are drawn in their own mean colours, not the customer-segment palette.
"""

from __future__ import annotations

import base64
import io
import math

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from analytics.charts.base import finish

#: Longest side, in pixels, of the copy drawn on screen.
MAX_DISPLAY_SIDE = 1200
#: Longest side of a drawn soft map: a heatmap sends 4 bytes per cell (an image is a PNG),
#: so 800 x 800 (about 3 MB of JSON) is the most that stays quick in the browser.
MAX_SOFT_MAP_SIDE = 800
#: Outline of palette bars, so a white or very light segment stays visible on white.
_BAR_OUTLINE = "#7f7f7f"
_FIG_WIDTH = 560  # typical width of half the wide layout, for the height estimate


def hex_colour(rgb: np.ndarray | tuple[int, int, int]) -> str:
    """``#rrggbb`` of one RGB triple (0..255)."""
    r, g, b = (int(v) for v in np.asarray(rgb).reshape(3))
    return f"#{r:02x}{g:02x}{b:02x}"


def downscale(
    array: np.ndarray, max_side: int = MAX_DISPLAY_SIDE, smooth: bool = False
) -> tuple[np.ndarray, int]:
    """Shrink an image or map by a whole factor so its longer side is at most ``max_side``.

    Parameters
    ----------
    array : ndarray of shape (H, W) or (H, W, 3)
    max_side : int
        Largest height or width of the result.
    smooth : bool
        Average each step x step block (photos: no aliasing). Only for (H, W, 3) uint8;
        otherwise every step-th pixel is kept, so segment colours and map values
        stay exactly as computed.

    Returns
    -------
    small : ndarray of shape (ceil(H / step), ceil(W / step)[, 3])
    step : int
        The factor (1 when the array already fits; then ``small`` is ``array``).
    """
    height, width = array.shape[:2]
    step = max(1, math.ceil(max(height, width) / max_side))
    if step == 1:
        return array, 1
    if smooth and array.ndim == 3 and array.dtype == np.uint8:
        # Image.reduce averages blocks and rounds sizes up, like the strided slice below.
        return np.asarray(Image.fromarray(array).reduce(step)), step
    return np.ascontiguousarray(array[::step, ::step]), step


def _png_data_uri(rgb: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _height(rows: int, cols: int, extra: int = 60) -> int:
    """Figure height that keeps the image's aspect at the typical column width."""
    return int(min(720, max(240, _FIG_WIDTH * rows / max(cols, 1)))) + extra


def _image_axes(fig: go.Figure) -> None:
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(
        showticklabels=False,
        showgrid=False,
        zeroline=False,
        autorange="reversed",  # row 0 at the top, as in the image
        scaleanchor="x",
        constrain="domain",
    )


def image_figure(rgb: np.ndarray, *, title: str | None = None, pixel_step: int = 1) -> go.Figure:
    """An RGB image as a figure (like ``px.imshow``), sent to the browser as a PNG.

    Parameters
    ----------
    rgb : ndarray of shape (H, W, 3), uint8
    title : str, optional
    pixel_step : int
        Original pixels per drawn pixel (from :func:`downscale`); hover shows original
        coordinates.

    Returns
    -------
    go.Figure with one ``go.Image`` trace whose ``source`` is a lossless PNG of ``rgb``
    (a PNG is far smaller than the same pixels as numbers).
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"rgb must have shape (H, W, 3), got {rgb.shape}")
    rows, cols = rgb.shape[:2]
    fig = go.Figure(
        go.Image(
            source=_png_data_uri(rgb),
            x0=0,
            y0=0,
            dx=pixel_step,
            dy=pixel_step,
            hovertemplate="x %{x}, y %{y}<extra></extra>",
        )
    )
    _image_axes(fig)
    return finish(fig, title=title, height=_height(rows, cols))


def palette_figure(
    palette: np.ndarray,
    shares: np.ndarray,
    *,
    title: str | None = "How much of the image does each segment cover?",
) -> go.Figure:
    """Bar per segment, as tall as its share of the image and painted in its colour.

    Parameters
    ----------
    palette : ndarray of shape (k, 3), uint8
        Row ``j - 1`` is segment ``j``'s colour.
    shares : ndarray of shape (k,)
        Fraction of pixels in each segment.
    title : str, optional

    Returns
    -------
    go.Figure with one ``go.Bar``: x ``Segment 1`` .. ``Segment k``, y the shares,
    marker colours the palette as ``#rrggbb``.
    """
    palette = np.asarray(palette)
    shares = np.asarray(shares, dtype=np.float64)
    if palette.ndim != 2 or palette.shape[1] != 3 or palette.shape[0] != shares.shape[0]:
        raise ValueError(
            f"palette must have shape (k, 3) and shares (k,); got {palette.shape} and {shares.shape}"
        )
    colours = [hex_colour(c) for c in palette]
    names = [f"Segment {j}" for j in range(1, len(colours) + 1)]
    fig = go.Figure(
        go.Bar(
            x=names,
            y=shares,
            marker=dict(color=colours, line=dict(color=_BAR_OUTLINE, width=1)),
            text=[f"{s:.1%}" for s in shares],
            textposition="outside",
            customdata=colours,
            hovertemplate="%{x}: %{y:.1%} of the image<br>colour %{customdata}<extra></extra>",
        )
    )
    top = float(shares.max()) if shares.size else 1.0
    fig.update_yaxes(tickformat=".0%", range=[0, top * 1.18 or 1.0])
    return finish(fig, title=title, y_title="Share of pixels", height=340, showlegend=False)


def soft_map_figure(
    soft_map: np.ndarray,
    segment: int,
    *,
    title: str | None = None,
    pixel_step: int = 1,
    value_name: str = "membership",
) -> go.Figure:
    """Heatmap (0..1) of how strongly every pixel belongs to one segment.

    Parameters
    ----------
    soft_map : ndarray of shape (H, W), values in [0, 1]
        FCM memberships or GMM posterior probabilities of ``segment``.
    segment : int
        Segment number (1..k), for the title.
    title : str, optional
        Defaults to ``"<value_name> of segment <segment>"``.
    pixel_step : int
        Original pixels per drawn pixel (from :func:`downscale`).
    value_name : str
        What the values are (``"membership"`` or ``"probability"``).

    Returns
    -------
    go.Figure with one ``go.Heatmap`` (``z`` is ``soft_map``, colour range fixed to
    0..1) and the y axis reversed so row 0 is at the top, as in the image.
    """
    z = np.asarray(soft_map)
    if z.ndim != 2:
        raise ValueError(f"soft_map must have shape (H, W), got {z.shape}")
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x0=0,
            y0=0,
            dx=pixel_step,
            dy=pixel_step,
            zmin=0.0,
            zmax=1.0,
            colorscale="Viridis",
            colorbar=dict(title=dict(text=value_name)),
            hovertemplate=f"x %{{x}}, y %{{y}}<br>{value_name} %{{z:.2f}}<extra></extra>",
        )
    )
    _image_axes(fig)
    return finish(
        fig,
        title=title or f"{value_name.capitalize()} of segment {segment}",
        height=_height(*z.shape),
    )
