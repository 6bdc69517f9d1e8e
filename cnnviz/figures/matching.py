"""Figures of template matching: the matches marked on the searched image, and
response maps with their best positions numbered.

Marks near an edge stay whole: the axes get a margin around the map, so a peak in
the first or last column is drawn in full, not half off the figure.
"""

from __future__ import annotations

import numpy as np

from cnnviz.figures import theme
from cnnviz.figures.maps import map_figure

#: The colour of the n-th match (Okabe & Ito, without the greens: green marks the window
#: explained step by step), the same on the image and on the maps.
MATCH_COLOURS = ("#E69F00", "#56B4E9", "#CC79A7", "#F0E442", "#D55E00")
#: The colour of the window of the output pixel explained step by step.
WINDOW_COLOUR = "lime"


def _margin(fig, h: int, w: int, share: float = 0.045) -> None:
    """Room around a map for marks on its edge."""
    pad = max(1.5, share * max(h, w))
    fig.update_xaxes(range=[-0.5 - pad, w - 0.5 + pad])
    fig.update_yaxes(range=[h - 0.5 + pad, -0.5 - pad])


def matches_figure(image: np.ndarray, matches, kernel_hw, *, title: str = "",
                   window=None, span: float = 0.5, height: int | None = None):
    """The searched image with each match's window as a box, numbered by rank with its
    score; ``window`` = (top, left, bottom, right) marks the step-by-step pixel's window."""
    h, w = image.shape[:2]
    kh, kw = kernel_hw
    boxes = [(m.row, m.col, m.row + kh - 1, m.col + kw - 1, MATCH_COLOURS[i % 5])
             for i, m in enumerate(matches)]
    if window is not None:
        boxes.append((*window, WINDOW_COLOUR))
    fig = map_figure(image, title=title, boxes=boxes, span=span, height=height)
    for i, m in reversed(list(enumerate(matches))):  # the best match's label on top
        above = m.row >= 0.12 * h  # the label above the box, or inside it at the top
        fig.add_annotation(
            x=m.col - 0.5, y=m.row - 0.5 if above else m.row + 0.5, xanchor="left",
            yanchor="bottom" if above else "top", showarrow=False,
            text=f"<b>{i + 1}</b> · {m.score:.2f}".replace("-", "−"),
            font=dict(size=round(theme.FONT_SIZE * theme.SCALE.get()), color="black"),
            bgcolor=MATCH_COLOURS[i % 5], borderpad=2)
    _margin(fig, h, w)
    return fig


def response_figure(values: np.ndarray, *, title: str = "", marks=(), pick=None,
                    colorscale: str = "auto", vmin=None, vmax=None,
                    colorbar_title: str | None = None, span: float = 0.5,
                    height: int | None = None):
    """A response map with ``marks`` = [(row, col, text, colour), ...] drawn whole even
    on its edges (a star for a mark without text, a numbered dot otherwise), and the
    picked pixel as a square."""
    import plotly.graph_objects as go

    values = np.asarray(values)
    h, w = values.shape
    fig = map_figure(values, title=title, colorscale=colorscale, vmin=vmin, vmax=vmax,
                     colorbar_title=colorbar_title, pick=pick, span=span, height=height)
    for row, col, text, colour in marks:
        star = not text
        fig.add_trace(go.Scatter(
            x=[col], y=[row], mode="markers" if star else "markers+text", text=[text],
            textposition="middle center", cliponaxis=False, showlegend=False,
            textfont=dict(size=round(theme.MIN_FONT_SIZE * theme.SCALE.get()), color="black"),
            marker=dict(symbol="star" if star else "circle", size=20 if star else 22,
                        color=colour, line=dict(color="black", width=1.5)),
            hovertemplate=f"row {row}, col {col}: {values[row, col]:.3g}<extra></extra>"))
    _margin(fig, h, w)
    return fig
