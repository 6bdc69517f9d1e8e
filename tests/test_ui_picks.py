"""Picking a pixel on a map: by a click, then by the sliders drawn at the click."""

from __future__ import annotations

from cnnviz.ui.picks import resolve_pick


def test_resolve_pick_click_then_sliders():
    state = {}
    assert resolve_pick("p", None, (10, 20), (3, 4), state=state) == (3, 4, 0)
    click = {"selection": {"points": [{"x": 15, "y": 7}]}}
    assert resolve_pick("p", click, (10, 20), (3, 4), state=state) == (7, 15, 1)
    state["p_row_1"], state["p_col_1"] = 2, 9  # the student moves the new sliders
    assert resolve_pick("p", click, (10, 20), (3, 4), state=state) == (2, 9, 1)  # click is old
    assert resolve_pick("p", click, (5, 5), (3, 4), state=state) == (2, 4, 2)  # map shrank
