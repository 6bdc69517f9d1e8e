"""Figures of predict-then-reveal: a class's answers, and a click beside the measured map."""

from __future__ import annotations

import numpy as np

from cnnviz.figures import theme
from cnnviz.figures.maps import map_figure


def poll_figure(answers: list[str], counts: list[int], *, measured: str | None = None,
                span: float = 1.0):
    """A histogram of a class's answers; after the reveal the measured answer's bar is
    green and every other bar grey, so the room sees at once how many got it (an answer
    nobody gave gets its place on the axis and the title says so)."""
    import plotly.graph_objects as go

    missed = measured is not None and measured not in answers
    if missed:  # nobody chose it: its place on the axis still shows where it was
        answers, counts = [*answers, measured], [*counts, 0]
    colours = [theme.CATEGORICAL[0]] * len(answers)
    if measured is not None:
        colours = [theme.CATEGORICAL[2] if a == measured else theme.NEUTRAL for a in answers]
    total = max(1, sum(counts))
    fig = go.Figure(go.Bar(
        x=[str(a) for a in answers], y=counts, marker_color=colours,
        text=[f"{n} ({n / total:.0%})" for n in counts], textposition="outside",
        cliponaxis=False, hovertemplate="%{x}: %{y} answers<extra></extra>"))
    fig.update_xaxes(type="category", title="answer")
    fig.update_yaxes(title="students", rangemode="tozero", dtick=max(1, total // 5))
    title = f"{sum(counts)} answers" + (
        "" if measured is None else f" · measured: {measured}, chosen by nobody" if missed
        else f" · measured: {measured} (green)")
    return theme.style(fig, height=320, title=title, span=span)


def click_figure(image: np.ndarray, *, click=None, heat: np.ndarray | None = None,
                 title: str = "", span: float = 1 / 3, height: int = 340):
    """The image to click, the student's click as a green ring; with ``heat`` (after
    the reveal) the measured map over the image and its peak as a star. Sized for a
    column beside the page's own figures (``span`` of the page's width)."""
    import plotly.graph_objects as go

    from cnnviz.images import overlay

    shown = image if heat is None else overlay(image, heat, alpha=0.5,
                                               colormap=theme.SEQUENTIAL)
    fig = map_figure(shown, title=title, span=span, height=height)
    marks = []
    if heat is not None:
        row, col = np.unravel_index(int(np.argmax(heat)), heat.shape)
        marks.append((row, col, "star", "gold", f"measured peak: row {row}, col {col}"))
    if click is not None:
        marks.append((*click, "circle-open", "lime", f"your click: row {click[0]}, "
                                                      f"col {click[1]}"))
    for row, col, symbol, colour, label in marks:
        fig.add_trace(go.Scatter(
            x=[col], y=[row], mode="markers", showlegend=False, cliponaxis=False,
            marker=dict(symbol=symbol, size=16, color=colour,
                        line=dict(color=colour if symbol.endswith("open") else "black",
                                  width=3 if symbol.endswith("open") else 1.5)),
            hovertemplate=label + "<extra></extra>"))
    return fig
