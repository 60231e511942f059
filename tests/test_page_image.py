"""AppTest of the Image segmentation page: bundled photo, k-means / GMM, uploads, bad files."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_sample_image
from streamlit.testing.v1 import AppTest

from tests.apptest_support import open_page
from ui.state import IMAGE, IMAGE_RESULT

PAGE = "views/image.py"


def png_bytes(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def blocks() -> np.ndarray:
    """24 x 32 image of three flat colours: red left half, green and blue quarters."""
    img = np.zeros((24, 32, 3), dtype=np.uint8)
    img[:, :16] = (210, 40, 40)
    img[:12, 16:] = (40, 190, 60)
    img[12:, 16:] = (30, 50, 200)
    return img


def chart_keys(at: AppTest) -> list[str]:
    return [c.proto.id.rsplit("-", 1)[-1] for c in at.get("plotly_chart")]


def chart_spec(at: AppTest, key: str) -> dict:
    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith("-" + key))
    return json.loads(chart.proto.spec)


def typed_array(value: dict | list) -> np.ndarray:
    """Plotly's JSON form of a numpy array ({dtype, bdata, shape}) back to an array."""
    if isinstance(value, list):
        return np.asarray(value)
    flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    shape = value.get("shape")  # 1-D arrays have none
    return flat.reshape([int(n) for n in shape.split(",")]) if shape else flat


def segment(at: AppTest, method: str, k: int = 3) -> AppTest:
    at.selectbox(key="w_img_method").set_value(method)
    at.number_input(key="w_img_k").set_value(k)
    at.run()
    at.button(key="img_segment").click()
    at.run()
    assert not at.exception
    return at


@pytest.fixture
def at() -> AppTest:
    return open_page(PAGE, "Image segmentation", timeout=90)


def test_first_load_shows_the_bundled_photo(at: AppTest) -> None:
    img = at.session_state[IMAGE]
    np.testing.assert_array_equal(img["rgb"], load_sample_image("china.jpg"))
    assert at.subheader[0].value == "Chinese temple (china.jpg)"
    assert not at.error
    assert chart_keys(at) == ["img_original"]
    assert any("press **Segment**" in i.value for i in at.info)
    assert not at.get("download_button")
    help_text = at.file_uploader(key="img_upload").proto.help
    assert "50 megapixels" in help_text and "200 MB" in help_text


def test_kmeans_then_gmm_with_soft_map_palette_and_downloads(at: AppTest) -> None:
    segment(at, "kmeans", 3)
    assert not at.error
    seg = at.session_state[IMAGE_RESULT].seg
    assert seg.method == "kmeans" and seg.k == 3 and seg.labels.shape == (427, 640)
    assert chart_keys(at) == ["img_original", "img_segmented", "img_palette"]
    bar = chart_spec(at, "img_palette")["data"][0]
    np.testing.assert_allclose(typed_array(bar["y"]), seg.shares)
    assert any("k-means gives hard regions" in c.value for c in at.caption)
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Segmented image (PNG)", "Label mask (PNG)"]

    segment(at, "gmm", 3)
    assert not at.error
    seg = at.session_state[IMAGE_RESULT].seg
    assert seg.method == "gmm" and seg.has_soft_maps
    assert chart_keys(at) == ["img_original", "img_segmented", "img_palette", "img_soft_map"]
    at.selectbox(key="w_img_soft_3").set_value(2)
    at.run()
    assert not at.exception
    heat = chart_spec(at, "img_soft_map")["data"][0]
    assert heat["type"] == "heatmap"
    np.testing.assert_allclose(typed_array(heat["z"]), seg.soft_map(2), atol=1e-6)
    assert len(at.get("download_button")) == 2

    # The result and the controls survive a visit to another page.
    result = at.session_state[IMAGE_RESULT]
    at.switch_page("views/data.py")
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception
    assert at.session_state[IMAGE_RESULT] is result
    assert at.selectbox(key="w_img_method").value == "gmm"
    assert "img_soft_map" in chart_keys(at)


def test_upload_png_then_bad_bytes_keep_the_previous_image(at: AppTest) -> None:
    rgb = blocks()
    at.file_uploader(key="img_upload").set_value(("blocks.png", png_bytes(rgb), "image/png"))
    at.run()
    assert not at.exception and not at.error
    img = at.session_state[IMAGE]
    assert img["name"] == "blocks.png"
    np.testing.assert_array_equal(img["rgb"], rgb)

    segment(at, "kmeans", 3)
    seg = at.session_state[IMAGE_RESULT].seg
    np.testing.assert_allclose(seg.shares, [0.5, 0.25, 0.25])  # the block areas
    np.testing.assert_array_equal(seg.recoloured, rgb)  # flat blocks keep their colour

    noise = np.random.default_rng(0).bytes(3000)
    at.file_uploader(key="img_upload").set_value(("noise.png", noise, "image/png"))
    at.run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "Could not load 'noise.png'" in message and "still in use" in message
    assert "Traceback" not in message
    assert at.session_state[IMAGE] is img  # the previous image stays, and so does its result
    assert at.session_state[IMAGE_RESULT].seg is seg
    at.run()  # a rerun neither re-reads the file nor loses the message
    assert not at.exception and len(at.error) == 1


def test_too_many_segments_for_the_colours_is_a_plain_error(at: AppTest) -> None:
    two = np.zeros((10, 10, 3), dtype=np.uint8)
    two[:, 5:] = 255
    at.file_uploader(key="img_upload").set_value(("two.png", png_bytes(two), "image/png"))
    at.run()
    segment(at, "gmm", 3)
    assert at.error and "distinct colours (2)" in at.error[0].value
    assert at.session_state[IMAGE_RESULT] is None
    assert at.session_state[IMAGE]["name"] == "two.png"


def test_use_bundled_photo_button(at: AppTest) -> None:
    segment(at, "kmeans", 2)
    at.selectbox(key="w_img_photo").set_value("flower.jpg")
    at.button(key="img_use_photo").click()
    at.run()
    assert not at.exception
    np.testing.assert_array_equal(at.session_state[IMAGE]["rgb"], load_sample_image("flower.jpg"))
    assert at.session_state[IMAGE_RESULT] is None  # a new image drops the old result
    assert chart_keys(at) == ["img_original"]
