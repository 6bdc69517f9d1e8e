"""Checks that a Plotly figure follows the app's template (cnnviz.figures.theme).

Shared by the figure tests: fonts of at least 14 px set on the figure itself
(Streamlit's own template would shrink anything left unset), a colour bar for
every heat map, diverging scales symmetric around 0, categories told apart.
"""

from __future__ import annotations

import plotly.graph_objects as go

from cnnviz.figures import theme

MIN_PX = 14
DIVERGING = go.Heatmap(colorscale=theme.DIVERGING).colorscale
#: RdBu not reversed would make positive blue: the opposite of the app's meaning.
INVERTED = go.Heatmap(colorscale="RdBu").colorscale


def font_sizes(node, path="layout"):
    """(path, size) of every font size in a figure's JSON (without its template)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "template":
                continue
            if key.endswith("font") and isinstance(value, dict) and "size" in value:
                sizes = value["size"]
                for size in sizes if isinstance(sizes, (list, tuple)) else [sizes]:
                    yield f"{path}.{key}", size
            yield from font_sizes(value, f"{path}.{key}")
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from font_sizes(value, f"{path}[{i}]")


def _colour_scales(fig):
    """(where, scale, low, high, shows a bar) of every colour scale in the figure."""
    for i, trace in enumerate(fig.data):
        if getattr(trace, "colorscale", None) is not None:
            yield f"trace {i}", trace.colorscale, trace.zmin, trace.zmax, trace.showscale
        marker = getattr(trace, "marker", None)
        if marker is not None and getattr(marker, "colorscale", None) is not None:
            yield f"trace {i} marker", marker.colorscale, marker.cmin, marker.cmax, \
                marker.showscale
    for name in fig.layout:
        if name.startswith("coloraxis"):
            axis = fig.layout[name]
            yield name, axis.colorscale, axis.cmin, axis.cmax, axis.showscale


def assert_follows_template(fig) -> None:
    """Fail with the first rule of the template that ``fig`` breaks."""
    spec = fig.to_plotly_json()
    small = [(path, size) for path, size in font_sizes(spec["layout"], "layout")]
    small += [(path, size) for i, trace in enumerate(spec["data"])
              for path, size in font_sizes(trace, f"data[{i}]")]
    small = [(path, size) for path, size in small if size is not None and size < MIN_PX]
    assert not small, f"fonts under {MIN_PX} px: {small}"
    layout = fig.layout
    assert (layout.font.size or 0) >= MIN_PX, "figure font not set"
    assert (layout.legend.font.size or 0) >= MIN_PX, "legend font not set"
    if layout.title.text:
        assert (layout.title.font.size or 0) >= MIN_PX, "title font not set"
    for name in layout:
        if name.startswith(("xaxis", "yaxis")) and layout[name].visible is not False:
            assert (layout[name].tickfont.size or 0) >= MIN_PX, f"{name} tick font not set"
    for note in layout.annotations:
        assert (note.font.size or 0) >= MIN_PX, f"annotation {note.text!r} font not set"
    for i, trace in enumerate(fig.data):
        if trace.type == "heatmap":
            axis = trace.coloraxis
            shown = layout[axis].showscale if axis else trace.showscale
            assert shown is not False, f"heat map {i} has no colour bar"
    for where, scale, low, high, shown in _colour_scales(fig):
        assert scale != INVERTED, f"{where}: RdBu not reversed makes positive blue"
        if scale == DIVERGING:
            assert low is not None and low == -high, f"{where}: diverging scale not symmetric"
        if shown:
            bar = (layout[where].colorbar if where.startswith("coloraxis")
                   else fig.data[int(where.split()[1])].marker.colorbar if "marker" in where
                   else fig.data[int(where.split()[1])].colorbar)
            assert (bar.tickfont.size or 0) >= MIN_PX, f"{where}: colour-bar ticks not set"
    styles = []
    for trace in fig.data:
        if trace.type not in ("scatter", "bar") or trace.showlegend is False or not trace.name:
            continue
        line = getattr(trace, "line", None)
        colour = trace.marker.color if trace.type == "bar" else (line.color or trace.marker.color)
        if isinstance(colour, (list, tuple)):
            continue  # one colour per bar (by sign), not a category
        styles.append((colour, line.dash if trace.type == "scatter" else None))
    assert len(styles) == len(set(styles)), f"categories share a colour and dash: {styles}"
