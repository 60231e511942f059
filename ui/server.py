"""Downloads served uncompressed, through Streamlit's public ASGI entry point.

Streamlit 1.67 gzips every download on the fly at level 5, about 15 MB/s on one
core: a 190 MB labelled table of 1.6M customers spends 12 s being compressed, longer
than it takes to fit the model, and holds a core that other analysts' sessions need.
Streamlit already serves its own static files uncompressed for the same reason
(compression belongs in the reverse proxy in front of it).

``serve.py`` builds the app with ``st.App(..., middleware=[...])``; user middleware
runs before Streamlit's own (documented), so :class:`NoGzipForDownloads` removes the
request's ``Accept-Encoding`` header on download paths and Streamlit's gzip layer
then sends those responses as they are. Behind a proxy that compresses, nothing is
lost; on a slow direct link, enable compression in that proxy.
"""

from __future__ import annotations

from typing import Any

#: Where Streamlit serves download buttons' files and other media.
MEDIA_PREFIX = "/media/"


class NoGzipForDownloads:
    """ASGI middleware: requests for ``/media/`` lose ``Accept-Encoding`` (so no gzip).

    Parameters
    ----------
    app : the ASGI application it wraps
    base_url : Streamlit's ``server.baseUrlPath`` (without slashes), if any
    """

    def __init__(self, app: Any, base_url: str | None = None) -> None:
        self.app = app
        if base_url is None:
            import streamlit as st

            base_url = str(st.get_option("server.baseUrlPath") or "")
        base = base_url.strip("/")
        self.prefix = (f"/{base}" if base else "") + MEDIA_PREFIX

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http" and str(scope.get("path", "")).startswith(self.prefix):
            headers = [
                (k, v) for k, v in scope.get("headers", []) if k.lower() != b"accept-encoding"
            ]
            scope = dict(scope, headers=headers)
        await self.app(scope, receive, send)
