"""Open the app in AppTest on a given page, as every page test does."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.browser_support import ROOT

APP = str(ROOT / "app.py")


def open_page(view: str | None = None, title: str | None = None, timeout: float = 120) -> AppTest:
    """Run the router once (sample data loaded), then switch to ``view`` (e.g.
    ``"views/segments.py"``) and check it rendered without an exception."""
    app = AppTest.from_file(APP, default_timeout=timeout)
    app.run()
    if view is not None:
        app.switch_page(view)
        app.run()
    assert not app.exception
    if title is not None:
        assert app.title[0].value == title
    return app
