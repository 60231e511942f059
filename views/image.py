"""Image segmentation page: load a photo, split it into k colour regions, inspect, download."""

from __future__ import annotations

import json
import time
from typing import Any

import streamlit as st

from analytics import InputError, load_image, segment_image
from analytics.charts.image import (
    MAX_DISPLAY_SIDE,
    MAX_SOFT_MAP_SIDE,
    hex_colour,
    image_figure,
    palette_figure,
    soft_map_figure,
)
from analytics.model.fit import METHOD_NAMES
from analytics.studies.image import COVARIANCE_TYPES, DEFAULT_MAX_PIXELS, MAX_K, MIN_K
from ui import cache, cost
from ui.data import MAX_UPLOAD_MB, FitResult, sha256
from ui.state import (
    IMAGE,
    IMAGE_LAST_UPLOAD,
    IMAGE_LOAD_ERROR,
    IMAGE_RESULT,
    IMAGE_SETTINGS,
    keep_widget,
)
from ui.text import md
from ui.widgets import file_stem, method_select

#: Photos scikit-learn ships with its package (no download needed).
BUNDLED = {"china.jpg": "Chinese temple (china.jpg)", "flower.jpg": "Flower (flower.jpg)"}
DEFAULT_PHOTO = "china.jpg"
FEATURE_NAMES = {"rgb": "RGB", "lab": "CIELAB (closer to how people see colour differences)"}


def _use_image(data: bytes, name: str, bundled: str | None = None) -> None:
    """Decode ``data`` and make it the current image; raises InputError and then changes nothing."""
    rgb, notes = load_image(data, max_pixels=DEFAULT_MAX_PIXELS)
    st.session_state[IMAGE] = {
        "name": name,
        "key": sha256(data),
        "rgb": rgb,
        "notes": notes,
        "bundled": bundled,
    }
    st.session_state[IMAGE_RESULT] = None
    st.session_state[IMAGE_LOAD_ERROR] = None


def _use_bundled(photo: str) -> None:
    _use_image(cache.bundled_photo_bytes(photo), BUNDLED[photo], bundled=photo)


st.title("Image segmentation")
st.write(
    "Split a photo into k colour regions with the same methods as customer segments: "
    "every pixel is a 'customer' described by its colour."
)

# ---- image source --------------------------------------------------------------------------
if st.session_state[IMAGE] is None:
    _use_bundled(DEFAULT_PHOTO)
current = st.session_state[IMAGE]

left, right = st.columns([3, 2])
with left:
    upload = st.file_uploader(
        "Upload a PNG or JPEG image",
        type=["png", "jpg", "jpeg"],
        key="img_upload",
        help=f"Up to {MAX_UPLOAD_MB} MB and {DEFAULT_MAX_PIXELS / 1e6:.0f} megapixels "
        "(for example 8,000 x 6,000 pixels); resize larger photos first.",
    )
with right:
    photo = st.selectbox(
        "Or use a bundled photo",
        list(BUNDLED),
        format_func=BUNDLED.get,
        key=keep_widget("w_img_photo", current["bundled"] or DEFAULT_PHOTO),
    )
    if st.button("Use this photo", key="img_use_photo"):
        _use_bundled(photo)

if upload is None:
    # An emptied uploader forgets its file, so adding the same file again loads it.
    st.session_state[IMAGE_LAST_UPLOAD] = None
    st.session_state[IMAGE_LOAD_ERROR] = None
else:
    data = upload.getvalue()
    digest = sha256(data)
    # Decode only when a different file arrives; reruns (and "Use this photo") keep what is loaded.
    if st.session_state[IMAGE_LAST_UPLOAD] != digest:
        st.session_state[IMAGE_LAST_UPLOAD] = digest
        with st.spinner(f"Reading {upload.name}…"):
            try:
                _use_image(data, upload.name)
            except InputError as exc:
                st.session_state[IMAGE_LOAD_ERROR] = (
                    f"Could not load '{upload.name}': {exc.message}"
                )

if st.session_state[IMAGE_LOAD_ERROR]:
    st.error(
        md(st.session_state[IMAGE_LOAD_ERROR]) + " The previously loaded image is still in use."
    )

img: dict[str, Any] = st.session_state[IMAGE]
height, width = img["rgb"].shape[:2]
st.subheader(md(img["name"]))
st.caption(f"{width:,} x {height:,} pixels ({width * height / 1e6:.1f} megapixels)")
for note in img["notes"]:
    st.info(note)

# ---- controls ------------------------------------------------------------------------------
saved = st.session_state[IMAGE_SETTINGS]
c1, c2, c3 = st.columns([2, 1, 2])
method = method_select(
    c1,
    "w_img_method",
    saved["method"],
    help="k-means: hard regions. Fuzzy c-means: graded memberships. "
    "Gaussian mixture: probabilities. The last two show a soft map.",
)
k = c2.number_input(
    "Segments (k)",
    min_value=MIN_K,
    max_value=MAX_K,
    step=1,
    key=keep_widget("w_img_k", int(saved["k"])),
    help="Number of colour regions.",
)
with c3:
    m = float(saved["m"])
    cov = saved["covariance_type"]
    if method == "fcm":
        m = st.slider(
            "How soft the regions are",
            1.1,
            3.0,
            step=0.1,
            key=keep_widget("w_img_m", m),
            help="The fuzzifier m of fuzzy c-means. Near 1: every pixel belongs to one "
            "region; larger: pixels share their membership between regions.",
        )
    elif method == "gmm":
        cov = st.selectbox(
            "Region shapes",
            COVARIANCE_TYPES,
            key=keep_widget("w_img_cov", cov),
            help="The covariance type. full: any oval in colour space; tied: one shared "
            "shape; diag: ovals along the colour axes; spherical: round (like k-means).",
        )
with st.expander("More settings"):
    a1, a2, a3 = st.columns(3)
    features = a1.radio(
        "Colour space",
        list(FEATURE_NAMES),
        format_func=FEATURE_NAMES.get,
        key=keep_widget("w_img_features", saved["features"]),
    )
    include_position = a2.checkbox(
        "Also use pixel position",
        key=keep_widget("w_img_position", bool(saved["include_position"])),
        help="Favours compact regions: pixels far apart are less likely to share a segment.",
    )
    seed = a3.number_input(
        "Random seed", 0, 2**31 - 1, step=1, key=keep_widget("w_img_seed", int(saved["seed"]))
    )

method_params: dict[str, Any] = {"fcm": {"m": float(m)}, "gmm": {"covariance_type": cov}}.get(
    method, {}
)
settings = {
    "method": method,
    "k": int(k),
    "features": features,
    "include_position": bool(include_position),
    "seed": int(seed),
    **method_params,
}
st.session_state[IMAGE_SETTINGS] = {**saved, **settings, "m": float(m), "covariance_type": cov}

seg_error: str | None = None
n_pixels = int(height) * int(width)
too_big = cost.check(
    cost.job("image", min(n_pixels, 100_000), 3 + 2 * bool(include_position), int(k), method, cov,
             score_rows=n_pixels)
)  # fmt: skip
pressed = st.button("Segment", type="primary", key="img_segment")
if pressed and too_big:
    seg_error = too_big
elif pressed:
    with st.status(
        f"Segmenting with {METHOD_NAMES[method]}, k = {int(k)}…", expanded=True
    ) as status:
        st.write("Fitting on a sample of pixels, then assigning every pixel.")
        started = time.perf_counter()
        try:
            seg = segment_image(
                img["rgb"],
                method,
                int(k),
                random_state=int(seed),
                features=features,
                include_position=bool(include_position),
                **method_params,
            )
        except InputError as exc:
            status.update(label="The segmentation did not run", state="error", expanded=False)
            seg_error = exc.message
        else:
            seconds = time.perf_counter() - started
            st.session_state[IMAGE_RESULT] = FitResult(
                inputs_key=sha256(json.dumps([img["key"], settings], sort_keys=True).encode()),
                settings=settings,
                seg=seg,
                seconds=seconds,
                extra={"image": img["name"], "image_key": img["key"]},
            )
            status.update(label=f"Segmented in {seconds:.1f} s", state="complete", expanded=False)
if seg_error:
    st.error(
        md(seg_error) + " The image stays loaded; change the settings and press Segment again."
    )

# ---- original and segmented ----------------------------------------------------------------
fit: FitResult | None = st.session_state[IMAGE_RESULT]
if fit is not None and fit.extra.get("image_key") != img["key"]:
    fit = None  # a result of another image is never shown next to this one
original, step = cache.display_image_cached(img["key"], MAX_DISPLAY_SIDE, True, img["rgb"])
col_o, col_s = st.columns(2)
col_o.plotly_chart(image_figure(original, title="Original", pixel_step=step), key="img_original")
if step > 1:
    st.caption(
        f"Drawn at 1/{step} scale ({original.shape[1]:,} x {original.shape[0]:,} of "
        f"{width:,} x {height:,} pixels) so the page stays fast; the segmentation and the "
        "downloads use every pixel."
    )
if fit is None:
    col_s.info("Choose a method and the number of segments, then press **Segment**.")
    st.stop()

seg = fit.seg
recoloured, _ = cache.display_image_cached(fit.inputs_key, MAX_DISPLAY_SIDE, False, seg.recoloured)
col_s.plotly_chart(
    image_figure(
        recoloured, title=f"Segmented: {METHOD_NAMES[seg.method]}, k = {seg.k}", pixel_step=step
    ),
    key="img_segmented",
)
if fit.settings != settings:
    st.caption(
        "The settings above differ from the ones of this result; press **Segment** to apply."
    )
for note in seg.notes:
    st.caption(note)

# ---- palette -------------------------------------------------------------------------------
st.subheader("Palette")
p1, p2 = st.columns([3, 2])
p1.plotly_chart(palette_figure(seg.palette, seg.shares), key="img_palette")
with p2:
    st.markdown(
        "  \n".join(
            f"<span style='color:{hex_colour(c)};font-size:1.4em'>■</span> "
            f"**Segment {j}** · `{hex_colour(c)}` · {share:.1%} of the image"
            for j, (c, share) in enumerate(zip(seg.palette, seg.shares, strict=True), start=1)
        ),
        unsafe_allow_html=True,
    )
    st.caption("Each colour is the mean colour of the segment's pixels.")

# ---- soft map ------------------------------------------------------------------------------
st.subheader("Soft map")
if seg.has_soft_maps:
    value_name = "membership" if seg.method == "fcm" else "probability"
    segment_no = st.selectbox(
        "Segment",
        list(range(1, seg.k + 1)),
        format_func=lambda j: f"Segment {j} ({seg.shares[j - 1]:.0%} of the image)",
        key=keep_widget(f"w_img_soft_{seg.k}", 1),
    )
    small, map_step = cache.soft_map_cached(fit.inputs_key, int(segment_no), MAX_SOFT_MAP_SIDE, seg)
    st.plotly_chart(
        soft_map_figure(small, int(segment_no), pixel_step=map_step, value_name=value_name),
        key="img_soft_map",
    )
    st.caption(
        f"Bright: the pixel clearly belongs to segment {segment_no}; dark: it clearly does not; "
        "in between: the colour sits between segments (edges, gradients, shadows)."
        + (f" Drawn at 1/{map_step} scale." if map_step > 1 else "")
    )
else:
    st.caption(
        "k-means gives hard regions (every pixel fully in one segment). Choose fuzzy c-means "
        "or a Gaussian mixture to see how strongly each pixel belongs to a segment."
    )

# ---- downloads -----------------------------------------------------------------------------
st.subheader("Downloads")
stem = f"{file_stem(fit.extra.get('image', img['name']), 'image')}_{seg.method}_k{seg.k}"
d1, d2 = st.columns(2)
d1.download_button(
    "Segmented image (PNG)",
    data=lambda seg=seg: seg.recoloured_png(),
    file_name=f"{stem}_segmented.png",
    mime="image/png",
    on_click="ignore",
    key="img_dl_segmented",
)
d2.download_button(
    "Label mask (PNG)",
    data=lambda seg=seg: seg.mask_png(),
    file_name=f"{stem}_mask.png",
    mime="image/png",
    on_click="ignore",
    key="img_dl_mask",
    help="8-bit greyscale, full size: each pixel's value is its segment number (1 to k), "
    "so it looks almost black in an image viewer.",
)
