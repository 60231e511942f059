"""Server exposure: localhost by default, login required on every page when configured."""

from __future__ import annotations

import tomllib

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_support import APP
from tests.browser_support import ROOT
from ui.state import DATASET

PAGES = [
    "views/data.py",
    "views/choose_k.py",
    "views/segments.py",
    "views/anomalies.py",
    "views/synthetic.py",
    "views/image.py",
]
ONE_PROVIDER = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "not-a-real-secret",
    "client_id": "id",
    "client_secret": "secret",
    "server_metadata_url": "https://login.example.com/.well-known/openid-configuration",
}


def test_the_app_listens_on_localhost_by_default() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    script = (ROOT / "scripts" / "run_app.sh").read_text()
    # No address on the command line, so the config's applies; "$@" lets a team override it.
    assert "--server.address" not in script.split("exec", 1)[1]
    assert '"$@"' in script


def _app(auth: dict | None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if auth is not None:
        at.secrets["auth"] = auth
    return at


@pytest.mark.parametrize(
    "auth, buttons",
    [
        (ONE_PROVIDER, ["Log in"]),
        (
            {
                "redirect_uri": ONE_PROVIDER["redirect_uri"],
                "cookie_secret": "x",
                "microsoft": {k: ONE_PROVIDER[k] for k in ("client_id", "client_secret", "server_metadata_url")},
                "okta": {k: ONE_PROVIDER[k] for k in ("client_id", "client_secret", "server_metadata_url")},
            },
            ["Log in with Microsoft", "Log in with Okta"],
        ),
    ],
)  # fmt: skip
def test_with_auth_configured_every_page_shows_only_a_login_prompt(auth, buttons) -> None:
    at = _app(auth)
    at.run()
    assert not at.exception
    for view in PAGES:
        at.switch_page(view)
        at.run()
        assert not at.exception
        assert [t.value for t in at.title] == ["Segmentation workbench"]
        assert [b.label for b in at.button] == buttons
        # Nothing of the app ran: no data loaded, no uploader, table, chart or metric.
        assert DATASET not in at.session_state
        assert not at.get("file_uploader") and not at.dataframe and not at.metric
        assert not at.get("plotly_chart")


def test_auth_section_without_a_provider_says_what_is_missing() -> None:
    at = _app({"redirect_uri": ONE_PROVIDER["redirect_uri"], "cookie_secret": "x"})
    at.run()
    assert not at.exception
    assert "no identity provider is set up" in at.error[0].value
    assert not at.button and DATASET not in at.session_state


def test_without_auth_the_app_works_as_before() -> None:
    at = _app(None)
    at.run()
    assert not at.exception
    assert at.title[0].value == "Data"
    assert len(at.session_state[DATASET].df) == 2000
    assert not any(b.label.startswith("Log in") for b in at.button)
