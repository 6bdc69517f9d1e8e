"""Figures of the plain-vs-residual experiment (:func:`cnnviz.residual.compare`)."""

from __future__ import annotations

import numpy as np

from cnnviz.figures import theme

#: One colour per network, the same in both figures.
NETWORK_COLOURS = {"plain": theme.CATEGORICAL[1], "residual": theme.CATEGORICAL[0]}


def gradient_figure(result: dict):
    """Gradient norm per layer, log scale: plain vs residual, at init and after training."""
    import plotly.graph_objects as go

    fig = go.Figure()
    steps = result["settings"]["steps"]
    for name in ("plain", "residual"):
        for phase, dash in (("init", "solid"), ("trained", "dot")):
            norms = np.maximum(np.asarray(result[name][phase]), 1e-30)
            label = f"{name}, {'at initialisation' if phase == 'init' else f'after {steps} steps'}"
            fig.add_scatter(x=np.arange(1, len(norms) + 1), y=norms, name=label,
                            mode="lines+markers",
                            line=dict(color=NETWORK_COLOURS[name], dash=dash, width=3))
    fig.update_layout(xaxis_title="layer (1 = nearest the input)",
                      yaxis_title="gradient norm (log scale)", yaxis_type="log",
                      yaxis_exponentformat="power")
    return theme.style(fig, height=480, title="Gradient norm ‖∂loss/∂W‖ of each conv layer")


def loss_figure(result: dict):
    """Training loss per step of both networks, side by side."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, shared_yaxes=True,
                        subplot_titles=("plain", "with identity shortcuts"))
    classes = result["settings"]["classes"]
    chance = float(np.log(classes))
    for col, name in enumerate(("plain", "residual"), 1):
        losses = result[name]["loss"]
        fig.add_scatter(x=np.arange(1, len(losses) + 1), y=losses, row=1, col=col,
                        name=name, line=dict(color=NETWORK_COLOURS[name], width=3))
        fig.add_hline(y=chance, line_dash="dash", line_color=theme.NEUTRAL, row=1, col=col,
                      annotation_text=f"chance level (ln {classes})")
    fig.update_xaxes(title_text="training step")
    fig.update_yaxes(title_text="training loss", row=1, col=1)
    fig.update_layout(showlegend=False)
    return theme.style(fig, height=400)
