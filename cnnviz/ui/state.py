"""Session state: the sidebar choices that follow a student from page to page.

The image and model pickers sit on several pages under the same keys
(``image_source``, ``image_shape``, ``image_shape_seed``, ``image_sample``,
``model``); in a page's URL they are ``src``, ``sample``, ``shape``, ``seed`` and
``model`` (``cnnviz.views.shared``).

Why not ``persist_state="session"``: Streamlit 1.67 gives a widget an id made of
its key *and its page*, so the same key on two pages of a ``pages/`` app is two
widgets. ``persist_state`` copies the value of the widget that was left onto its
key in the clean-up at the *end* of the first run on the next page; that run
still sees the new page's default (or the value from that page's last visit),
and computes with it. Checked in ``tests/test_ui.py``. ``persist_state`` keeps
its promise for a widget coming back to its own page (the network builder uses
it); the shared pickers need the value on the first run of every page, so they
copy it here, and also apply a page's default until the student changes the
widget.

A link that opens a page with a view (``cnnviz.ui.pageview``) makes its image and
model the student's choice with :func:`choose` before the pickers are drawn;
otherwise ``across_pages`` would put the remembered one back on the next run.
"""

from __future__ import annotations

import streamlit as st

_CHOICES = "_cnnviz_choices"


def _choices() -> dict:
    return st.session_state.setdefault(_CHOICES, {})


def across_pages(key: str, default, *together: str) -> dict:
    """Keyword arguments that give a widget the student's last choice from any page.

    Before the widget is drawn its value is set from the session's choices; its
    callback copies every change back. A page's ``default`` is used until the
    student changes the widget. ``together`` names widgets whose current value
    becomes a choice along with it: a shape picked under a page's default source
    keeps that source on the next page.
    """
    st.session_state[key] = _choices().get(key, default)
    return {"key": key, "on_change": _remember, "args": (key, *together)}


def _remember(*keys: str) -> None:
    choices = _choices()
    for key in keys:
        if key in st.session_state:
            choices[key] = st.session_state[key]


def choose(key: str, value) -> None:
    """Make ``value`` the choice of widget ``key`` from code (in a callback, or before
    the widget is drawn)."""
    st.session_state[key] = _choices()[key] = value


def chosen(key: str, default=None):
    """The student's choice for widget ``key``, or ``default`` if they made none."""
    return _choices().get(key, default)


def forget(key: str) -> None:
    """Drop the choice for widget ``key``: pages fall back to their default."""
    _choices().pop(key, None)


def session_dict(name: str) -> dict:
    """A plain dict kept for the whole session, e.g. images decoded from uploads."""
    return st.session_state.setdefault(f"_cnnviz_{name}", {})
