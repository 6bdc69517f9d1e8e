"""Figures of what layers see: feature-map grids, statistics against depth, channel
strengths of two images, and the activation curves of gradient ascent on filters."""

from __future__ import annotations

import numpy as np

from cnnviz.figures import theme
from cnnviz.figures.colour import colorize
from cnnviz.figures.maps import tile_grid


def statistics_figure(rows: list[dict]):
    """Size, channels, share of zeros and mean activation against depth, one panel each
    (rows from :func:`cnnviz.activations.layer_statistics`; a NaN share of zeros, for
    a layer with no non-linearity to count them at, is left out of its line)."""
    from plotly.subplots import make_subplots

    depth = [r["depth"] for r in rows]
    names = [r["layer"] for r in rows]
    panels = (
        ("Size (height, px)", "height"),
        ("Channels", "channels"),
        ("Zeros after ReLU", "fraction zero"),
        ("Mean activation", "mean activation"),
    )
    fig = make_subplots(rows=1, cols=4, subplot_titles=[p[0] for p in panels],
                        horizontal_spacing=0.07)
    for col, (_, key) in enumerate(panels, start=1):
        values = [None if not np.isfinite(r[key]) else r[key] for r in rows]
        fig.add_scatter(x=depth, y=values, mode="lines+markers", text=names, connectgaps=True,
                        hovertemplate="%{text}<br>%{y:.3g}<extra></extra>", row=1, col=col,
                        showlegend=False, marker={"size": 9, "color": theme.CATEGORICAL[0]},
                        line={"width": 3, "color": theme.CATEGORICAL[0]})
        fig.update_xaxes(title_text="depth (layer #)", row=1, col=col)
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_yaxes(type="log", row=1, col=2)
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", row=1, col=3)
    return theme.style(fig, height=360)


def hierarchy_figure(h):
    """Probe accuracy against depth (a :class:`cnnviz.hierarchy.Hierarchy`): every
    layer's own channels with their spread over the splits, the same number of
    features for every layer, and chance."""
    import plotly.graph_objects as go

    depth = list(h.depths)
    names = [f"{n} ({c} channels)" for n, c in zip(h.layers, h.channels)]
    fig = go.Figure()
    fig.add_scatter(x=depth, y=h.accuracy, mode="lines+markers", name="all its channels",
                    error_y={"type": "data", "array": h.spread, "thickness": 2},
                    text=names, hovertemplate="%{text}<br>%{y:.0%}<extra></extra>",
                    marker={"size": 10, "color": theme.CATEGORICAL[0]},
                    line={"width": 3, "color": theme.CATEGORICAL[0]})
    fig.add_scatter(x=depth, y=h.accuracy_equal, mode="lines+markers",
                    name=f"{h.equal_features} features per layer", text=names,
                    hovertemplate="%{text}<br>%{y:.0%}<extra></extra>",
                    marker={"size": 8, "color": theme.CATEGORICAL[1]},
                    line={"width": 3, "dash": "dash", "color": theme.CATEGORICAL[1]})
    fig.add_hline(y=h.chance, line={"color": theme.NEUTRAL, "dash": "dot", "width": 2},
                  annotation_text=f"chance {h.chance:.0%}", annotation_position="top left")
    fig.update_layout(xaxis_title="depth (layer #)", yaxis_title="probe test accuracy")
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%")
    return theme.style(fig, height=380, title=(
        f"How well a linear probe reads the shape from each layer ({h.n_images} images, "
        f"{h.n_test} held out)"))


def feature_map_grid_figure(scaled: np.ndarray, labels, *, cols: int, pad: int = 2,
                            colorbar_title: str | None = None, vmin: float = 0.0,
                            vmax: float = 1.0, span: float = 1.0):
    """Feature maps (k, h, w) scaled to [0, 1] as one tiled picture that reports which
    tile was clicked, with the colour bar of the scale.

    The tiles are one image; an almost invisible marker on each tile's centre
    carries its label, so a click (Streamlit ``on_select``) selects it. ``vmin``
    and ``vmax`` are the values 0 and 1 stand for when one scale serves all tiles;
    by default each map is scaled to its own range and the bar reads "min" to "max".
    ``span``: the share of the page's width the figure gets (in a narrow column
    the colour bar goes under the tiles).
    """
    import plotly.graph_objects as go

    scaled = np.asarray(scaled)
    k, h, w = scaled.shape[:3]
    tiles = colorize(scaled, colormap=theme.SEQUENTIAL, vmin=0.0, vmax=1.0)
    picture = tile_grid(tiles, cols=cols, pad=pad)
    xs, ys = [], []
    for i in range(k):
        r, c = divmod(i, cols)
        xs.append(c * (w + pad) + w / 2)
        ys.append(r * (h + pad) + h / 2)
    fig = go.Figure(go.Image(z=picture, hoverinfo="skip"))
    fig.add_scatter(x=xs, y=ys, mode="markers", customdata=list(labels), text=list(labels),
                    marker={"size": 28, "opacity": 0.02, "color": "white"},
                    hovertemplate="%{text}<extra></extra>", showlegend=False)
    vmin, vmax = theme.value_range([vmin, vmax])
    narrow = span < 0.75
    bar = theme.colorbar(colorbar_title, below=narrow)
    if (vmin, vmax) == (0.0, 1.0):
        bar.update(theme.labelled_ticks({0.0: "min", 1.0: "max"}, 0.0, 1.0))
    fig.add_scatter(x=[None], y=[None], mode="markers", showlegend=False, hoverinfo="skip",
                    marker={"colorscale": theme.SEQUENTIAL, "cmin": vmin, "cmax": vmax,
                            "color": [vmin], "showscale": True, "colorbar": bar})
    aspect = picture.shape[0] / picture.shape[1]
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(clickmode="event+select", dragmode=False)
    plot_width = theme.CONTENT_WIDTH * span - (20 if narrow else 100)
    return theme.style(fig, height=int(40 + plot_width * aspect + (90 if narrow else 0)))


def map_rows_figure(rows, *, cols: int = 8, vmin: float = 0.0, vmax: float = 1.0,
                    scale_labels: tuple[str, str] = ("min", "max"),
                    colorbar_title: str | None = None, span: float = 1.0):
    """Rows of feature maps in one clickable picture, each row under its own title.

    ``rows``: (title, maps (k, h, w) scaled to [0, 1], one click label per map).
    Maps of every row are drawn at one tile size (nearest neighbour, so a 16×16
    map shows its 16×16 pixels), so an early layer's 64×64 maps and a deep layer's
    16×16 ones sit side by side at the same size. A click on a tile reports its
    label (Streamlit ``on_select``). ``vmin``/``vmax`` are what 0 and 1 stand for;
    when they are 0 and 1 the colour bar reads ``scale_labels``.
    """
    import plotly.graph_objects as go

    tile = max(32, min(96, max(m.shape[1] for _, m, _ in rows)))
    pad = max(1, tile // 24)
    plot_width = theme.CONTENT_WIDTH * span - 100
    px_per_unit = plot_width / (cols * (tile + pad) - pad)
    title_gap = int(np.ceil(30 / px_per_unit))  # room for a row's title, in picture pixels
    strips, xs, ys, labels, notes, top = [], [], [], [], [], 0
    for title, maps, row_labels in rows:
        maps = np.asarray(maps)
        k, h, w = maps.shape
        pick_r = np.arange(tile) * h // tile
        pick_c = np.arange(tile) * w // tile
        tiles = colorize(maps[:, pick_r][:, :, pick_c], colormap=theme.SEQUENTIAL,
                         vmin=0.0, vmax=1.0)
        strip = np.full((title_gap, cols * (tile + pad) - pad, 3), 255, np.uint8)
        grid = tile_grid(tiles, cols=cols, pad=pad)
        width = cols * (tile + pad) - pad
        grid = np.pad(grid, ((0, pad), (0, width - grid.shape[1]), (0, 0)),
                      constant_values=255)
        notes.append({"text": title, "x": 0, "y": top + title_gap - 4})
        for i, label in enumerate(row_labels):
            r, c = divmod(i, cols)
            xs.append(c * (tile + pad) + tile / 2)
            ys.append(top + title_gap + r * (tile + pad) + tile / 2)
            labels.append(label)
        strips += [strip, grid]
        top += title_gap + grid.shape[0]
    picture = np.concatenate(strips, axis=0)
    fig = go.Figure(go.Image(z=picture, hoverinfo="skip"))
    fig.add_scatter(x=xs, y=ys, mode="markers", customdata=labels, text=labels,
                    marker={"size": 28, "opacity": 0.02, "color": "white"},
                    hovertemplate="%{text}<extra></extra>", showlegend=False)
    for note in notes:
        fig.add_annotation(xref="x", yref="y", xanchor="left", yanchor="bottom",
                           showarrow=False, font={"size": theme.FONT_SIZE}, **note)
    vmin, vmax = theme.value_range([vmin, vmax])
    bar = theme.colorbar(colorbar_title)
    if (vmin, vmax) == (0.0, 1.0):
        bar.update(theme.labelled_ticks(dict(zip((0.0, 1.0), scale_labels)), 0.0, 1.0))
    fig.add_scatter(x=[None], y=[None], mode="markers", showlegend=False, hoverinfo="skip",
                    marker={"colorscale": theme.SEQUENTIAL, "cmin": vmin, "cmax": vmax,
                            "color": [vmin], "showscale": True, "colorbar": bar})
    fig.update_xaxes(visible=False, range=[-0.5, picture.shape[1] - 0.5])
    fig.update_yaxes(visible=False, range=[picture.shape[0] - 0.5, -0.5], scaleanchor="x")
    fig.update_layout(clickmode="event+select", dragmode=False)
    return theme.style(fig, height=int(20 + picture.shape[0] * px_per_unit))


def channel_strength_figure(strengths):
    """Mean activation of every channel, one bar colour per image; ``strengths`` is a
    list of (image name, strength per channel) pairs."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, (name, values) in enumerate(strengths):
        fig.add_bar(x=list(range(len(values))), y=list(values), name=name,
                    marker_color=theme.CATEGORICAL[i])
    fig.update_layout(barmode="group", xaxis_title="channel", yaxis_title="mean activation")
    return theme.style(fig, height=360)


def activation_curves_figure(history: np.ndarray, filter_indices):
    """Each filter's mean activation per step of gradient ascent (history: steps x n).

    The filters are not categories a reader tells apart by colour: every filter is
    one thin line of the same colour (hovering names it), the median of all of
    them one bold line: the story is "they all rise", and which ones stay at 0.
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, f in enumerate(filter_indices):
        fig.add_scatter(y=history[:, i], mode="lines", name="one line per filter",
                        legendgroup="filters", showlegend=i == 0, opacity=0.5,
                        line={"width": 1.5, "color": theme.CATEGORICAL[0]},
                        hovertemplate=f"filter {f}, step %{{x}}: %{{y:.3g}}<extra></extra>")
    fig.add_scatter(y=np.median(history, axis=1), mode="lines", name="median of the filters",
                    line={"width": 4, "color": theme.CATEGORICAL[6]},
                    hovertemplate="median, step %{x}: %{y:.3g}<extra></extra>")
    fig.update_layout(xaxis_title="step", yaxis_title="mean activation")
    return theme.style(fig, height=380,
                       title="Each filter's activation rises as its image is optimised")
