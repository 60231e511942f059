"""Tests for analytics.studies.image: loading awkward files and colour segmentation.

Every image is built in memory (Pillow or numpy) so the tests need no files and
no network; scikit-learn's bundled sample photo is used as a real-world case.
"""

from __future__ import annotations

import io
import pickle
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from analytics.errors import FileFormatError, InputError
from analytics.studies.image import (
    _sample_indices,
    lab_to_rgb,
    load_image,
    pixel_features,
    rgb_to_lab,
    segment_image,
)

METHODS = ["kmeans", "fcm", "gmm"]
BLOCK_COLOURS = np.array([[200, 30, 30], [30, 160, 40], [40, 60, 210], [235, 220, 90]])


def blocks_image(noise: float = 4.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A 40 x 60 image of four flat colour blocks of different areas, plus noise.

    Returns the (40, 60, 3) uint8 image and the (40, 60) true block index.
    """
    truth = np.zeros((40, 60), dtype=int)
    truth[:, 30:] = 1  # 1200 px
    truth[25:, :30] = 2  # 450 px; block 0 keeps 750 px
    truth[30:, 45:] = 3  # 150 px; block 1 ends with 1050 px
    rng = np.random.default_rng(seed)
    img = BLOCK_COLOURS[truth] + rng.normal(0, noise, truth.shape + (3,))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), truth


def encode(img: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def png_with_header_size(width: int, height: int) -> bytes:
    """A valid small PNG whose IHDR claims width x height (CRC recomputed)."""
    data = bytearray(encode(Image.new("RGB", (8, 8), (10, 20, 30)), "PNG"))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


# ---------------------------------------------------------------------------------------
# Segmentation on synthetic images with known regions


@pytest.fixture(scope="module")
def blocks():
    return blocks_image()


@pytest.fixture(scope="module")
def results(blocks):
    img, _ = blocks
    return {method: segment_image(img, method, 4, random_state=0) for method in METHODS}


@pytest.mark.parametrize("method", METHODS)
def test_recovers_known_blocks(results, blocks, method):
    img, truth = blocks
    res = results[method]
    assert res.labels.shape == truth.shape
    assert adjusted_rand_score(truth.ravel(), res.labels.ravel()) == 1.0
    # Largest block first: block sizes are 1050 (1), 750 (0), 450 (2), 150 (3).
    expected_order = [1, 0, 2, 3]
    for segment, block in enumerate(expected_order, start=1):
        assert np.all(res.labels[truth == block] == segment)
        # Palette is the mean colour of the block's pixels (rounded).
        mean = img[truth == block].mean(axis=0)
        np.testing.assert_array_equal(res.palette[segment - 1], np.rint(mean).astype(np.uint8))


@pytest.mark.parametrize("method", METHODS)
def test_result_invariants(results, method):
    res = results[method]
    assert res.method == method and res.k == 4
    assert res.labels.min() == 1 and res.labels.max() == 4
    assert res.palette.shape == (4, 3) and res.palette.dtype == np.uint8
    assert res.recoloured.dtype == np.uint8
    np.testing.assert_array_equal(res.recoloured, res.palette[res.labels - 1])
    counts = np.bincount(res.labels.ravel(), minlength=5)[1:]
    assert np.all(np.diff(counts) <= 0), "segments must be numbered by descending area"
    np.testing.assert_allclose(res.shares, counts / res.labels.size)
    assert res.shares.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("method", METHODS)
def test_labels_match_fitted_model_predict(results, blocks, method):
    img, _ = blocks
    res = results[method]
    x = pixel_features(img.reshape(-1, 3), img.shape[:2]).astype(np.float64)
    component = res.estimator.predict(x)
    np.testing.assert_array_equal(res.segment_order[res.labels.ravel() - 1], component)


@pytest.mark.parametrize("method", ["fcm", "gmm"])
def test_soft_maps_are_memberships(results, blocks, method):
    img, truth = blocks
    res = results[method]
    assert res.has_soft_maps
    maps = np.stack([res.soft_map(s) for s in range(1, 5)])
    assert maps.dtype == np.float32 and maps.shape == (4,) + truth.shape
    assert maps.min() >= 0.0 and maps.max() <= 1.0
    np.testing.assert_allclose(maps.sum(axis=0), 1.0, atol=1e-5)
    # The hard label is the segment with the largest membership.
    np.testing.assert_array_equal(maps.argmax(axis=0) + 1, res.labels)
    # Same numbers as the fitted estimator's own predict_proba.
    x = pixel_features(img.reshape(-1, 3), img.shape[:2]).astype(np.float64)
    proba = res.estimator.predict_proba(x)[:, res.segment_order]
    np.testing.assert_allclose(maps.reshape(4, -1).T, proba, atol=1e-4)


@pytest.mark.parametrize("m", [1.5, 3.0])
def test_fcm_soft_maps_follow_fuzzifier(blocks, m):
    img, _ = blocks
    res = segment_image(img, "fcm", 3, m=m, include_position=True)
    assert res.estimator.m == m
    x = pixel_features(img.reshape(-1, 3), img.shape[:2], include_position=True)
    proba = res.estimator.predict_proba(x.astype(np.float64))[:, res.segment_order]
    maps = np.stack([res.soft_map(s).ravel() for s in range(1, 4)], axis=1)
    np.testing.assert_allclose(maps, proba, atol=1e-4)


@pytest.mark.parametrize("covariance_type", ["tied", "diag", "spherical"])
def test_gmm_covariance_types(blocks, covariance_type):
    img, truth = blocks
    res = segment_image(img, "gmm", 4, covariance_type=covariance_type)
    assert res.estimator.covariance_type == covariance_type
    assert adjusted_rand_score(truth.ravel(), res.labels.ravel()) == 1.0
    x = pixel_features(img.reshape(-1, 3), img.shape[:2]).astype(np.float64)
    proba = res.estimator.predict_proba(x)[:, res.segment_order]
    np.testing.assert_allclose(res.soft_map(2).ravel(), proba[:, 1], atol=1e-4)


def test_kmeans_soft_map_is_hard_assignment(results):
    res = results["kmeans"]
    assert not res.has_soft_maps
    np.testing.assert_array_equal(res.soft_map(2), (res.labels == 2).astype(np.float32))


def test_soft_map_rejects_bad_segment(results):
    with pytest.raises(InputError):
        results["gmm"].soft_map(0)
    with pytest.raises(InputError):
        results["gmm"].soft_map(5)


@pytest.mark.parametrize("method", METHODS)
def test_reproducible_by_seed(blocks, method):
    img, _ = blocks
    a = segment_image(img, method, 3, random_state=7, sample_size=500)
    b = segment_image(img, method, 3, random_state=7, sample_size=500)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.palette, b.palette)


@pytest.mark.parametrize("method", METHODS)
def test_lab_and_position_features_recover_blocks(blocks, method):
    img, truth = blocks
    for kwargs in ({"features": "lab"}, {"include_position": True}):
        res = segment_image(img, method, 4, **kwargs)
        assert adjusted_rand_score(truth.ravel(), res.labels.ravel()) == 1.0
        np.testing.assert_array_equal(res.recoloured, res.palette[res.labels - 1])


def test_sampled_fit_then_chunked_predict_covers_every_pixel(blocks):
    img, truth = blocks
    res = segment_image(img, "kmeans", 4, sample_size=200)
    assert any("sample of 200" in note for note in res.notes)
    assert adjusted_rand_score(truth.ravel(), res.labels.ravel()) == 1.0


def test_rare_colour_missed_by_sample_still_gets_a_segment():
    img = np.zeros((50, 50, 3), dtype=np.uint8)
    img[:, 25:] = (250, 250, 250)
    img[7, 3] = (255, 0, 0)  # one pixel, almost surely not in a 20-pixel sample
    res = segment_image(img, "kmeans", 3, sample_size=20)
    assert res.labels[7, 3] == 3
    assert np.count_nonzero(res.labels == 3) == 1
    np.testing.assert_array_equal(res.palette[2], [255, 0, 0])


def test_pngs_round_trip(results):
    res = results["gmm"]
    mask = Image.open(io.BytesIO(res.mask_png()))
    assert mask.mode == "L"
    np.testing.assert_array_equal(np.asarray(mask), res.labels)
    recoloured = Image.open(io.BytesIO(res.recoloured_png()))
    np.testing.assert_array_equal(np.asarray(recoloured.convert("RGB")), res.recoloured)


def test_result_pickles_for_caching(results):
    res = results["fcm"]
    back = pickle.loads(pickle.dumps(res))
    np.testing.assert_array_equal(back.soft_map(1), res.soft_map(1))


def test_accepts_png_bytes_and_pil_image(blocks):
    img, truth = blocks
    for source in (encode(Image.fromarray(img), "PNG"), Image.fromarray(img)):
        res = segment_image(source, "kmeans", 4)
        assert adjusted_rand_score(truth.ravel(), res.labels.ravel()) == 1.0


# ---------------------------------------------------------------------------------------
# Validation


@pytest.mark.parametrize("k", [1, 65, 2.5, True, "4"])
def test_invalid_k(blocks, k):
    with pytest.raises(InputError) as info:
        segment_image(blocks[0], "kmeans", k)
    assert info.value.code == "invalid_k"


def test_k_larger_than_distinct_colours():
    img = np.zeros((10, 10, 3), dtype=np.uint8)
    img[5:] = 255
    img[0, 0] = (255, 0, 0)
    with pytest.raises(InputError, match="distinct colours \\(3\\)") as info:
        segment_image(img, "kmeans", 4)
    assert info.value.code == "too_few_colours"


def test_unknown_method_lists_allowed(blocks):
    with pytest.raises(InputError) as info:
        segment_image(blocks[0], "dbscan", 3)
    for name in ("kmeans", "fcm", "gmm"):
        assert name in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"features": "hsv"},
        {"covariance_type": "banded"},
        {"sample_size": 2},
        {"max_pixels": 0},
        {"random_state": -1},
        {"random_state": "seed"},
    ],
)
def test_invalid_options(blocks, kwargs):
    with pytest.raises(InputError):
        segment_image(blocks[0], "gmm", 3, **kwargs)


@pytest.mark.parametrize("m", [1.0, 0.5, float("nan")])
def test_fcm_rejects_bad_fuzzifier(blocks, m):
    with pytest.raises(InputError, match="greater than 1"):
        segment_image(blocks[0], "fcm", 3, m=m)


# ---------------------------------------------------------------------------------------
# Colour space


def test_lab_reference_values():
    rgb = np.array([[255, 255, 255], [0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]])
    expected = np.array(
        [
            [100.0, 0.0, 0.0],
            [0.0, 0.0, 0.0],
            [53.2408, 80.0925, 67.2032],
            [87.7347, -86.1827, 83.1793],
            [32.2970, 79.1875, -107.8602],
        ]
    )
    np.testing.assert_allclose(rgb_to_lab(rgb.astype(np.uint8)), expected, atol=0.02)


def test_lab_round_trip():
    rgb = np.random.default_rng(1).integers(0, 256, (500, 3)).astype(np.uint8)
    np.testing.assert_array_equal(lab_to_rgb(rgb_to_lab(rgb)), rgb)


# ---------------------------------------------------------------------------------------
# Loading awkward formats


def test_rgba_transparency_flattened_onto_white():
    rgba = np.zeros((4, 6, 4), dtype=np.uint8)
    rgba[:, :2] = (255, 0, 0, 0)  # fully transparent red -> white
    rgba[:, 2:4] = (255, 0, 0, 128)  # half-transparent red -> pink
    rgba[:, 4:] = (0, 0, 255, 255)  # opaque blue stays blue
    for source in (encode(Image.fromarray(rgba), "PNG"), rgba):
        rgb, notes = load_image(source)
        assert rgb.shape == (4, 6, 3) and rgb.dtype == np.uint8
        np.testing.assert_array_equal(rgb[0, 0], [255, 255, 255])
        np.testing.assert_array_equal(rgb[0, 2], [255, 127, 127])
        np.testing.assert_array_equal(rgb[0, 5], [0, 0, 255])
        assert any("white" in note for note in notes)


def test_la_flattened_onto_white():
    la = Image.merge(
        "LA",
        [
            Image.new("L", (4, 4), 100),
            Image.fromarray(np.array([[0] * 4, [255] * 4] * 2, dtype=np.uint8)),
        ],
    )
    rgb, notes = load_image(encode(la, "PNG"))
    np.testing.assert_array_equal(rgb[0, 0], [255, 255, 255])
    np.testing.assert_array_equal(rgb[1, 0], [100, 100, 100])
    assert any("white" in note for note in notes)


def _palette_image() -> Image.Image:
    p = Image.new("P", (4, 2))
    p.putpalette([255, 0, 0, 0, 128, 0] + [0] * (254 * 3))
    p.putdata([0, 0, 1, 1, 0, 1, 0, 1])
    return p


def test_palette_without_transparency():
    rgb, notes = load_image(encode(_palette_image(), "PNG"))
    np.testing.assert_array_equal(rgb[0, 0], [255, 0, 0])
    np.testing.assert_array_equal(rgb[0, 2], [0, 128, 0])
    assert any("Palette" in note for note in notes)


def test_palette_with_transparency():
    for fmt in ("PNG", "GIF"):
        rgb, notes = load_image(encode(_palette_image(), fmt, transparency=1))
        np.testing.assert_array_equal(rgb[0, 0], [255, 0, 0])
        np.testing.assert_array_equal(rgb[0, 2], [255, 255, 255])
        assert any("white" in note for note in notes), fmt


def test_16bit_greyscale_rescaled_not_clipped():
    values = np.zeros((4, 4), dtype=np.uint16)
    values[:, 1] = 1000
    values[:, 2] = 30000
    values[:, 3] = 65535
    img = Image.fromarray(values)
    assert img.mode == "I;16"
    rgb, notes = load_image(encode(img, "PNG"))
    grey = rgb[0, :, 0]
    np.testing.assert_array_equal(grey, np.rint(values[0] / 65535 * 255))
    assert grey[3] == 255 and grey[0] == 0
    assert np.all(rgb[..., 0] == rgb[..., 2])
    assert any("16-bit" in note and "65535" in note for note in notes)
    # A narrow 16-bit range is stretched by its actual range, not divided by 257.
    narrow = Image.fromarray(np.array([[2000, 3000], [2500, 2000]], dtype=np.uint16))
    rgb, _ = load_image(encode(narrow, "PNG"))
    np.testing.assert_array_equal(rgb[..., 0], [[0, 255], [128, 0]])


def test_float_image_rescaled_by_range():
    values = np.array([[-5.0, 0.0], [1.0, 3.5]], dtype=np.float32)
    img = Image.fromarray(values)
    assert img.mode == "F"
    rgb, notes = load_image(encode(img, "TIFF"))
    expected = np.rint((values - values.min()) / (values.max() - values.min()) * 255)
    np.testing.assert_array_equal(rgb[..., 1], expected)
    assert any("floating-point" in note for note in notes)


def test_cmyk_jpeg_converted():
    cmyk = Image.new("CMYK", (16, 16), (255, 0, 0, 0))  # pure cyan ink
    rgb, notes = load_image(encode(cmyk, "JPEG", quality=95))
    assert rgb.shape == (16, 16, 3)
    np.testing.assert_allclose(rgb[8, 8], [0, 255, 255], atol=3)
    assert any("CMYK" in note for note in notes)


def test_exif_orientation_applied():
    stored = np.zeros((20, 40, 3), dtype=np.uint8)  # 40 wide, 20 high as stored
    stored[:, :20] = (250, 0, 0)
    stored[:, 20:] = (0, 0, 250)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to display"
    data = encode(Image.fromarray(stored), "JPEG", exif=exif, quality=95)
    rgb, notes = load_image(data)
    assert rgb.shape == (40, 20, 3)  # width and height swapped
    decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    np.testing.assert_array_equal(rgb, np.rot90(decoded, k=-1))
    # After a clockwise turn the red left half is on top.
    assert rgb[5, 10, 0] > 200 and rgb[35, 10, 2] > 200
    assert any("EXIF" in note for note in notes)


def test_animated_gif_uses_first_frame():
    frames = [
        Image.new("RGB", (8, 8), colour) for colour in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    ]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=50)
    rgb, notes = load_image(buffer.getvalue())
    np.testing.assert_array_equal(rgb[4, 4], [255, 0, 0])
    assert any("3 frames" in note and "first frame" in note for note in notes)


@pytest.mark.parametrize("size", [(100_000, 100_000), (12_000, 10_000)])
def test_decompression_bomb_rejected_from_header(size):
    # 1e10 pixels trips Pillow's own DecompressionBombError; 1.2e8 only its warning.
    with pytest.raises(InputError) as info:
        load_image(png_with_header_size(*size))
    assert info.value.code == "too_many_pixels"
    assert "50,000,000" in str(info.value)


def test_max_pixels_limit():
    data = encode(Image.new("RGB", (20, 10)), "PNG")
    with pytest.raises(InputError, match="200 pixels") as info:
        load_image(data, max_pixels=199)
    assert info.value.code == "too_many_pixels"
    assert load_image(data, max_pixels=200)[0].shape == (10, 20, 3)
    with pytest.raises(InputError) as info:
        load_image(np.zeros((20, 20, 3), dtype=np.uint8), max_pixels=100)
    assert info.value.code == "too_many_pixels"


def _noisy_image() -> Image.Image:
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (64, 64, 3)).astype(np.uint8))


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(np.random.default_rng(0).bytes(5000), id="random-bytes"),
        pytest.param(b"name,age\nAda,36\nGrace,45\n", id="text"),
        pytest.param(encode(_noisy_image(), "PNG")[:3000], id="truncated-png"),
        pytest.param(encode(_noisy_image(), "JPEG")[:2000], id="truncated-jpeg"),
        pytest.param(b"", id="empty"),
    ],
)
def test_unreadable_files_raise_file_format_error(data):
    with pytest.raises(FileFormatError) as info:
        load_image(data)
    message = str(info.value)
    assert message and "Traceback" not in message and "PIL" not in message


_VALID_FILES = {
    fmt: encode(_noisy_image().resize((24, 16)), fmt)
    for fmt in ("PNG", "JPEG", "GIF", "BMP", "TIFF")
}


@settings(max_examples=80, deadline=None)
@given(
    fmt=st.sampled_from(sorted(_VALID_FILES)),
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), max_size=6),
)
def test_damaged_files_load_or_raise_input_error(fmt, cut, flips):
    """Truncating or corrupting a valid file never lets a raw decoder error escape."""
    data = bytearray(_VALID_FILES[fmt])
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    data = bytes(data[: max(1, int(cut * len(data)))])
    try:
        rgb, _ = load_image(data)
    except InputError as exc:
        assert str(exc)
    else:
        assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3


def test_text_file_path_and_missing_path(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("just some text\n")
    with pytest.raises(FileFormatError):
        load_image(path)
    with pytest.raises(InputError) as info:
        load_image(tmp_path / "nope.png")
    assert info.value.code == "file_not_found"


def test_path_and_file_like_sources(tmp_path, blocks):
    img, _ = blocks
    path = tmp_path / "blocks.png"
    Image.fromarray(img).save(path)
    np.testing.assert_array_equal(load_image(path)[0], img)
    np.testing.assert_array_equal(load_image(str(path))[0], img)
    np.testing.assert_array_equal(load_image(io.BytesIO(path.read_bytes()))[0], img)


def test_arrays_of_any_dtype():
    grey = np.array([[10.0, 20.0], [30.0, 50.0]])
    rgb, notes = load_image(grey)
    assert rgb.shape == (2, 2, 3)
    np.testing.assert_array_equal(rgb[..., 0], [[0, 64], [128, 255]])
    assert notes
    wide = np.array([[[0, 30000, 65535]]], dtype=np.uint16)
    np.testing.assert_array_equal(load_image(wide)[0][0, 0], [0, 117, 255])
    np.testing.assert_array_equal(
        load_image(np.eye(2, dtype=bool))[0][..., 0], [[255, 0], [0, 255]]
    )
    with_nan = np.array([[0.0, np.nan], [1.0, 0.5]])
    rgb, notes = load_image(with_nan)
    assert rgb[0, 1, 0] == 0 and rgb[1, 0, 0] == 255
    assert any("missing" in note for note in notes)
    uint8 = np.full((3, 3, 3), 7, dtype=np.uint8)
    rgb, notes = load_image(uint8)
    np.testing.assert_array_equal(rgb, uint8)
    assert notes == []


@pytest.mark.parametrize(
    "bad", [np.zeros((4, 4, 5)), np.zeros(10), np.array([["a", "b"]], dtype=object)]
)
def test_bad_arrays(bad):
    with pytest.raises(InputError):
        load_image(bad)


def test_unsupported_source_type():
    with pytest.raises(InputError):
        load_image(12345)


# ---------------------------------------------------------------------------------------
# A real photo (bundled with scikit-learn, no download)


def test_sklearn_sample_photo_matches_kmeans_reference():
    from sklearn.datasets import load_sample_image

    photo = load_sample_image("china.jpg")
    assert photo.shape == (427, 640, 3)
    res = segment_image(photo, "kmeans", 4, random_state=0, sample_size=20_000)
    x_all = pixel_features(photo.reshape(-1, 3), photo.shape[:2])
    sample = _sample_indices(x_all.shape[0], 20_000, np.random.default_rng(0))
    reference = KMeans(4, n_init=3, random_state=0).fit(x_all[sample]).predict(x_all)
    assert adjusted_rand_score(reference, res.labels.ravel()) > 0.95
    assert res.shares.sum() == pytest.approx(1.0)
