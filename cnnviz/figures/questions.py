"""Figures of predict-then-reveal: a class's answers, and a click beside the measured map."""

from __future__ import annotations

import numpy as np

from cnnviz.figures import theme
from cnnviz.figures.maps import map_figure


def poll_figure(answers: list[str], counts: list[int], *, measured: str | None = None,
                span: float = 1.0):
    """A histogram of a class's answers; after the reveal the measured answer's bar is
    green and every other bar grey, so the room sees at once how many got it."""
    import plotly.graph_objects as go

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
    title = f"{sum(counts)} answers" + ("" if measured is None else
                                        f" · measured: {measured} (green)")
    return theme.style(fig, height=320, title=title, span=span)


def click_figure(image: np.ndarray, *, click=None, heat: np.ndarray | None = None,
                 title: str = "", span: float = 0.5):
    """The image to click; with ``heat`` (after the reveal) the measured map over it,
    its peak as a star and the student's click as a green square."""
    import plotly.graph_objects as go

    from cnnviz.images import overlay

    if heat is None:
        return map_figure(image, title=title, pick=click, span=span)
    shown = overlay(image, heat, alpha=0.5, colormap=theme.SEQUENTIAL)
    fig = map_figure(shown, title=title, pick=click, span=span,
                     overlay_scale=(theme.SEQUENTIAL, *theme.value_range(heat), "measured"))
    row, col = np.unravel_index(int(np.argmax(heat)), heat.shape)
    fig.add_trace(go.Scatter(x=[col], y=[row], mode="markers", showlegend=False,
                             marker=dict(symbol="star", size=20, color="gold",
                                         line=dict(color="black", width=1.5)),
                             hovertemplate=f"measured peak: row {row}, col {col}<extra></extra>"))
    return fig
