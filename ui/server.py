"""One adjustment to how Streamlit's server sends downloads.

Streamlit 1.67 (on Starlette >= 1.5) gzips every download on the fly at level 5,
about 15 MB/s on one core: a 190 MB labelled table of 1.6M customers spends 12 s
being compressed, longer than it takes to fit the model, and holds a core that
other analysts' sessions need. Streamlit already serves its own static files
uncompressed for the same reason (its comment: compression belongs in the reverse
proxy in front of it). Downloads get the same treatment here by switching the
server back to its pre-Starlette-1.5 path, which serves /media/ (downloads,
images) and range requests as they are. Behind a proxy that compresses, nothing
is lost; on a slow direct link, enable compression in that proxy.
"""

from __future__ import annotations


def serve_downloads_uncompressed() -> bool:
    """Serve /media/ responses without gzip; True if the server supports the switch."""
    try:
        from streamlit.web.server.starlette import starlette_gzip_middleware as gz
    except ImportError:  # another server backend: nothing to change
        return False
    if not hasattr(gz, "_STARLETTE_HANDLES_MEDIA_AND_RANGE"):
        return False
    # Read per request by SelectiveGZipMiddleware, so setting it at app start is enough.
    gz._STARLETTE_HANDLES_MEDIA_AND_RANGE = False
    return True
