"""Downloads are served uncompressed through the public st.App middleware (ui/server.py)."""

from __future__ import annotations

import asyncio
import gzip
import urllib.request
from pathlib import Path

import pytest

from ui.server import NoGzipForDownloads

ROOT = Path(__file__).resolve().parents[1]


def _scope_seen(path: str, base_url: str = "") -> dict:
    seen: dict = {}

    async def inner(scope, receive, send):
        seen.update(scope)

    scope = {"type": "http", "path": path, "headers": [(b"accept-encoding", b"gzip"), (b"x", b"1")]}
    asyncio.run(NoGzipForDownloads(inner, base_url=base_url)(scope, None, None))
    return seen


def test_download_requests_lose_accept_encoding_and_nothing_else():
    seen = _scope_seen("/media/abc.csv")
    assert seen["headers"] == [(b"x", b"1")]


def test_other_requests_keep_accept_encoding():
    seen = _scope_seen("/_stcore/health")
    assert (b"accept-encoding", b"gzip") in seen["headers"]


def test_base_url_path_is_respected():
    assert _scope_seen("/team/media/a.csv", base_url="team")["headers"] == [(b"x", b"1")]
    assert (b"accept-encoding", b"gzip") in _scope_seen("/media/a.csv", base_url="team")["headers"]


def test_serve_py_is_discovered_as_an_asgi_app():
    from streamlit.web.server.app_discovery import discover_asgi_app

    assert discover_asgi_app(ROOT / "serve.py").is_asgi_app


@pytest.mark.browser
def test_served_app_answers_health_and_pages_through_serve_py():
    from tests.browser_support import running_app

    with running_app() as url:
        body = urllib.request.urlopen(url + "/_stcore/health", timeout=10).read()
        assert body.strip() == b"ok"
        req = urllib.request.Request(url + "/", headers={"Accept-Encoding": "gzip"})
        raw = urllib.request.urlopen(req, timeout=10).read()
        page = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        assert b"<html" in page.lower()
