"""Each limit is defined once; the server configuration agrees with the code."""

from __future__ import annotations

import tomllib
from pathlib import Path

from analytics.constants import MAX_K
from analytics.io import DEFAULT_MAX_BYTES
from ui.data import MAX_UPLOAD_MB

ROOT = Path(__file__).resolve().parents[1]


def test_upload_limit_is_one_number():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == DEFAULT_MAX_BYTES
    assert MAX_UPLOAD_MB * 1024 * 1024 == DEFAULT_MAX_BYTES


def test_every_module_uses_the_one_max_k():
    from analytics.model import fit
    from analytics.studies import image

    assert fit.MAX_K is MAX_K and image.MAX_K is MAX_K
