"""What every page does first and everywhere: set up the page, draw the navigation,
and show a student's mistake as a message rather than a traceback."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from cnnviz.errors import CnnvizError
from cnnviz.ui import layout, warm
from cnnviz.ui.lesson import begin_page
from cnnviz.ui.navigation import PAGES, page_info

log = logging.getLogger("cnnviz")
_PAGES = "_cnnviz_pages"  # (the page of the previous run, the page of this run)


def page_setup(title: str, *, icon: str | None = None) -> None:
    """Configure the page and draw the shared sidebar. Call it first on every page.

    In the presenter view (``?present=1``) the sidebar starts collapsed; the app's
    CSS and the figure scale follow the view (``cnnviz.ui.layout``).
    """
    st.set_page_config(page_title=f"{title} · cnnviz", page_icon=icon or "🧠", layout="wide",
                       initial_sidebar_state="collapsed" if layout.presenting() else "auto")
    layout.apply_view()
    warm.start()  # once per process: every page's default view, in the background
    pages = st.session_state.get(_PAGES, (None, None))
    st.session_state[_PAGES] = (pages[1], title)
    with st.sidebar:
        st.markdown("## :material/neurology: cnnviz")
        st.caption("See how convolutional networks work, on real Keras models.")
        group = None
        for page in PAGES:
            if page.group != group:
                group = page.group
                st.markdown(f"**{group}**")
            st.page_link(page.path, label=page.label, icon=page.icon,
                         query_params=layout.carried_params())
        layout.presenter_switch()
        st.divider()
    begin_page()  # the lesson bar, when the URL opened a lesson step


def rerun_of_the_same_page() -> bool:
    """Whether the previous run of this session drew the same page (a widget change, the
    browser's back button) rather than another one (a page switch)."""
    previous, current = st.session_state.get(_PAGES, (None, None))
    return previous == current


def page_link_for(path: str, *, label: str | None = None) -> None:
    """A link to one of the app's pages, with the label (unless given) and icon of the
    navigation."""
    page = page_info(path)
    st.page_link(page.path, label=label or page.label, icon=page.icon,
                 query_params=layout.carried_params())


@contextmanager
def guard(action: str = "this step") -> Iterator[None]:
    """Show a user error as a message instead of a traceback; the page goes on.

    ``CnnvizError`` messages are written for students and shown as they are.
    Anything else is a bug: it is logged on the server with its traceback and the
    student sees a short apology, never the traceback itself.
    """
    try:
        yield
    except CnnvizError as error:
        st.error(str(error), icon=":material/error:")
    except Exception:  # noqa: BLE001 - the last line of defence for the UI
        log.exception("Unexpected error in %s", action)
        st.error(
            f"Something went wrong in {action}. Try other settings or another image; "
            "the error has been logged for the instructor.",
            icon=":material/bug_report:",
        )
