"""The layout rule's helpers and the presenter switch, in AppTest (no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def _layout_page():
    import streamlit as st

    from cnnviz import ui
    from cnnviz.ui import layout

    with st.sidebar:
        layout.presenter_switch()
    page = ui.page_layout("What does a layer see?", "A short introduction.")
    with page.controls:
        st.selectbox("Layer", ["conv1", "conv2"], key="layer")
    with page.figure:
        st.markdown("THE FIGURE")
    ui.explain("One idea.", "The rest of the explanation.", label="Why?")
    st.markdown(f"columns: {ui.grid_columns(180)}, for 16: {ui.grid_columns(180, 16)}, "
                f"for 3: {ui.grid_columns(180, 3)}")


def _run(present: bool = False) -> AppTest:
    at = AppTest.from_function(_layout_page, default_timeout=30)
    if present:
        at.query_params["present"] = "1"
    return at.run()


def _main_texts(at) -> list[str]:
    """Title, markdown and widget labels of the main area, in the order drawn."""
    texts = []
    for node in at.main:
        for element in _walk(node):
            kind = element.type
            if kind in ("title", "markdown"):
                texts.append(element.value)
            elif kind == "selectbox":
                texts.append(f"[{element.label}]")
    return texts


def _walk(node):
    children = getattr(node, "children", None)
    if not children:
        yield node
        return
    for child in children.values():
        yield from _walk(child)


def test_the_question_then_the_figure_then_its_controls():
    at = _run()
    assert not at.exception
    texts = _main_texts(at)
    order = [texts.index(t) for t in ("What does a layer see?", "A short introduction.",
                                      "THE FIGURE", "[Layer]")]
    assert order == sorted(order)


def test_explain_folds_the_rest_only_when_presenting():
    at = _run()
    assert "The rest of the explanation." in [m.value for m in at.markdown]
    assert not at.expander
    presenting = _run(present=True)
    assert [e.label for e in presenting.expander] == ["Why?"]
    assert presenting.expander[0].markdown[0].value == "The rest of the explanation."


def test_presenter_view_widens_picture_grids():
    normal, presenting = _run(), _run(present=True)
    assert "columns: 4, for 16: 4, for 3: 3" in [m.value for m in normal.markdown]
    assert "columns: 5, for 16: 4, for 3: 3" in [m.value for m in presenting.markdown]
    assert presenting.sidebar.toggle[0].value is True


def test_the_navigation_carries_the_presenter_view():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception
    links = at.sidebar.get("page_link")
    assert links and all(link.proto.query_string == "present=1" for link in links)
    at.query_params.pop("present")
    at.run()
    assert all(not link.proto.query_string for link in at.sidebar.get("page_link"))


def test_the_sidebar_switch_writes_the_url():
    at = _run()
    at.sidebar.toggle[0].set_value(True).run()
    assert at.query_params["present"] == "1"
    assert any(m.value.startswith("columns: 5") for m in at.markdown)
    at.sidebar.toggle[0].set_value(False).run()
    assert "present" not in at.query_params


def test_long_text_on_the_projector_is_refused():
    from cnnviz.ui.layout import _check_length

    _check_length("word " * 50, "intro")
    with pytest.raises(ValueError, match="under ~50"):
        _check_length("word " * 70, "intro")
