"""Figures of the pooling page: receptive fields growing with depth, and how much
a shift of the image changes each layer and the prediction."""

from __future__ import annotations

import numpy as np

from cnnviz.figures import theme


def receptive_growth_figure(names, sizes, jumps, *, span: float = 0.4):
    """Receptive-field size (line) and jump (bars) after each layer of a stack."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_bar(x=list(names), y=list(jumps), name="jump (px)",
                marker_color=theme.CATEGORICAL[4], opacity=0.6)
    fig.add_scatter(x=list(names), y=list(sizes), mode="lines+markers", name="receptive field",
                    line={"color": theme.CATEGORICAL[0], "width": 3}, marker={"size": 9})
    fig.update_layout(yaxis_title="pixels")
    fig.update_xaxes(tickangle=-45)
    return theme.style(fig, height=380, span=span,
                       title=f"Last layer sees {sizes[-1]}x{sizes[-1]} pixels")


def shift_change_figure(change: np.ndarray, shifts, layers, *, span: float = 0.4):
    """Relative change of each layer's activations (rows: shifts, columns: layers)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, (shift, row) in enumerate(zip(shifts, change, strict=True)):
        fig.add_scatter(x=list(layers), y=list(row), mode="lines+markers",
                        name=f"{shift} px", line={"width": 3, **theme.line_style(i)})
    fig.update_layout(xaxis_title="layer", yaxis_title="relative change",
                      legend_title_text="shift")
    fig.update_xaxes(tickangle=-45)
    return theme.style(fig, height=420, span=span,
                       title="‖a(shifted) − a(original)‖ / ‖a(original)‖ per layer")


def shift_probability_figure(shifts, probabilities, labels, class_name: str, *,
                             span: float = 0.4):
    """The probability of the original class as the image shifts; ``labels`` name the
    top class where it changes."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=list(shifts), y=list(probabilities), text=list(labels),
                               mode="lines+markers+text", textposition="top center",
                               line={"color": theme.CATEGORICAL[0], "width": 3},
                               marker={"size": 9}))
    fig.update_layout(xaxis_title="shift (pixels)", yaxis_title=f"P({class_name})",
                      yaxis_range=[0, 1.1])
    return theme.style(fig, height=420, span=span,
                       title=f"P('{class_name}'); labels: top class if it changes")


def same_prediction_figure(shifts, same: dict[str, np.ndarray], n_images: int, *,
                           span: float = 0.5):
    """Share of images whose prediction survives each shift, one line per model."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, (name, values) in enumerate(same.items()):
        fig.add_scatter(x=list(shifts), y=list(values), mode="lines+markers", name=name,
                        line={"width": 3, **theme.line_style(i)}, marker={"size": 8})
    fig.update_layout(xaxis_title="shift (pixels)", yaxis_title="same prediction",
                      yaxis_range=[0, 1.05])
    title = f"Share of {n_images} validation images whose prediction does not change"
    return theme.style(fig, height=420, span=span, title=title)


def layer_change_figure(layers, change: dict[str, list[float]], *, span: float = 0.5):
    """Relative change per layer after a 1-pixel shift, one bar group per model."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, (name, values) in enumerate(change.items()):
        fig.add_bar(x=list(layers), y=list(values), name=name,
                    marker_color=theme.CATEGORICAL[i])
    fig.update_layout(barmode="group", xaxis_title="layer", yaxis_title="relative change")
    return theme.style(fig, height=420, span=span,
                       title="Change per layer after a 1-pixel shift")


def pair_costs_figure(costs: dict, *, span: float = 1.0):
    """Parameters and multiply-adds per weighted layer of the pooled and plain nets
    (``{"pooled": [LayerCost], "plain": [...]}``), on log axes, so heads that differ
    many times over both show."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=("Parameters per layer", "Multiply-adds per image"))
    for i, (name, rows) in enumerate(costs.items()):
        weighted = [c for c in rows if c.params]
        names = [f"{c.name} (head)" if c.head else c.name for c in weighted]
        for col, values in ((1, [c.params for c in weighted]), (2, [c.macs for c in weighted])):
            fig.add_trace(go.Bar(x=names, y=values, name=name, showlegend=col == 1,
                                 marker_color=theme.CATEGORICAL[i],
                                 hovertemplate=f"{name} %{{x}}: %{{y:,}}<extra></extra>"),
                          row=1, col=col)  # exact numbers: hover, and the table below
    fig.update_yaxes(type="log", dtick=1, exponentformat="power")  # powers of ten only:
    # a log axis labels its minor ticks (2, 5) in a smaller font
    fig.update_yaxes(title_text="parameters", row=1, col=1)
    fig.update_yaxes(title_text="multiply-adds", row=1, col=2)
    fig.update_layout(barmode="group")
    return theme.style(fig, height=380, span=span)
