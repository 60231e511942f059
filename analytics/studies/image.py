"""Colour segmentation of images: k-means, fuzzy c-means or a Gaussian mixture over pixels.

The model is fitted on a seeded random sample of pixels and then applied to every
pixel in fixed-size chunks, so a 12-megapixel photo segments in about a second and
memory stays bounded. :func:`load_image` turns whatever the analyst uploads (a path,
bytes, a PIL image or an array) into an (H, W, 3) uint8 RGB array and says, in
plain words, what it had to do on the way (flatten transparency, rescale 16-bit
data, take the first frame of an animation, ...).
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from analytics.constants import COVARIANCE_TYPES, MAX_K, METHODS
from analytics.errors import FileFormatError, InputError, ModelError
from analytics.model.segment_model import SegmentModel

__all__ = ["ImageSegmentation", "load_image", "pixel_features", "segment_image"]

FEATURES = ("rgb", "lab")
MIN_K = 2
DEFAULT_MAX_PIXELS = 50_000_000

# Pixels per chunk when applying a model. 64k pixels x 8 centres in float32 is a
# 2 MB score matrix that stays in cache: measured ~2x faster than 500k-pixel chunks,
# and temporaries stay tiny next to the image itself.
_CHUNK = 1 << 16
# Position (x, y in [0, 1]) is multiplied by this so that colour still dominates:
# opposite corners end up 0.35 apart, the RGB distance between two greys 50 levels apart.
_POSITION_WEIGHT = 0.25
_ORIENTATION_TAG = 0x0112

# sRGB (D65) -> linear light lookup for the 256 possible 8-bit values.
_LEVELS = np.arange(256, dtype=np.float64) / 255.0
_SRGB_TO_LINEAR = np.where(
    _LEVELS <= 0.04045, _LEVELS / 12.92, ((_LEVELS + 0.055) / 1.055) ** 2.4
).astype(np.float32)
_SRGB_TO_LINEAR.flags.writeable = False
_RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_WHITE_D65 = np.array([0.95047, 1.0, 1.08883])
# Rows of this matrix already divide by the white point, so XYZ/white = linear @ M.
_LINEAR_TO_XYZ_N = (_RGB_TO_XYZ / _WHITE_D65[:, None]).T.astype(np.float32)
_LINEAR_TO_XYZ_N.flags.writeable = False
_DELTA = 6.0 / 29.0


# ---------------------------------------------------------------------------------------
# Result type


@dataclass(eq=False)
class ImageSegmentation:
    """A segmented image.

    Attributes
    ----------
    labels : ndarray of shape (H, W), int32
        Segment of every pixel, 1..k, numbered by descending area (1 = largest).
    palette : ndarray of shape (k, 3), uint8
        Mean RGB colour of each segment's pixels (row ``s - 1`` is segment ``s``).
    recoloured : ndarray of shape (H, W, 3), uint8
        Every pixel painted in its segment's colour, ``palette[labels - 1]``.
    shares : ndarray of shape (k,)
        Fraction of the image's pixels in each segment; sums to 1.
    method : str
        ``"kmeans"``, ``"fcm"`` or ``"gmm"``.
    k : int
        Number of segments.
    notes : list of str
        What was done to the input and any fitting caveats, in plain words.
    estimator : estimator
        The fitted estimator (KMeans, FuzzyCMeans or GaussianMixture). Its
        component ``segment_order[s - 1]`` is segment ``s``.
    model : SegmentModel
        The one scorer (no preparation: pixels are features already), components in
        the estimator's order; used for every pixel's segment and soft maps.
    segment_order : ndarray of shape (k,)
        Model component index of each segment.
    features : str
        ``"rgb"`` or ``"lab"``; with ``include_position`` the model also saw x, y.
    include_position : bool
        Whether pixel position was part of the features.
    image : ndarray of shape (H, W, 3), uint8
        The decoded input, kept so :meth:`soft_map` can be computed on demand.
    """

    labels: np.ndarray
    palette: np.ndarray
    recoloured: np.ndarray
    shares: np.ndarray
    method: str
    k: int
    notes: list[str]
    estimator: Any = field(repr=False)
    model: SegmentModel = field(repr=False)
    segment_order: np.ndarray = field(repr=False)
    features: str = "rgb"
    include_position: bool = False
    image: np.ndarray | None = field(default=None, repr=False)

    @property
    def has_soft_maps(self) -> bool:
        """True when segments have graded memberships (FCM) or probabilities (GMM)."""
        return self.method in ("fcm", "gmm")

    def soft_map(self, segment: int) -> np.ndarray:
        """Membership (FCM) or posterior probability (GMM) of one segment for every pixel.

        Computed on demand in chunks, so only one (H, W) map is held at a time.
        For k-means the map is the hard assignment (1 inside the segment, 0 outside).

        Parameters
        ----------
        segment : int
            Segment number, 1..k.

        Returns
        -------
        ndarray of shape (H, W), float32, values in [0, 1]
        """
        if isinstance(segment, bool) or not isinstance(segment, (int, np.integer)):
            raise InputError(
                f"segment must be a whole number between 1 and {self.k}, got {segment!r}.",
                code="invalid_segment",
            )
        if not 1 <= int(segment) <= self.k:
            raise InputError(
                f"segment must be between 1 and {self.k}, got {int(segment)}.",
                code="invalid_segment",
            )
        if self.method == "kmeans" or self.image is None:
            return (self.labels == int(segment)).astype(np.float32)
        component = int(self.segment_order[int(segment) - 1])
        height, width = self.labels.shape
        flat = self.image.reshape(-1, 3)
        out = np.empty(height * width, dtype=np.float32)
        for start in range(0, flat.shape[0], _CHUNK):
            stop = min(start + _CHUNK, flat.shape[0])
            x = pixel_features(
                flat[start:stop], (height, width), self.features, self.include_position, start
            )
            out[start:stop] = self.model.proba_of(x)[:, component]
        return out.reshape(height, width)

    def mask_png(self) -> bytes:
        """The label mask as an 8-bit greyscale PNG whose pixel value is the segment number."""
        return _png_bytes(self.labels.astype(np.uint8))

    def recoloured_png(self) -> bytes:
        """The recoloured image as an RGB PNG."""
        return _png_bytes(self.recoloured)


def _png_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, format="PNG")
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------
# Loading


def load_image(source: Any, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[np.ndarray, list[str]]:
    """Decode an image into an RGB array, reporting every conversion made.

    Parameters
    ----------
    source : str, os.PathLike, bytes, file-like, PIL.Image.Image or ndarray
        A file path, the file's bytes (e.g. an upload), an open PIL image, or an
        array of shape (H, W), (H, W, 3) or (H, W, 4) of any numeric dtype.
    max_pixels : int
        Largest width x height accepted; checked from the file header before
        decoding, so a small "decompression bomb" file cannot exhaust memory.

    Returns
    -------
    rgb : ndarray of shape (H, W, 3), uint8
    notes : list of str
        Plain-language notes (EXIF rotation, transparency flattened, rescaling, ...).

    Raises
    ------
    FileFormatError
        The data is not a readable image (unknown format, truncated, damaged).
    InputError
        Code ``"too_many_pixels"`` above ``max_pixels``; ``"file_not_found"``; bad arrays.
    """
    _check_int("max_pixels", max_pixels, 1)
    if isinstance(source, np.ndarray):
        return _array_to_rgb(source, max_pixels)
    if isinstance(source, Image.Image):
        _check_pixel_count(source.size, max_pixels)
        return _decode(source, max_pixels)
    data = _read_source(source)
    if not data:
        raise FileFormatError("The image file is empty.", code="empty_file")
    # Pillow warns above Image.MAX_IMAGE_PIXELS and raises above twice that; our own
    # max_pixels check is the authority, so that warning is dropped. Other warnings
    # (e.g. a short TIFF strip) mean damage the analyst should hear about.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            img = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as exc:
            raise _too_many_pixels_error(None, max_pixels) from exc
        except UnidentifiedImageError as exc:
            raise FileFormatError(
                "This file is not an image format we can read. "
                "Upload a PNG, JPEG, GIF, BMP, TIFF or WebP file.",
                code="not_an_image",
            ) from exc
        except MemoryError:
            raise
        except Exception as exc:  # untrusted bytes: Pillow plugins raise
            # OSError, SyntaxError, struct.error, zlib.error, ... on damaged headers.
            raise _damaged_error() from exc
        # Only the header has been read so far: reject huge images before decoding.
        _check_pixel_count(img.size, max_pixels)
        rgb, notes = _decode(img, max_pixels)
    return rgb, _warning_notes(caught) + notes


def _warning_notes(caught: list[warnings.WarningMessage]) -> list[str]:
    return [
        f"While decoding, the image library reported: {w.message}. "
        "The file may be damaged or incomplete."
        for w in caught
        if not issubclass(w.category, (Image.DecompressionBombWarning, DeprecationWarning))
    ]


def _read_source(source: Any) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise InputError(f"No image file found at {path!r}.", code="file_not_found")
        with open(path, "rb") as handle:
            return handle.read()
    if hasattr(source, "read"):
        if hasattr(source, "seek"):
            source.seek(0)
        data = source.read()
        if isinstance(data, str):
            raise FileFormatError(
                "The file was opened as text; an image must be read as bytes.",
                code="not_an_image",
            )
        return bytes(data)
    raise InputError(
        "image must be a file path, the file's bytes, a PIL image or a numpy array, "
        f"got {type(source).__name__}.",
        code="invalid_image",
    )


def _damaged_error() -> FileFormatError:
    return FileFormatError(
        "The image file is damaged or incomplete (it may have been cut short during "
        "upload) and cannot be decoded. Re-export or re-upload it.",
        code="damaged_image",
    )


def _too_many_pixels_error(size: tuple[int, int] | None, max_pixels: int) -> InputError:
    what = (
        f"{size[0]:,} x {size[1]:,} = {size[0] * size[1]:,} pixels"
        if size
        else "far too many pixels"
    )
    return InputError(
        f"The image is too large ({what}); the limit is {max_pixels:,} pixels. "
        "Resize it before uploading.",
        code="too_many_pixels",
    )


def _check_pixel_count(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise _too_many_pixels_error((width, height), max_pixels)
    if width * height == 0:
        raise FileFormatError("The image has no pixels.", code="empty_image")


def _decode(img: Image.Image, max_pixels: int) -> tuple[np.ndarray, list[str]]:
    """Decode an opened PIL image (header already checked) to RGB uint8."""
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            n_frames = int(getattr(img, "n_frames", 1) or 1)
            if n_frames > 1:
                img.seek(0)
                notes.append(
                    f"The file holds {n_frames} frames (an animation or multi-page file); "
                    "only the first frame is used."
                )
            img.load()
            img = _apply_orientation(img, notes)
            rgb = _pil_to_rgb(img, notes)
        except (InputError, MemoryError):
            raise
        except Exception as exc:  # any decoder failure means a damaged file
            raise _damaged_error() from exc
    notes = _warning_notes(caught) + notes
    _check_pixel_count((rgb.shape[1], rgb.shape[0]), max_pixels)
    return rgb, notes


def _apply_orientation(img: Image.Image, notes: list[str]) -> Image.Image:
    try:
        orientation = img.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # a damaged EXIF block must not stop the image from loading
        notes.append("The photo's EXIF data could not be read; it is shown as stored.")
        return img
    if orientation in (2, 3, 4, 5, 6, 7, 8):
        img = ImageOps.exif_transpose(img)
        notes.append(
            f"Rotated/flipped upright using the camera's EXIF orientation ({orientation})."
        )
    return img


def _pil_to_rgb(img: Image.Image, notes: list[str]) -> np.ndarray:
    mode = img.mode
    if mode == "RGB":
        return np.asarray(img, dtype=np.uint8)
    if mode in ("I", "F") or mode.startswith("I;16"):
        grey = np.asarray(img)
        depth = (
            "16-bit" if mode.startswith("I;16") else ("32-bit" if mode == "I" else "floating-point")
        )
        scaled, note = _rescale_to_uint8(grey, f"{depth} greyscale")
        notes.append(note)
        return np.repeat(scaled[:, :, None], 3, axis=2)
    if mode in ("1", "L"):
        grey = np.asarray(img.convert("L"), dtype=np.uint8)
        notes.append("Greyscale image: the three colour channels are equal.")
        return np.repeat(grey[:, :, None], 3, axis=2)
    if mode == "P":
        palette = getattr(img, "palette", None)
        has_alpha = "transparency" in img.info or getattr(palette, "mode", "") == "RGBA"
        if not has_alpha:
            notes.append("Palette (indexed-colour) image converted to RGB.")
            return np.asarray(img.convert("RGB"), dtype=np.uint8)
        img = img.convert("RGBA")
        notes.append("Palette (indexed-colour) image converted to RGB.")
        mode = "RGBA"
    if mode == "CMYK":
        notes.append("CMYK image converted to RGB (approximately: no colour profile applied).")
        return np.asarray(img.convert("RGB"), dtype=np.uint8)
    if "A" in img.getbands() or mode in ("RGBa", "La", "PA"):
        rgba = np.asarray(img.convert("RGBA"), dtype=np.uint8)
        return _flatten_alpha(rgba[:, :, :3], rgba[:, :, 3].astype(np.float32) / 255.0, notes)
    try:
        converted = img.convert("RGB")
    except ValueError as exc:
        raise FileFormatError(
            f"Images in colour mode {mode!r} are not supported; save it as RGB.",
            code="unsupported_image_mode",
        ) from exc
    notes.append(f"{mode} image converted to RGB.")
    return np.asarray(converted, dtype=np.uint8)


def _flatten_alpha(rgb: np.ndarray, alpha: np.ndarray, notes: list[str]) -> np.ndarray:
    """Composite onto white; alpha is (H, W) float in [0, 1]."""
    if np.all(alpha >= 1.0):
        notes.append("The alpha channel is fully opaque and was dropped.")
        return np.ascontiguousarray(rgb, dtype=np.uint8)
    a = alpha[:, :, None]
    out = rgb.astype(np.float32) * a + 255.0 * (1.0 - a)
    notes.append("Transparent areas were flattened onto a white background.")
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _rescale_to_uint8(values: np.ndarray, what: str) -> tuple[np.ndarray, str]:
    """Map the actual finite min..max range linearly onto 0..255 (never clipped)."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        raise InputError("The image has no finite pixel values.", code="empty_image")
    lo = float(values[finite].min())
    hi = float(values[finite].max())
    if hi > lo:
        scaled = (values - lo) * (255.0 / (hi - lo))
    else:  # a constant image: keep its value where it fits the 8-bit range
        scaled = np.full_like(values, min(max(lo, 0.0), 255.0))
    scaled[~finite] = 0.0
    out = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    note = f"{what} image rescaled from its value range {lo:g}..{hi:g} to 0..255."
    if not finite.all():
        note += f" {int((~finite).sum()):,} missing/infinite values were set to black."
    return out, note


def _array_to_rgb(array: np.ndarray, max_pixels: int) -> tuple[np.ndarray, list[str]]:
    notes: list[str] = []
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (2, 3, 4)):
        raise InputError(
            "An image array must have shape (height, width), (height, width, 3) or "
            f"(height, width, 4); got {a.shape}.",
            code="invalid_image",
        )
    if a.dtype.kind not in "biuf":
        raise InputError(
            f"An image array must hold numbers, got dtype {a.dtype}.", code="invalid_image"
        )
    _check_pixel_count((a.shape[1], a.shape[0]), max_pixels)
    if a.ndim == 2:
        colour, alpha = a[:, :, None], None
    elif a.shape[2] == 2:
        colour, alpha = a[:, :, :1], a[:, :, 1]
    else:
        colour, alpha = a[:, :, :3], (a[:, :, 3] if a.shape[2] == 4 else None)
    if colour.dtype == np.uint8:
        rgb8 = colour
    else:
        rgb8, note = _rescale_to_uint8(colour, f"{a.dtype} array")
        notes.append(note)
    if rgb8.shape[2] == 1:
        rgb8 = np.repeat(rgb8, 3, axis=2)
    if alpha is not None:
        rgb8 = _flatten_alpha(rgb8, _alpha_to_unit(alpha), notes)
    return np.ascontiguousarray(rgb8, dtype=np.uint8), notes


def _alpha_to_unit(alpha: np.ndarray) -> np.ndarray:
    """Alpha of any dtype as float32 in [0, 1] (integers use their dtype's full scale)."""
    if alpha.dtype == np.bool_:
        return alpha.astype(np.float32)
    if alpha.dtype.kind in "iu":
        return np.clip(alpha.astype(np.float32) / float(np.iinfo(alpha.dtype).max), 0.0, 1.0)
    unit = np.nan_to_num(alpha.astype(np.float32), nan=1.0)
    return np.clip(unit, 0.0, 1.0)


# ---------------------------------------------------------------------------------------
# Features


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of sRGB colours.

    Parameters
    ----------
    rgb : ndarray of shape (n, 3), uint8

    Returns
    -------
    ndarray of shape (n, 3), float32: L in 0..100, a and b roughly -128..127.
    """
    linear = _SRGB_TO_LINEAR[np.asarray(rgb, dtype=np.uint8)]
    t = linear @ _LINEAR_TO_XYZ_N
    f = np.where(t > _DELTA**3, np.cbrt(t), t / (3 * _DELTA**2) + 4.0 / 29.0)
    lab = np.empty_like(f)
    lab[:, 0] = 116.0 * f[:, 1] - 16.0
    lab[:, 1] = 500.0 * (f[:, 0] - f[:, 1])
    lab[:, 2] = 200.0 * (f[:, 1] - f[:, 2])
    return lab


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rgb_to_lab`: (n, 3) Lab -> (n, 3) uint8 sRGB (out-of-gamut clipped)."""
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[:, 0] + 16.0) / 116.0
    f = np.stack([fy + lab[:, 1] / 500.0, fy, fy - lab[:, 2] / 200.0], axis=1)
    t = np.where(f > _DELTA, f**3, 3 * _DELTA**2 * (f - 4.0 / 29.0))
    linear = (t * _WHITE_D65) @ np.linalg.inv(_RGB_TO_XYZ).T
    linear = np.clip(linear, 0.0, 1.0)
    srgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.clip(np.rint(srgb * 255.0), 0, 255).astype(np.uint8)


def pixel_features(
    rgb: np.ndarray,
    shape: tuple[int, int],
    features: str = "rgb",
    include_position: bool = False,
    start: int = 0,
) -> np.ndarray:
    """The feature vectors the models see for a run of pixels.

    Parameters
    ----------
    rgb : ndarray of shape (n, 3), uint8
        Pixels in row-major order.
    shape : (H, W)
        Image size, to turn flat pixel indices into positions.
    features : {"rgb", "lab"}
        RGB scaled to 0..1, or CIELAB divided by 100 (similar scale).
    include_position : bool
        Append x and y scaled to [0, 1] and weighted by 0.25.
    start : int or ndarray of shape (n,)
        Flat index of the first pixel (a run) or of every pixel (a sample).

    Returns
    -------
    ndarray of shape (n, 3) or (n, 5), float32
    """
    if features == "lab":
        colour = rgb_to_lab(rgb) / np.float32(100.0)
    else:
        colour = np.asarray(rgb, dtype=np.float32) * np.float32(1.0 / 255.0)
    if not include_position:
        return colour
    height, width = shape
    if np.ndim(start) == 0:
        index = np.arange(int(start), int(start) + rgb.shape[0])
    else:
        index = np.asarray(start)
    row, col = np.divmod(index, width)
    x = col.astype(np.float32) * np.float32(_POSITION_WEIGHT / max(width - 1, 1))
    y = row.astype(np.float32) * np.float32(_POSITION_WEIGHT / max(height - 1, 1))
    return np.column_stack([colour, x, y])


# ---------------------------------------------------------------------------------------
# Segmentation


def segment_image(
    image: Any,
    method: str,
    k: int,
    random_state: int | np.random.Generator | None = 0,
    *,
    features: str = "rgb",
    include_position: bool = False,
    sample_size: int = 100_000,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    m: float = 2.0,
    covariance_type: str = "full",
) -> ImageSegmentation:
    """Segment an image into ``k`` colour regions.

    The model is fitted on ``sample_size`` randomly chosen pixels and then applied to
    every pixel in chunks (memory stays bounded for large photos).

    Parameters
    ----------
    image : path, bytes, file-like, PIL.Image.Image or ndarray
        See :func:`load_image`.
    method : {"kmeans", "fcm", "gmm"}
        k-means (k-means++), fuzzy c-means, or a Gaussian mixture.
    k : int
        Number of segments, 2..64 and at most the number of distinct colours.
    random_state : int, numpy Generator or None
        Seeds the pixel sample and the model; the same seed gives the same result.
    features : {"rgb", "lab"}
        Colour space the model works in.
    include_position : bool
        Also use pixel position (modestly weighted), which favours compact regions.
    sample_size : int
        Pixels used to fit the model.
    max_pixels : int
        Largest accepted image (see :func:`load_image`).
    m : float
        FCM fuzziness exponent (> 1).
    covariance_type : {"full", "tied", "diag", "spherical"}
        GMM covariance structure.

    Returns
    -------
    ImageSegmentation
    """
    method = _check_choice("method", method, METHODS)
    features = _check_choice("features", features, FEATURES)
    covariance_type = _check_choice("covariance_type", covariance_type, COVARIANCE_TYPES)
    _check_int("k", k, MIN_K, MAX_K)
    k = int(k)
    _check_int("sample_size", sample_size, k)
    if method == "fcm" and (
        isinstance(m, bool) or not isinstance(m, (int, float)) or not np.isfinite(m) or m <= 1
    ):
        raise InputError(
            f"m (the fuzziness exponent) must be a number greater than 1, got {m!r}.",
            code="invalid_parameter",
        )
    try:
        rng = np.random.default_rng(random_state)
    except (TypeError, ValueError) as exc:
        raise InputError(
            "random_state must be a non-negative whole number, a numpy Generator or None; "
            f"got {random_state!r}.",
            code="invalid_parameter",
        ) from exc

    rgb, notes = load_image(image, max_pixels=max_pixels)
    height, width = rgb.shape[:2]
    flat = rgb.reshape(-1, 3)
    n_pixels = flat.shape[0]

    present = _colours_present(flat)
    n_colours = int(present.sum())
    if k > n_colours:
        raise InputError(
            f"k = {k} is more segments than the image has distinct colours ({n_colours}). "
            f"Choose k of at most {n_colours}.",
            code="too_few_colours",
        )

    sample_idx = _sample_indices(n_pixels, sample_size, rng)
    sample_idx = _ensure_k_colours(flat, sample_idx, present, k)
    del present  # 16 MB no longer needed
    if sample_idx.size < n_pixels:
        notes.append(
            f"The model was fitted on a random sample of {sample_idx.size:,} of the "
            f"{n_pixels:,} pixels and then applied to every pixel."
        )
    x_fit = pixel_features(
        flat[sample_idx], (height, width), features, include_position, sample_idx
    ).astype(np.float64)
    seed = int(rng.integers(2**31 - 1))
    model = _fit_model(method, x_fit, k, seed, m, covariance_type, notes)
    scorer = SegmentModel.from_estimator(method, model, np.arange(k), None, {})

    # Apply to every pixel chunk by chunk, accumulating counts and colour sums.
    raw = np.empty(n_pixels, dtype=np.uint8)
    counts = np.zeros(k, dtype=np.int64)
    colour_sums = np.zeros((k, 3), dtype=np.float64)
    for start in range(0, n_pixels, _CHUNK):
        stop = min(start + _CHUNK, n_pixels)
        chunk = flat[start:stop]
        x = pixel_features(chunk, (height, width), features, include_position, start)
        lab = scorer.component_of(x).astype(np.uint8)
        raw[start:stop] = lab
        counts += np.bincount(lab, minlength=k)
        for c in range(3):
            colour_sums[:, c] += np.bincount(lab, weights=chunk[:, c], minlength=k)

    # Number segments by descending area; ties keep model order (deterministic).
    order = np.argsort(-counts, kind="stable")
    rank = np.empty(k, dtype=np.int32)
    rank[order] = np.arange(1, k + 1, dtype=np.int32)

    counts = counts[order]
    colour_sums = colour_sums[order]
    centre_colours = _centre_colours(method, model, features)[order]
    palette = np.empty((k, 3), dtype=np.uint8)
    filled = counts > 0
    palette[filled] = np.clip(np.rint(colour_sums[filled] / counts[filled, None]), 0, 255)
    palette[~filled] = centre_colours[~filled]
    if not filled.all():
        empty = ", ".join(str(s) for s in np.flatnonzero(~filled) + 1)
        notes.append(
            f"Segment(s) {empty} received no pixels when the model was applied to the whole "
            "image; a smaller k may suit this image better."
        )
    # Both maps are built from the model's component index in chunks: np.take turns
    # its indices into intp, which for a whole 12 MP image would be a 96 MB temporary;
    # np.take along axis 0 is also several times faster than palette[labels - 1].
    component_palette = palette[rank - 1]
    labels = np.empty(n_pixels, dtype=np.int32)
    recoloured = np.empty((n_pixels, 3), dtype=np.uint8)
    for start in range(0, n_pixels, _CHUNK):
        part = raw[start : start + _CHUNK]
        np.take(rank, part, out=labels[start : start + _CHUNK])
        np.take(component_palette, part, axis=0, out=recoloured[start : start + _CHUNK])
    del raw
    labels = labels.reshape(height, width)
    recoloured = recoloured.reshape(height, width, 3)
    shares = counts / float(n_pixels)
    return ImageSegmentation(
        labels=labels,
        palette=palette,
        recoloured=recoloured,
        shares=shares,
        method=method,
        k=k,
        notes=notes,
        estimator=model,
        model=scorer,
        segment_order=order,
        features=features,
        include_position=bool(include_position),
        image=rgb,
    )


def _check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    key = value.strip().lower() if isinstance(value, str) else value
    if key not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise InputError(f"{name} must be one of {options}; got {value!r}.", code=f"invalid_{name}")
    return key


def _check_int(name: str, value: Any, low: int, high: int | None = None) -> None:
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if ok and value >= low and (high is None or value <= high):
        return
    allowed = f"between {low} and {high}" if high is not None else f"at least {low}"
    code = "invalid_k" if name == "k" else "invalid_parameter"
    raise InputError(f"{name} must be a whole number {allowed}; got {value!r}.", code=code)


def _packed(rgb: np.ndarray) -> np.ndarray:
    """(n, 3) uint8 -> (n,) uint32 colour codes 0..2**24 - 1."""
    return (rgb[:, 0].astype(np.uint32) << 16) | (rgb[:, 1].astype(np.uint32) << 8) | rgb[:, 2]


def _colours_present(flat: np.ndarray) -> np.ndarray:
    """Boolean table over all 2**24 colours (16 MB): a scatter is far faster than np.unique."""
    present = np.zeros(1 << 24, dtype=bool)
    for start in range(0, flat.shape[0], _CHUNK):
        present[_packed(flat[start : start + _CHUNK])] = True
    return present


def _sample_indices(n_pixels: int, sample_size: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted flat indices of the fitting sample (every pixel if the image is small)."""
    if n_pixels <= sample_size:
        return np.arange(n_pixels)
    return np.sort(rng.choice(n_pixels, size=sample_size, replace=False))


def _ensure_k_colours(
    flat: np.ndarray, sample_idx: np.ndarray, present: np.ndarray, k: int
) -> np.ndarray:
    """Add one pixel of each colour missing from the sample when it has fewer than k colours.

    Only matters for images with a handful of colours where a rare one can be missed
    by the sample, which would leave the model unable to find k distinct centres.
    """
    sample_codes = _packed(flat[sample_idx])
    if np.unique(sample_codes).size >= k or sample_idx.size == flat.shape[0]:
        return sample_idx
    missing = present.copy()
    missing[sample_codes] = False
    extra: list[np.ndarray] = []
    for start in range(0, flat.shape[0], _CHUNK):
        codes = _packed(flat[start : start + _CHUNK])
        hit = np.flatnonzero(missing[codes])
        if hit.size:
            _, first = np.unique(codes[hit], return_index=True)
            extra.append(start + hit[first])
            missing[codes[hit]] = False
    return np.unique(np.concatenate([sample_idx, *extra]))


def _fit_model(
    method: str,
    x: np.ndarray,
    k: int,
    seed: int,
    m: float,
    covariance_type: str,
    notes: list[str],
) -> Any:
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            if method == "kmeans":
                from sklearn.cluster import KMeans

                model = KMeans(k, init="k-means++", n_init=3, random_state=seed).fit(x)
            elif method == "gmm":
                from sklearn.mixture import GaussianMixture

                model = GaussianMixture(k, covariance_type=covariance_type, random_state=seed).fit(
                    x
                )
            else:
                try:
                    from analytics.model.fcm import FuzzyCMeans
                except ImportError as exc:
                    raise ModelError(
                        "Fuzzy c-means is not available in this installation.",
                        code="method_unavailable",
                    ) from exc
                model = FuzzyCMeans(n_clusters=k, m=float(m), random_state=seed).fit(x)
        except InputError:
            raise
        except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
            raise ModelError(
                f"The {method} model could not be fitted to this image with k = {k} "
                f"({exc}). Try a smaller k or another method.",
                code="fit_failed",
            ) from exc
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            notes.append(f"The {method} model did not fully converge: {w.message}")
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return model


def _centres(method: str, model: Any) -> np.ndarray:
    return np.asarray(model.means_ if method == "gmm" else model.cluster_centers_)


def _centre_colours(method: str, model: Any, features: str) -> np.ndarray:
    """RGB uint8 of each model centre (used only for segments that got no pixels)."""
    colour = _centres(method, model)[:, :3]
    if features == "lab":
        return lab_to_rgb(colour * 100.0)
    return np.clip(np.rint(colour * 255.0), 0, 255).astype(np.uint8)
