"""Figures of Grad-CAM's steps and of the checks on attribution maps.

Heat-map overlays themselves are images (:func:`cnnviz.images.overlay` with
``theme.SEQUENTIAL``); :func:`cnnviz.figures.maps.colour_legend` is their key.
"""

from __future__ import annotations

import numpy as np

from cnnviz.figures import theme

#: Overlays show maps scaled to [0, 1]; this is the key under them.
OVERLAY_TICKS = {0.0: "0: none", 0.5: "0.5", 1.0: "1: strongest"}
#: How strongly a map is blended over its image in every overlay of the page.
OVERLAY_ALPHA = 0.45


def _peak_pixel(heat: np.ndarray, size: tuple[int, int]) -> tuple[float, float]:
    """(row, col) in image pixels of the centre of a map's highest cell."""
    h, w = heat.shape
    row, col = np.unravel_index(int(np.argmax(heat)), heat.shape)
    return (row + 0.5) * size[0] / h - 0.5, (col + 0.5) * size[1] / w - 0.5


def class_maps_figure(image: np.ndarray, maps: np.ndarray, titles, *, scale: float,
                      empty=(), span: float = 2 / 3, height: int | None = None):
    """Several classes' maps over one image, on ONE colour scale.

    ``maps`` (k, h, w) are already divided by the shared scale (so in [0, 1]);
    ``scale`` is the raw value of 1 (the colour bar shows raw units: logit per
    position). ``titles``: one text per map (``<br>`` breaks lines). A gold star
    marks each map's peak, except where ``empty[i]`` (nothing to point at).
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from cnnviz.figures.maps import image_data_uri
    from cnnviz.images import overlay

    k = len(maps)
    cols = min(k, 3)
    rows = -(-k // cols)
    lines = max(str(t).count("<br>") + 1 for t in titles) if k else 1
    title_px = theme.SUBPLOT_TITLE_LINE * lines * theme.SCALE.get() + 12
    if height is None:
        tile = (theme.CONTENT_WIDTH * span - 20) / cols
        height = int(rows * (tile + title_px) + 90)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=list(titles),
                        horizontal_spacing=0.04,
                        vertical_spacing=min(0.5, title_px / height) if rows > 1 else 0.0)
    size = image.shape[:2]
    for i, heat in enumerate(maps):
        r, c = divmod(i, cols)
        shown = overlay(image, heat, alpha=OVERLAY_ALPHA, colormap=theme.SEQUENTIAL,
                        vmin=0, vmax=1)
        fig.add_trace(go.Image(source=image_data_uri(shown), hoverinfo="skip"),
                      row=r + 1, col=c + 1)
        if not (len(empty) > i and empty[i]):
            y, x = _peak_pixel(heat, size)
            fig.add_trace(go.Scatter(x=[x], y=[y], mode="markers", showlegend=False,
                                     cliponaxis=False, hovertemplate="peak<extra></extra>",
                                     marker={"symbol": "star", "size": 18, "color": "gold",
                                             "line": {"color": "black", "width": 1.5}}),
                          row=r + 1, col=c + 1)
    fig.update_xaxes(visible=False, range=[-0.5, size[1] - 0.5], constrain="domain")
    fig.update_yaxes(visible=False, range=[size[0] - 0.5, -0.5], constrain="domain")
    for i in range(1, k + 1):  # square pixels
        fig.update_layout({f"yaxis{i}": {"scaleanchor": f"x{i}"}})
    bar = theme.colorbar("ReLU(Σα·A), one scale for every map", below=True,
                         tickformat=".2~g", y=-0.04)
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", showlegend=False,
                             hoverinfo="skip",
                             marker={"colorscale": theme.SEQUENTIAL, "cmin": 0, "cmax": scale,
                                     "color": [0], "showscale": True, "colorbar": bar}))
    fig.update_layout(dragmode=False, plot_bgcolor="rgba(0,0,0,0)")
    return theme.style(fig, height=height, span=span)


def gradient_channels_figure(acts: np.ndarray, grads: np.ndarray, channels):
    """Chosen channels of a layer: activations (top row) and the gradient of the
    class logit with respect to them (bottom row), each row on one shared scale."""
    from plotly.subplots import make_subplots

    n = len(channels)
    fig = make_subplots(rows=2, cols=n, horizontal_spacing=0.03, vertical_spacing=0.1,
                        subplot_titles=[f"ch {k}" for k in channels])
    a_low, a_high = theme.value_range(acts[..., channels])
    g_low, g_high = theme.signed_range(grads[..., channels])
    for j, k in enumerate(channels):
        fig.add_heatmap(z=acts[..., k], coloraxis="coloraxis", row=1, col=j + 1,
                        hovertemplate="A = %{z:.3g}<extra></extra>")
        fig.add_heatmap(z=grads[..., k], coloraxis="coloraxis2", row=2, col=j + 1,
                        hovertemplate="∂y/∂A = %{z:.3g}<extra></extra>")
    for i in range(1, 2 * n + 1):  # square pixels, maps drawn the right way up
        fig.update_layout({f"yaxis{i}": {"scaleanchor": f"x{i}", "constrain": "domain",
                                         "autorange": "reversed", "showticklabels": False,
                                         "ticks": ""},
                           f"xaxis{i}": {"constrain": "domain", "showticklabels": False,
                                         "ticks": ""}})
    fig.update_layout(
        coloraxis={"colorscale": theme.SEQUENTIAL, "cmin": a_low, "cmax": a_high,
                   "colorbar": theme.colorbar("A", y=0.77, len=0.45)},
        coloraxis2={"colorscale": theme.DIVERGING, "cmin": g_low, "cmax": g_high,
                    "colorbar": theme.colorbar("∂y/∂A", y=0.23, len=0.45)})
    fig.update_yaxes(title_text="activation", row=1, col=1)
    fig.update_yaxes(title_text="gradient", row=2, col=1)
    tile = (theme.CONTENT_WIDTH - 160) / n  # px: the tiles share the width left of the bars
    return theme.style(fig, height=int(170 + 2 * tile))


def channel_weights_figure(weights: np.ndarray, *, pooling: str = "mean"):
    """One weight per channel, sorted, red where it raises the class score."""
    import plotly.graph_objects as go

    order = np.argsort(-weights)
    sorted_weights = weights[order]
    rank = np.arange(len(weights))
    fig = go.Figure()
    for name, colour, keep in (("raises the score", theme.POSITIVE, sorted_weights >= 0),
                               ("lowers the score", theme.NEGATIVE, sorted_weights < 0)):
        fig.add_bar(x=rank[keep], y=sorted_weights[keep], name=name, marker_color=colour,
                    customdata=order[keep],
                    hovertemplate="channel %{customdata}: α = %{y:.3g}<extra></extra>")
    fig.update_layout(xaxis_title="channels, sorted by weight", yaxis_title=f"α ({pooling})",
                      bargap=0.1)
    return theme.style(fig, height=320)


def sanity_figure(steps, correlations):
    """Spearman correlation with the trained map as layers are re-initialised."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=list(steps), y=list(correlations), mode="lines+markers",
                               line={"color": theme.CATEGORICAL[0], "width": 3},
                               marker={"size": 9}))
    fig.add_hline(y=0, line_color=theme.NEUTRAL, line_dash="dot")
    fig.update_layout(xaxis_title="layers re-initialised (cumulative)",
                      yaxis_title="Spearman ρ", yaxis_range=[-1, 1.05])
    return theme.style(fig, height=340)


def localisation_figure(methods, scores: dict[str, list[float]], chance: float):
    """Pointing game and energy inside the object per method, with the chance level."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, (name, values) in enumerate(scores.items()):
        fig.add_bar(x=list(methods), y=list(values), name=name,
                    marker_color=theme.CATEGORICAL[i])
    fig.add_hline(y=chance, line_dash="dot", line_color=theme.NEUTRAL,
                  annotation_text="chance (object area)")
    fig.update_layout(barmode="group", yaxis_title="score", yaxis_range=[0, 1])
    return theme.style(fig, height=400)


def scene_pointing_figure(methods, own, other, chance: float):
    """Per method: how often a class's map peaks on its own object, and on another
    object of the scene; the dotted line is chance (the object's area share)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, (label, values) in enumerate((("on its own object", own),
                                         ("on another object", other))):
        fig.add_bar(x=list(methods), y=list(values), name=label,
                    marker_color=theme.CATEGORICAL[i],
                    hovertemplate="%{x}: %{y:.0%}<extra>" + label + "</extra>")
    fig.add_hline(y=chance, line_dash="dot", line_color=theme.NEUTRAL,
                  annotation_text="chance (object area)")
    fig.update_layout(barmode="group", yaxis_title="share of maps", yaxis_range=[0, 1],
                      yaxis_tickformat=".0%")
    return theme.style(fig, height=400)


def deletion_insertion_figure(fractions, deletion: dict[str, np.ndarray],
                              insertion: dict[str, np.ndarray], *, ylabel: str):
    """Class probability as the top-ranked pixels are deleted (solid) or inserted
    (dashed), one colour per map ({map name: curve})."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for kind, curves, dash in (("deletion", deletion, "solid"),
                               ("insertion", insertion, "dash")):
        for i, (name, values) in enumerate(curves.items()):
            fig.add_scatter(x=list(fractions), y=list(values), mode="lines",
                            name=f"{kind}, {name}",
                            line={"color": theme.CATEGORICAL[i], "dash": dash, "width": 3})
    fig.update_layout(xaxis_title="fraction of pixels", yaxis_title=ylabel,
                      yaxis_range=[0, 1.02])
    return theme.style(fig, height=400)
