"""Figures of training runs: learning curves, trainable vs frozen parameters per
phase, how far pretrained weights moved, and a model's class probabilities."""

from __future__ import annotations

from cnnviz.figures import theme

#: Trainable parameters are the point of a phase; frozen ones are there but idle.
TRAINABLE, FROZEN = theme.CATEGORICAL[2], theme.NEUTRAL


def history_figure(histories: dict[str, dict], metric: str = "accuracy", *,
                   boundaries: dict[str, list[int]] | None = None, title: str = "",
                   span: float = 0.5, epochs: int | None = None, unit: str = "epoch"):
    """Training (solid) and validation (dashed) curves of ``metric`` for several runs.

    ``boundaries`` marks where a run's phase 3 starts (epoch counts), as dotted lines
    in the run's colour. ``epochs`` fixes the axis to a run's planned length, so that
    a curve drawn while it trains grows into its frame; ticks are whole ``unit``s.
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, (label, history) in enumerate(histories.items()):
        colour = theme.CATEGORICAL[i % len(theme.CATEGORICAL)]
        for key, dash, kind in ((metric, "solid", "train"), (f"val_{metric}", "dash", "val")):
            values = history.get(key) or []
            if not values and kind == "val":
                continue
            fig.add_trace(go.Scatter(
                x=list(range(1, len(values) + 1)), y=values, mode="lines+markers",
                name=f"{label} · {kind}", line={"color": colour, "dash": dash, "width": 3},
                marker={"size": 6}))
    runs = list(histories)
    for label, starts in (boundaries or {}).items():  # the line takes its run's colour
        for start in starts:
            colour = theme.CATEGORICAL[runs.index(label) % len(theme.CATEGORICAL)]
            fig.add_vline(x=start + 0.5, line={"color": colour, "dash": "dot", "width": 2},
                          annotation_text="phase 3", annotation_position="top right")
    done = max((len(h.get(metric) or []) for h in histories.values()), default=0)
    length = max(done, epochs or 0, 1)
    fig.update_layout(xaxis_title=unit, yaxis_title=metric.replace("_", " "))
    fig.update_xaxes(range=[0.5, length + 0.5], tickmode="linear", tick0=0,
                     dtick=whole_step(length), tickformat="d")
    if metric == "accuracy":
        fig.update_yaxes(range=[0, 1.02])
    return theme.style(fig, height=440, title=title or metric.replace("_", " "), span=span)


def whole_step(length: int, most: int = 12) -> int:
    """A whole-number tick step (1, 2, 5, 10, 20, 50, …) giving at most ``most`` ticks."""
    steps = [m * 10 ** e for e in range(7) for m in (1, 2, 5)]
    return next((step for step in steps if length / step <= most), steps[-1])


def parameter_figure(phases):
    """The network's blocks, coloured trainable / frozen, one panel per phase.

    ``phases`` are :class:`cnnviz.training.transfer.Phase` records. Each block is one bar of
    the same length, split by the share of its parameters that train, so the tiny
    head shows as clearly as the big blocks; the labels give the counts.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=max(len(phases), 1), shared_yaxes=True,
                        horizontal_spacing=0.05,
                        subplot_titles=[f"{p.name}<br>{p.trainable:,} trainable<br>"
                                        f"{p.frozen:,} frozen" for p in phases])
    for col, phase in enumerate(phases, start=1):
        blocks = [f"{row['block']} ({row['trainable'] + row['frozen']:,})"
                  for row in phase.counts]
        totals = [max(row["trainable"] + row["frozen"], 1) for row in phase.counts]
        for key, colour, name in (("trainable", TRAINABLE, "trainable"),
                                  ("frozen", FROZEN, "frozen")):
            fig.add_trace(go.Bar(
                y=blocks, x=[100 * row[key] / t for row, t in zip(phase.counts, totals,
                                                                    strict=True)],
                orientation="h", name=name, marker_color=colour, showlegend=col == 1,
                text=[f"{row[key]:,}" if row[key] else "" for row in phase.counts],
                textposition="inside", insidetextanchor="middle",
                hovertemplate="%{y}: %{text} " + name + "<extra></extra>"), row=1, col=col)
        fig.update_xaxes(range=[0, 100], ticksuffix="%", dtick=50, row=1, col=col)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(autorange="reversed")
    return theme.style(fig, height=180 + 40 * len(phases[0].counts) if phases else 300)


def weight_change_figure(changes: dict[str, dict[str, float]]):
    """How far each base layer's kernel moved from its pretrained value, per run."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, (label, change) in enumerate(changes.items()):
        fig.add_trace(go.Bar(x=list(change), y=[100 * v for v in change.values()], name=label,
                             marker_color=theme.CATEGORICAL[i % len(theme.CATEGORICAL)]))
    fig.update_layout(barmode="group", yaxis_title="change of the weights (%)")
    return theme.style(fig, height=400)


def probability_figure(class_names, probabilities, *, title: str = "", span: float = 0.75):
    """Horizontal bars, first class on top: the model's probability for each class."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Bar(
        y=list(class_names), x=[float(p) for p in probabilities], orientation="h",
        marker_color=theme.CATEGORICAL[0], text=[f"{p:.1%}" for p in probabilities],
        textposition="outside", cliponaxis=False))
    fig.update_layout(xaxis={"range": [0, 1.15], "tickformat": ".0%", "title": "probability",
                             "tickvals": [0, 0.25, 0.5, 0.75, 1]})
    fig.update_yaxes(autorange="reversed")
    return theme.style(fig, height=130 + 45 * len(class_names) + (40 if title else 0),
                       title=title, span=span)
