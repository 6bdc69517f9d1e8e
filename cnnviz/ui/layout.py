"""The layout rule of every page, and the presenter view for a projector.

A class reads a page from the back of a room on a 1280×720 projector, so every
page is built in the same order:

1. **the question** the page answers, as its heading (what a student looks for),
   with at most ~50 words of introduction;
2. **the main live figure**, starting on the first screen at 1280×720;
3. **the controls** that change it, right under it;
4. **details** (code, maths, long text) in expanders, or further down.

:func:`page_layout` draws 1 and returns empty containers for 2 and 3, in that
order, so a page can read its widgets first and draw its figure afterwards.
Whatever the page draws next comes under them: more figures, then the details::

    page = ui.page_layout("What does each layer see?", "Every layer turns the image …")
    with page.controls:
        layer = st.selectbox("Layer", layers)
    with page.figure:                  # rendered above the controls
        st.plotly_chart(grid_figure(layer), width="stretch")
    st.plotly_chart(statistics_figure(layer))  # under the controls
    with st.expander("The Keras code"):
        st.code(code)

The figure container is ``st.container(key="main-figure")``, which Streamlit
renders with the CSS class ``st-key-main-figure``; the browser checks
(``tests/test_layout.py``) measure where it starts.

Text on the projector stays short: :func:`explain` shows a sentence or two and
puts the rest in an expander in the presenter view.

**Presenter view** (``?present=1`` in the URL, or the sidebar switch): larger text
(our own CSS, injected once per run by ``page_setup``), larger figures (the
figure template's scale, :data:`cnnviz.figures.theme.SCALE`), a collapsed
sidebar, long explanations folded away. The navigation links carry the switch
to the next page (:func:`carried_params`); Streamlit drops query parameters
that no widget is bound to when the page changes.

A fragment that draws figures (``st.fragment``) runs without ``page_setup``;
it calls :func:`use_figure_scale` first so its figures match the page's.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from cnnviz.figures import theme

#: The URL switch of the presenter view: ``?present=1``.
PRESENT_PARAM = "present"
#: Query parameters that follow the student to the next page through the navigation.
#: (Other features add theirs, e.g. a lesson's step.)
CARRIED = (PRESENT_PARAM,)
#: Text and figures grow by this factor in the presenter view.
PRESENTER_SCALE = 1.25
#: Width in px of a page's main column at 1280 px in the presenter view (sidebar folded).
PRESENTER_CONTENT_WIDTH = 1080
#: The most words :func:`page_layout` and :func:`explain` show as one block (the rule
#: says ~50; the margin is for numbers and names filled in at run time).
MAX_WORDS = 60

# Both views: less empty space above the heading, so the figure rises on the first
# screen; headings that wrap instead of running off a narrow column.
_CSS = """
.stMainBlockContainer { padding-top: 3.5rem; }
h1, h2, h3 { overflow-wrap: anywhere; }
"""
# Presenter view: Streamlit sizes its text and widgets in rem, so a larger root font
# enlarges them all; the sidebar's width stays as it was (it is collapsed anyway).
_PRESENTER_CSS = f"""
html {{ font-size: {16 * PRESENTER_SCALE:g}px; }}
[data-testid="stSidebar"] {{ font-size: 16px; }}
"""


@dataclass(frozen=True)
class PageLayout:
    """The main figure's container and, under it, the controls' container: fill them
    in any order."""

    figure: DeltaGenerator
    controls: DeltaGenerator


def presenting() -> bool:
    """Whether the presenter view is on (``?present=1``)."""
    return st.query_params.get(PRESENT_PARAM) == "1"


def carried_params() -> dict[str, str]:
    """The query parameters the navigation links take to the next page."""
    return {name: st.query_params[name] for name in CARRIED if name in st.query_params}


def apply_view() -> None:
    """Inject the app's CSS and set the figure scale for this run (``page_setup`` calls it)."""
    present = presenting()
    st.html(f"<style>{_CSS}{_PRESENTER_CSS if present else ''}</style>")
    use_figure_scale()


def use_figure_scale() -> None:
    """Make the figures built from here on follow the view (larger when presenting)."""
    theme.SCALE.set(PRESENTER_SCALE if presenting() else 1.0)


def presenter_switch() -> None:
    """The sidebar switch that turns the presenter view on and off (it edits the URL)."""
    st.session_state["_cnnviz_present"] = presenting()
    st.toggle("Presenter view", key="_cnnviz_present", on_change=_flip_presenter,
              help="Larger text and figures for a projector, sidebar folded away. Add "
                   f"?{PRESENT_PARAM}=1 to a link to open it this way.")


def _flip_presenter() -> None:
    if st.session_state.get("_cnnviz_present"):
        st.query_params[PRESENT_PARAM] = "1"
    else:
        st.query_params.pop(PRESENT_PARAM, None)


def page_layout(question: str, intro: str = "") -> PageLayout:
    """Draw the page's question and introduction; return its figure and controls
    containers, in that order on the page (see the module docstring)."""
    _check_length(intro, "page_layout's intro")
    st.title(question)
    if intro:
        st.markdown(intro)
    return PageLayout(figure=st.container(key="main-figure"), controls=st.container())


def explain(short: str, more: str = "", *, label: str = "Read more") -> None:
    """A short explanation (at most ~50 words) and, optionally, the rest of it.

    ``more`` follows ``short`` on a student's screen; in the presenter view it is
    folded into an expander called ``label``, so the projector shows one idea at a time.
    """
    _check_length(short, "explain's short text")
    st.markdown(short)
    if not more:
        return
    if presenting():
        with st.expander(label):
            st.markdown(more)
    else:
        st.markdown(more)


def _check_length(text: str, what: str) -> None:
    words = len(text.split())
    if words > MAX_WORDS:
        raise ValueError(f"{what} has {words} words; keep it under ~50 and pass the rest "
                         "as explain(short, more)")


def grid_columns(min_width: int, count: int | None = None) -> int:
    """How many columns of pictures at least ``min_width`` px wide fit the page: for
    thumbnails a class can read (e.g. ``st.columns(ui.grid_columns(180, len(images)))``).

    With ``count`` pictures the rows come out even where they can: 16 pictures in at
    most 5 columns make 4 rows of 4, not 3 rows of 5 and a lone one.
    """
    width, gap = ((PRESENTER_CONTENT_WIDTH, 20) if presenting()
                  else (theme.CONTENT_WIDTH, 16))
    columns = max(1, (width + gap) // (min_width + gap))
    if count:
        rows = -(-count // columns)
        columns = -(-count // rows)
    return columns
