"""Optional login: when ``[auth]`` is configured in ``.streamlit/secrets.toml``, every page
asks for it first (Streamlit's OpenID Connect login, ``st.login`` / ``st.user``).

Without an ``[auth]`` section the app works as before (on a machine of one's own, bound
to 127.0.0.1). ``app.py`` calls :func:`require_login` once, before navigation, so no
page script, upload or computation runs for a visitor who has not logged in.

Two shapes of ``[auth]`` (README, "Deployment"): one provider written directly in
``[auth]`` (``client_id``, ``client_secret``, ``server_metadata_url``), or named
providers in sub-tables such as ``[auth.microsoft]``; one login button each.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

#: Keys of a provider written directly in ``[auth]``.
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


def auth_settings() -> Mapping | None:
    """The ``[auth]`` section of the secrets, or None when there is none (or no secrets file)."""
    try:
        if "auth" not in st.secrets:
            return None
        section = st.secrets["auth"]
    except (FileNotFoundError, StreamlitSecretNotFoundError):
        return None
    return section if isinstance(section, Mapping) else None


def providers(section: Mapping) -> list[str | None]:
    """Login choices of an ``[auth]`` section: None for the unnamed provider, else the names."""
    named = [str(k) for k, v in section.items() if isinstance(v, Mapping)]
    direct = [None] if all(k in section for k in PROVIDER_KEYS) else []
    return direct + named


def require_login() -> None:
    """Show only a login prompt (and stop the script) unless the visitor is logged in.

    Does nothing when no ``[auth]`` section is configured. A logged-in visitor gets their
    name and a Log out button in the sidebar.
    """
    section = auth_settings()
    if section is None:
        return
    # st.user is a mapping; the key is missing (not False) where no login ever ran.
    if st.user.get("is_logged_in", False):
        with st.sidebar:
            st.caption("Logged in as")
            st.text(str(st.user.get("name") or st.user.get("email") or "you"))
            st.button("Log out", on_click=st.logout, key="auth_logout")
        return
    st.title("Segmentation workbench")
    st.write("This workbench is shared by a team: log in to use it.")
    choices = providers(section)
    if not choices:
        st.error(
            "Login is switched on but no identity provider is set up in "
            ".streamlit/secrets.toml. Ask whoever runs this server to complete the "
            "[auth] section (see the README, Deployment)."
        )
    for name in choices:
        label = "Log in" if name is None else f"Log in with {name.capitalize()}"
        st.button(
            label,
            type="primary",
            on_click=st.login,
            args=() if name is None else (name,),
            key=f"auth_login_{name or 'default'}",
        )
    st.stop()
