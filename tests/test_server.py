"""The download-compression switch exists in the pinned Streamlit (an upgrade that drops
it must be noticed here, not as a silent 12-second download)."""

from streamlit.web.server.starlette import starlette_gzip_middleware as gz

from ui.server import serve_downloads_uncompressed


def test_downloads_are_served_uncompressed() -> None:
    assert serve_downloads_uncompressed() is True
    assert gz._STARLETTE_HANDLES_MEDIA_AND_RANGE is False
    assert gz._is_media_path("/media/abc.csv")
