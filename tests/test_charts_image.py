"""Image page figures: traces carry exactly the arrays given, no Streamlit involved."""

from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go
import pytest
from PIL import Image

from analytics import segment_image
from analytics.charts.image import (
    downscale,
    hex_colour,
    image_figure,
    palette_figure,
    soft_map_figure,
)


def decode_source(fig: go.Figure) -> np.ndarray:
    """The pixels of a go.Image trace's PNG data URI."""
    uri = fig.data[0].source
    assert uri.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


@pytest.fixture(scope="module")
def blocks() -> np.ndarray:
    """30 x 40 image: red left half, green top right, blue bottom right, a little noise."""
    rng = np.random.default_rng(0)
    img = np.zeros((30, 40, 3), dtype=np.int16)
    img[:, :20] = (200, 30, 30)
    img[:15, 20:] = (30, 200, 30)
    img[15:, 20:] = (30, 30, 200)
    return np.clip(img + rng.integers(-8, 9, img.shape), 0, 255).astype(np.uint8)


def test_hex_colour() -> None:
    assert hex_colour((255, 0, 16)) == "#ff0010"
    assert hex_colour(np.array([0, 128, 255], dtype=np.uint8)) == "#0080ff"


def test_image_figure_is_a_lossless_png_of_the_array(blocks: np.ndarray) -> None:
    fig = image_figure(blocks, title="Original", pixel_step=3)
    assert len(fig.data) == 1 and fig.data[0].type == "image"
    np.testing.assert_array_equal(decode_source(fig), blocks)  # shape (30, 40, 3) and pixels
    assert fig.data[0].dx == 3 and fig.data[0].dy == 3
    assert fig.layout.title.text == "Original"
    assert fig.layout.yaxis.autorange == "reversed" and fig.layout.yaxis.scaleanchor == "x"
    with pytest.raises(ValueError):
        image_figure(blocks[:, :, 0])


def test_palette_bars_have_segment_colours_and_share_heights(blocks: np.ndarray) -> None:
    seg = segment_image(blocks, "kmeans", 3)
    fig = palette_figure(seg.palette, seg.shares)
    bar = fig.data[0]
    assert bar.type == "bar"
    assert list(bar.x) == ["Segment 1", "Segment 2", "Segment 3"]
    np.testing.assert_allclose(bar.y, seg.shares)
    np.testing.assert_allclose(sorted(bar.y), [0.25, 0.25, 0.5])  # the three blocks
    assert list(bar.marker.color) == [
        "#{:02x}{:02x}{:02x}".format(*map(int, c)) for c in seg.palette
    ]
    assert list(bar.text) == [f"{s:.1%}" for s in seg.shares]
    assert fig.layout.yaxis.tickformat == ".0%"
    with pytest.raises(ValueError):
        palette_figure(seg.palette, seg.shares[:2])


def test_soft_map_heatmap_holds_the_map(blocks: np.ndarray) -> None:
    seg = segment_image(blocks, "gmm", 3, covariance_type="diag")
    soft = seg.soft_map(2)
    fig = soft_map_figure(soft, 2, pixel_step=2, value_name="probability")
    heat = fig.data[0]
    assert heat.type == "heatmap"
    np.testing.assert_array_equal(np.asarray(heat.z), soft)
    assert (heat.zmin, heat.zmax) == (0.0, 1.0)
    assert heat.dx == 2 and heat.dy == 2
    assert fig.layout.yaxis.autorange == "reversed"  # row 0 at the top, like the image
    assert fig.layout.title.text == "Probability of segment 2"
    assert heat.colorbar.title.text == "probability"
    with pytest.raises(ValueError):
        soft_map_figure(soft.ravel(), 2)


def test_downscale_keeps_small_arrays_and_strides_large_ones() -> None:
    small = np.zeros((50, 80, 3), dtype=np.uint8)
    out, step = downscale(small, max_side=100)
    assert step == 1 and out is small

    labels = np.arange(250 * 101).reshape(250, 101)
    out, step = downscale(labels, max_side=100)
    assert step == 3 and out.shape == (84, 34)  # ceil(250 / 3), ceil(101 / 3)
    np.testing.assert_array_equal(out, labels[::3, ::3])  # values kept exactly


def test_downscale_smooth_averages_blocks() -> None:
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    out, step = downscale(rgb, max_side=20, smooth=True)
    assert step == 3 and out.shape == (14, 20, 3) and out.dtype == np.uint8
    # Reference: the mean of each full 3 x 3 block (the last row of blocks is partial).
    means = rgb[:39].reshape(13, 3, 20, 3, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(out[:13].astype(float), means, atol=1.0)
    # Same shape as the strided copy, so original and segmented line up side by side.
    assert downscale(rgb[:, :, 0], max_side=20)[0].shape == out.shape[:2]
