"""Figures of the transfer experiment: the gain of transfer over scratch per
training-set size, with the spread over seeds."""

from __future__ import annotations

from cnnviz.figures import theme


def gain_by_size_figure(gains: dict[str, dict[int, list[float]]], labels: dict[str, str]):
    """One line per target: the mean gain (transfer − scratch validation accuracy) at
    each number of training images per class, the bars spanning the seeds' lowest to
    highest gain, and the gain threshold as a dotted line."""
    import plotly.graph_objects as go

    from cnnviz.training.transfer_claims import GAIN_THRESHOLD

    fig = go.Figure()
    for i, (target, by_size) in enumerate(gains.items()):
        sizes = list(by_size)
        means = [sum(v) / len(v) for v in by_size.values()]
        fig.add_trace(go.Scatter(
            x=sizes, y=means, mode="lines+markers", name=labels.get(target, target),
            error_y={"type": "data", "symmetric": False,
                     "array": [max(v) - m for v, m in zip(by_size.values(), means)],
                     "arrayminus": [m - min(v) for v, m in zip(by_size.values(), means)]},
            line={**theme.line_style(i), "width": 3}, marker={"size": 9}))
    fig.add_hline(y=GAIN_THRESHOLD, line={"dash": "dot", "color": theme.NEUTRAL},
                  annotation_text=f"threshold {GAIN_THRESHOLD:.0%}",
                  annotation_position="bottom right")
    fig.add_hline(y=0, line={"color": theme.NEUTRAL, "width": 1})
    fig.update_layout(xaxis={"title": "training images per class", "type": "log",
                             "tickvals": sorted({n for g in gains.values() for n in g})},
                      yaxis={"title": "gain of transfer", "tickformat": "+.0%"},
                      legend={"orientation": "h", "y": -0.3})
    return theme.style(fig, height=380)
