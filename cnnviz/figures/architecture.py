"""Figures of the architecture demos: a 1x1 convolution at one pixel, the channels of
a feature map, how inception branches line up in their concatenation and what area of
the image moves each branch."""

from __future__ import annotations

import numpy as np

from cnnviz.figures import theme
from cnnviz.figures.colour import colorize
from cnnviz.figures.maps import image_data_uri, scale_for, tile_grid


def _sign_colours(values) -> list[str]:
    return [theme.POSITIVE if v >= 0 else theme.NEGATIVE for v in np.asarray(values)]


def pointwise_figure(pw):
    """The channel vector at the pixel, the C x K weights, and the K output values
    of a :class:`cnnviz.archdemo.Pointwise`."""
    from plotly.subplots import make_subplots

    c, k = pw.weights.shape
    fig = make_subplots(rows=1, cols=3, column_widths=[0.22, 0.56, 0.22],
                        horizontal_spacing=0.08, subplot_titles=(
                            f"input at the pixel:<br>{c} channels",
                            f"weights {c} x {k}:<br>column j makes output j",
                            f"output:<br>{k} weighted sums"))
    channels = np.arange(c)
    fig.add_bar(y=channels, x=pw.vector, orientation="h", marker_color=_sign_colours(pw.vector),
                row=1, col=1, name="input value")
    low, high = theme.signed_range(pw.weights)
    fig.add_heatmap(z=pw.weights, x=np.arange(k), y=channels, colorscale=theme.DIVERGING,
                    zmin=low, zmax=high, row=1, col=2,
                    colorbar=theme.colorbar("weight", below=True, x=0.5, xanchor="center",
                                            len=0.45, y=-0.2),
                    hovertemplate="in %{y} → out %{x}: w = %{z:.3f}<extra></extra>")
    fig.add_bar(x=np.arange(k), y=pw.sums, marker_color=_sign_colours(pw.sums),
                row=1, col=3, name="output value")
    fig.update_yaxes(title_text="input channel", autorange="reversed", row=1, col=1)
    fig.update_yaxes(autorange="reversed", row=1, col=2)
    fig.update_xaxes(title_text="value", row=1, col=1)
    fig.update_xaxes(title_text="output channel", row=1, col=2)
    fig.update_xaxes(title_text="output channel", row=1, col=3)
    fig.update_layout(showlegend=False)
    return theme.style(fig, height=540)


def channel_tiles_figure(maps: np.ndarray, count: int = 8, *, cols: int | None = None,
                         mark: tuple[int, int] | None = None, title: str = "",
                         span: float = 0.5):
    """The first ``count`` channels of (h, w, k) maps as tiles on one shared scale.

    Signed maps take the diverging scale, others the sequential one; the colour
    bar gives the values. ``mark`` = (row, col) outlines that pixel in every tile.
    """
    import plotly.graph_objects as go

    maps = np.asarray(maps, dtype=np.float32)[..., :count]
    h, w, k = maps.shape
    cols = cols or k
    scale, vmin, vmax = scale_for(maps)
    tiles = colorize(np.moveaxis(maps, -1, 0), colormap=scale, vmin=vmin, vmax=vmax)
    pad = max(1, round(max(h, w) / 12))
    picture = tile_grid(tiles, cols=cols, pad=pad)
    fig = go.Figure(go.Image(source=image_data_uri(picture), x0=0, y0=0, dx=1, dy=1,
                             hoverinfo="skip"))
    narrow = span < 0.4  # in a narrow column the colour bar goes under the tiles
    bar = theme.colorbar(below=narrow)
    fig.add_scatter(x=[None], y=[None], mode="markers", showlegend=False, hoverinfo="skip",
                    marker={"colorscale": scale, "cmin": vmin, "cmax": vmax, "color": [vmin],
                            "showscale": True, "colorbar": bar})
    for i in range(k):
        r, c = divmod(i, cols)
        top, left = r * (h + pad), c * (w + pad)
        if mark is not None:
            for colour, width in (("white", 5), ("black", 2)):
                fig.add_shape(type="rect", x0=left + mark[1] - 0.5, x1=left + mark[1] + 0.5,
                              y0=top + mark[0] - 0.5, y1=top + mark[0] + 0.5,
                              line={"color": colour, "width": width})
    rows = -(-k // cols)
    fig.update_xaxes(visible=False, range=[-0.5, picture.shape[1] - 0.5], constrain="domain")
    fig.update_yaxes(visible=False, range=[picture.shape[0] - 0.5, -0.5], scaleanchor="x",
                     constrain="domain")
    fig.update_layout(dragmode=False)
    width = theme.CONTENT_WIDTH * span - (0 if narrow else 80)
    height = (40 + width * rows * (h + pad) / picture.shape[1] + (60 if title else 0)
              + (60 if narrow else 0))
    return theme.style(fig, height=max(140, int(height)), title=title, span=span)


def concat_figure(channels: dict[str, int]):
    """One stacked bar: how the branches' channels line up in the concatenation."""
    import plotly.graph_objects as go

    fig = go.Figure()
    start = 0
    for i, (name, count) in enumerate(channels.items()):
        fig.add_bar(y=[""], x=[count], orientation="h", name=f"{name}: {count} ch",
                    marker_color=theme.CATEGORICAL[i], text=f"{count} ch",
                    textposition="inside", insidetextanchor="middle",
                    hovertemplate=f"channels {start}–{start + count - 1}<extra>{name}</extra>")
        start += count
    fig.update_layout(barmode="stack", xaxis_title=f"channel index (total {start})",
                      legend_traceorder="normal")
    return theme.style(fig, height=230)


def branch_field_figure(trained, branch: str, fraction: float):
    """One branch's effective field (|gradient| of its centre unit per pixel) with its
    theoretical field (yellow box) and the square holding ``fraction`` of it (white),
    cut to the same window around the unit for every branch of the block (the widest
    branch's field and a margin), so the squares compare at one zoom."""
    from cnnviz.figures.maps import map_figure

    scale = trained.branches[branch]
    size = scale.erf.shape
    widest = max(b.field for b in trained.branches.values()) + 6
    top, left, bottom, right, _ = _square(trained.centre, widest, size, "")

    def box(side: int, colour: str):
        t, lf, b, r, _ = _square(trained.centre, side, size, colour)
        return t - top, lf - left, b - top, r - left, colour

    boxes = [box(scale.field, "yellow")]
    if scale.erf.any():
        boxes.append(box(scale.side(fraction), "white"))
    return map_figure(scale.erf[top:bottom + 1, left:right + 1],
                      title="|∂unit/∂pixel|", colorscale=theme.SEQUENTIAL,
                      boxes=boxes, span=0.25)


def _square(centre, side: int, size, colour: str):
    """(top, left, bottom, right, colour) of the ``side``-px square around ``centre``,
    clipped to an image of ``size`` (rows, cols)."""
    lo = [int(np.floor(c - (side - 1) / 2 + 1e-9)) for c in centre]
    hi = [int(np.ceil(c + (side - 1) / 2 - 1e-9)) for c in centre]
    return (max(lo[0], 0), max(lo[1], 0), min(hi[0], size[0] - 1), min(hi[1], size[1] - 1),
            colour)
