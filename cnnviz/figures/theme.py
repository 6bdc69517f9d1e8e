"""One look for every figure of the app, readable from the back of a lecture room.

Every builder in :mod:`cnnviz.figures` ends with :func:`style`. It sets the sizes
below *on the figure itself*, not only in a Plotly template: Streamlit merges its
own template (12 px ticks) into every chart, and only values set on the figure
win over it. Sizes are CSS pixels, chosen for a 1280 px wide projector image.

Colours, each with one meaning across the app:

- :data:`DIVERGING` (ColorBrewer RdBu, reversed) for signed values: red is
  positive, blue negative, white 0, always symmetric around 0
  (:func:`signed_range`). Bars of signed values use its ends,
  :data:`POSITIVE` and :data:`NEGATIVE`.
- :data:`SEQUENTIAL` (viridis) for magnitudes: dark is small, yellow is large.
- :data:`GREY` for the brightness of a grey image's own pixels.
- :data:`CATEGORICAL` (Okabe & Ito's colour-blind-safe palette) for things that
  are only different (runs, methods, branches); :func:`line_style` adds dash
  patterns when a chart has more lines than the palette has colours.

Wherever colour encodes a number, a colour bar says which (:func:`colorbar`).

The presenter view enlarges every figure: :data:`SCALE` (set per script run by
``cnnviz.ui``) multiplies the font sizes and the height :func:`style` gives a
figure. It is read when the figure is built, so build figures outside
``st.cache_*`` functions (a cached figure keeps the scale it was built with).

Example::

    fig = go.Figure(go.Heatmap(z=z, colorscale=theme.DIVERGING,
                               zmin=-m, zmax=m, colorbar=theme.colorbar("weight")))
    theme.style(fig, height=360, title="Weights of the 1x1 convolution", span=0.5)
"""

from __future__ import annotations

from contextvars import ContextVar

import numpy as np

from cnnviz.figures.colour import GREY as _PURE_GREY

#: Axis titles, legends, hover labels, annotations, colour-bar ticks.
FONT_SIZE = 16
#: Figure titles.
TITLE_SIZE = 18
#: Tick labels: a notch smaller so that dense axes do not collide.
TICK_SIZE = 15
#: The floor for dense text (numbers in heat-map cells, labels inside bars):
#: text that would need to be smaller is hidden, not shrunk.
MIN_FONT_SIZE = 14
#: Width in px of the main column of a page in a 1280 px wide window (sidebar open).
CONTENT_WIDTH = 820
#: Margins around the plot area; Plotly grows them to fit titles, ticks and legends.
MARGIN = {"l": 10, "r": 10, "t": 10, "b": 10}
#: Room above the plot per line of subplot titles (Plotly's margins do not grow for them).
SUBPLOT_TITLE_LINE = 22

#: Factor on font sizes and heights for the figures built in this context (thread):
#: 1 on a student's screen, larger in the presenter view.
SCALE: ContextVar[float] = ContextVar("cnnviz_figure_scale", default=1.0)

DIVERGING = "RdBu_r"
SEQUENTIAL = "Viridis"
GREY = [list(stop) for stop in _PURE_GREY]
#: Okabe & Ito (2008), ordered so that the first colours contrast most on white.
CATEGORICAL = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
               "#000000", "#F0E442")
#: Ends of DIVERGING, for bars of signed values.
POSITIVE, NEGATIVE = "#B2182B", "#2166AC"
#: Things that are there but not the point (frozen layers, chance levels).
NEUTRAL = "#999999"
#: Dash patterns that, with the CATEGORICAL colours, tell up to 32 lines apart.
DASHES = ("solid", "dash", "dot", "dashdot")


def signed_range(values) -> tuple[float, float]:
    """(-m, m) with m the largest magnitude: a diverging scale's white stays at 0."""
    m = float(np.nanmax(np.abs(values))) if np.size(values) else 0.0
    m = m if np.isfinite(m) and m > 0 else 1.0
    return -m, m


def value_range(values) -> tuple[float, float]:
    """(min, max) of the values, widened by 1 when they are all equal."""
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def colorbar(title: str | None = None, *, below: bool = False, **options) -> dict:
    """A colour bar spec with the app's sizes; ``options`` go to Plotly as they are.

    ``below`` lays the bar under the plot, for figures in a narrow column.
    """
    bar = {"thickness": 16, "len": 0.9, "outlinewidth": 0,
           "tickfont": {"size": FONT_SIZE}, "title": {"font": {"size": FONT_SIZE}}}
    if below:
        bar.update(orientation="h", x=0, xanchor="left", len=1, y=-0.03, yanchor="top",
                   thickness=14)
        bar["title"]["side"] = "top"
    if title:
        bar["title"]["text"] = title
    bar.update(options)
    return bar


def labelled_ticks(ticks: dict, vmin: float, vmax: float) -> dict:
    """Colour-bar options that label values with words ({value: label}); values at
    either end move a little inwards, where Plotly still draws them."""
    nudge = 2e-2 * (vmax - vmin)
    return {"tickvals": [min(max(v, vmin + nudge), vmax - nudge) for v in ticks],
            "ticktext": list(ticks.values())}


def line_style(index: int) -> dict:
    """Colour and dash of line ``index``: distinct for the first 32 lines of a chart."""
    n = len(CATEGORICAL)
    return {"color": CATEGORICAL[index % n], "dash": DASHES[(index // n) % len(DASHES)]}


def wrap(text: str, span: float = 1.0, size: int = TITLE_SIZE) -> str:
    """Break ``text`` into lines (Plotly's ``<br>``) that fit a figure ``span`` of the
    page wide; Plotly cuts a long title instead of wrapping it."""
    per_line = max(12, int(CONTENT_WIDTH * span / (0.6 * size)))
    lines: list[str] = []
    for part in text.split("<br>"):
        line = ""
        for word in part.split(" "):
            if line and len(line) + 1 + len(word) > per_line:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
    return "<br>".join(lines)


_LEGENDS = {
    "below": {"orientation": "h", "x": 0, "xanchor": "left", "yref": "container", "y": 0,
              "yanchor": "bottom"},
    "right": {"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top"},
}


def style(fig, *, height: int | None = None, title: str | None = None, span: float = 1.0,
          legend: str = "below"):
    """Apply the app's look to ``fig`` and return it (once per figure).

    ``span`` is the share of the page's width the figure gets (1/2 in two
    columns), used to wrap the title. ``legend`` is "below" the plot or on its
    "right". Every font is set to at least :data:`MIN_FONT_SIZE`; fonts and the
    height grow by :data:`SCALE`.
    """
    scale = SCALE.get()
    font, title_size = round(FONT_SIZE * scale), round(TITLE_SIZE * scale)
    smallest = round(MIN_FONT_SIZE * scale)
    text = fig.layout.title.text if title is None else title
    fig.update_layout(
        font={"size": font}, margin=MARGIN, hoverlabel={"font": {"size": font}},
        title={"text": wrap(text, span, title_size) if text else None,
               "font": {"size": title_size}, "x": 0, "xanchor": "left", "xref": "paper",
               "yref": "paper", "automargin": True},
        legend={**_LEGENDS[legend], "font": {"size": font}, "title": {"font": {"size": font}}},
        uniformtext={"minsize": smallest, "mode": "hide"},
    )
    if height is not None:
        fig.update_layout(height=int(height))
    if fig.layout.height is not None and scale != 1.0:
        fig.update_layout(height=int(fig.layout.height * scale))
    lines = [note.text.count("<br>") + 1 for note in fig.layout.annotations
             if note.yref == "paper" and note.yanchor == "bottom" and (note.y or 0) >= 0.99]
    if lines:  # subplot titles above the top row
        space = round((SUBPLOT_TITLE_LINE * max(lines) + 12) * scale)
        if text:
            fig.update_layout(title_pad_b=space)
        else:
            fig.update_layout(margin_t=MARGIN["t"] + space)
    for update in (fig.update_xaxes, fig.update_yaxes):
        update(tickfont={"size": round(TICK_SIZE * scale)}, title_font={"size": font},
               automargin=True)
    for note in fig.layout.annotations:
        size = note.font.size
        note.font.size = font if size is None else round(max(size, MIN_FONT_SIZE) * scale)
    for trace in fig.data:
        _style_trace(trace, scale)
    for name in fig.layout:
        if name.startswith("coloraxis"):
            _style_colorbar(fig.layout[name].colorbar, scale)
    return fig


def _style_trace(trace, scale: float) -> None:
    # only bars that show: giving a marker a colour bar makes Plotly draw one
    if "colorbar" in trace and trace.showscale is not False and not trace.coloraxis:
        _style_colorbar(trace.colorbar, scale)
    marker = getattr(trace, "marker", None)
    if marker is not None and "colorbar" in marker and marker.showscale:
        _style_colorbar(marker.colorbar, scale)
    if "textfont" in trace and (getattr(trace, "text", None) is not None
                                or getattr(trace, "texttemplate", None)):
        size = trace.textfont.size
        if not isinstance(size, (tuple, list)):
            trace.textfont.size = round((FONT_SIZE if size is None
                                         else max(size, MIN_FONT_SIZE)) * scale)


def _style_colorbar(bar, scale: float) -> None:
    bar.tickfont.size = round(max(bar.tickfont.size or FONT_SIZE, MIN_FONT_SIZE) * scale)
    bar.title.font.size = round(max(bar.title.font.size or FONT_SIZE, MIN_FONT_SIZE) * scale)
