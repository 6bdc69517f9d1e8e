"""Deployment settings, looked up in one place.

The app needs nothing configured: without a Redis URL the class poll (and any
other shared state) lives in the server process. With one, stores that several
app servers must share use that Redis. The URL comes from the environment
variable :data:`REDIS_URL_ENV` or, in the Streamlit app, from
``st.secrets["redis_url"]`` (``cnnviz.ui.settings`` reads the secrets and passes
them here, so this module never imports Streamlit).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

REDIS_URL_ENV = "CNNVIZ_REDIS_URL"
REDIS_URL_SECRET = "redis_url"
LESSONS_DIR_ENV = "CNNVIZ_LESSONS_DIR"
#: The lessons that ship with the app.
LESSONS_DIR = Path(__file__).resolve().parents[1] / "lessons"


def redis_url(secrets: Mapping | None = None) -> str | None:
    """The configured Redis URL, or None: the environment wins over the secrets."""
    url = os.environ.get(REDIS_URL_ENV, "").strip()
    if not url and secrets is not None:
        url = str(secrets.get(REDIS_URL_SECRET) or "").strip()
    return url or None


def lessons_dir() -> Path:
    """Where lesson files are read from: :data:`LESSONS_DIR` unless the environment
    variable :data:`LESSONS_DIR_ENV` names another folder."""
    return Path(os.environ.get(LESSONS_DIR_ENV) or LESSONS_DIR)


WARM_UP_ENV = "CNNVIZ_WARM_UP"


def warm_up_pages(pages: tuple[str, ...]) -> tuple[str, ...]:
    """The pages a server computes in the background after its first script run
    (``cnnviz.ui.warm``): all of ``pages`` unless :data:`WARM_UP_ENV` is ``0`` (none) or
    names some of them, comma-separated (e.g. ``Convolution,Grad-CAM``)."""
    value = os.environ.get(WARM_UP_ENV, "1").strip()
    if value in ("", "1"):
        return pages
    if value == "0":
        return ()
    named = {name.strip() for name in value.split(",")}
    return tuple(page for page in pages if page in named)
