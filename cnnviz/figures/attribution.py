"""Figures of Grad-CAM's steps and of the checks on attribution maps.

Heat-map overlays themselves are images (:func:`cnnviz.images.overlay` with
``theme.SEQUENTIAL``); :func:`cnnviz.figures.maps.colour_legend` is their key.
"""

from __future__ import annotations

import numpy as np

from cnnviz.figures import theme

#: Overlays show maps scaled to [0, 1]; this is the key under them.
OVERLAY_TICKS = {0.0: "0: none", 0.5: "0.5", 1.0: "1: strongest"}


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
