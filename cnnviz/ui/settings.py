"""The app's deployment settings as Streamlit sees them: the environment, then
``st.secrets``. The lookup itself is :mod:`cnnviz.config`; this only adds the
secrets, which exist only inside a Streamlit app."""

from __future__ import annotations

import streamlit as st

from cnnviz import config


def secrets() -> dict:
    """The app's secrets (``.streamlit/secrets.toml`` or the host's), or {} if none."""
    try:
        if not st.secrets.load_if_toml_exists():
            return {}
        return dict(st.secrets)
    except Exception:  # noqa: BLE001 - a broken secrets file must not stop the app
        return {}


def redis_url() -> str | None:
    """The Redis URL shared state should use, or None for in-process stores."""
    return config.redis_url(secrets())
