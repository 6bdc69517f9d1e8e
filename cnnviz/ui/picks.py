"""A pixel picked on a map, by a click on the figure or by two sliders."""

from __future__ import annotations

from collections.abc import MutableMapping


def resolve_pick(prefix: str, event, shape, default, *,
                 state: MutableMapping | None = None) -> tuple[int, int, int]:
    """The picked (row, col) of a map, from a click on it or from two sliders.

    ``event`` is the map's selection event (``st.plotly_chart(..., on_select=...)``);
    ``state`` defaults to Streamlit's session state. Sliders are keyed
    ``{prefix}_row_{version}`` / ``{prefix}_col_{version}``; a new click (or a map
    that shrank under the pick) bumps the version so the sliders are drawn again
    at the new position. Returns (row, col, version).
    """
    if state is None:
        import streamlit as st

        state = st.session_state
    version = int(state.get(f"{prefix}_ver", 0))
    row = state.get(f"{prefix}_row_{version}", default[0])
    col = state.get(f"{prefix}_col_{version}", default[1])
    points = ((event or {}).get("selection") or {}).get("points") or []
    if points and "x" in points[0] and "y" in points[0]:
        clicked = (int(round(points[0]["y"])), int(round(points[0]["x"])))
        if state.get(f"{prefix}_click") != clicked:  # each click is applied once
            state[f"{prefix}_click"] = clicked
            row, col = clicked
            version += 1
    clamped = (min(max(int(row), 0), shape[0] - 1), min(max(int(col), 0), shape[1] - 1))
    if clamped != (row, col) and state.get(f"{prefix}_row_{version}") is not None:
        version += 1
    state[f"{prefix}_ver"] = version
    return clamped[0], clamped[1], version
