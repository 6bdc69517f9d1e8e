"""Architecture diagrams: one box per layer, sized by its output.

A box's height follows the layer's spatial size (relative to the input) and
its width the number of channels (log scale), so a pyramid that halves the
image and doubles the filters is visible at a glance. Inception branches are
drawn side by side (in parallel lanes), residual shortcuts as arcs that jump
over the layers they skip.

Works for a builder spec (``spec_diagram``) and for any Keras model
(``model_diagram``, which follows the graph through ``cnnviz.probe.layer_calls``),
e.g. the built-in shapes CNN, MobileNetV2, or a student's model with a nested base.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import plotly.graph_objects as go

from cnnviz import architecture as A
from cnnviz.figures import theme

_BLUE, _VERMILLION, _GREEN, _PURPLE, _ORANGE, _SKY, _BLACK, _YELLOW = theme.CATEGORICAL
#: One colour per family of layers (the legend names the family); plumbing in greys.
FAMILIES = {
    "input": ("input", "#BBBBBB"),
    "conv": ("convolution", _BLUE), "conv1x1": ("1x1 convolution", _SKY),
    "depthwise": ("depthwise convolution", _GREEN),
    "maxpool": ("max pooling", _ORANGE), "gmp": ("max pooling", _ORANGE),
    "avgpool": ("average pooling", _YELLOW), "gap": ("average pooling", _YELLOW),
    "batchnorm": ("batch norm / dropout", "#DDDDDD"),
    "dropout": ("batch norm / dropout", "#DDDDDD"),
    "flatten": ("flatten", "#777777"), "dense": ("dense", _PURPLE),
    "concat": ("concatenate", _BLACK), "add": ("add (shortcut)", _VERMILLION),
    "other": ("other", "#444444"),
}


def _family(kind: str) -> tuple[str, str]:
    return FAMILIES.get(kind, FAMILIES["other"])


@dataclass
class Node:
    key: str
    label: str
    kind: str
    shape: tuple[int, ...] | None
    x: float
    lane: float = 0.0
    hover: str = ""


def _box_size(shape, max_hw: int, max_c: int) -> tuple[float, float]:
    """(width, height) of a box in plot units, from the output shape."""
    if not shape:
        return 0.35, 0.3
    channels = shape[-1]
    width = 0.25 + 0.5 * math.log2(channels + 1) / math.log2(max_c + 1)
    if len(shape) == 3:
        height = 0.25 + 1.35 * math.sqrt(shape[0] * shape[1]) / max_hw
    else:
        height = 0.2
    return width, height


def _figure(nodes: list[Node], edges: list[tuple[str, str]], skips: list[tuple[str, str]],
            title: str) -> go.Figure:
    by_key = {n.key: n for n in nodes}
    spatial = [n.shape for n in nodes if n.shape and len(n.shape) == 3]
    max_hw = max((math.sqrt(s[0] * s[1]) for s in spatial), default=1)
    max_c = max((n.shape[-1] for n in nodes if n.shape), default=1)
    fig = go.Figure()
    lane_gap = 1.7
    for a, b in edges:
        na, nb = by_key[a], by_key[b]
        fig.add_trace(go.Scatter(x=[na.x, nb.x], y=[na.lane * lane_gap, nb.lane * lane_gap],
                                 mode="lines", line=dict(color="#888", width=1.5),
                                 hoverinfo="skip", showlegend=False))
    top = max((n.lane for n in nodes), default=0) * lane_gap + 1.0
    for a, b in skips:
        na, nb = by_key[a], by_key[b]
        xs = [na.x + (nb.x - na.x) * t / 20 for t in range(21)]
        lift = 0.6 + 0.08 * (nb.x - na.x)
        ys = [top + lift * math.sin(math.pi * t / 20) - 0.2 for t in range(21)]
        fig.add_trace(go.Scatter(x=[na.x] + xs + [nb.x], y=[na.lane * lane_gap] + ys
                                 + [nb.lane * lane_gap], mode="lines",
                                 line=dict(color=_family("add")[1], width=2.5, dash="dot"),
                                 hoverinfo="skip", showlegend=False))
    for n in nodes:
        w, h = _box_size(n.shape, max_hw, max_c)
        y = n.lane * lane_gap
        fig.add_shape(type="rect", x0=n.x - w / 2, x1=n.x + w / 2, y0=y - h / 2, y1=y + h / 2,
                      fillcolor=_family(n.kind)[1], opacity=0.9,
                      line=dict(color="#333", width=1))
    shape_text = [("x".join(map(str, n.shape)) if n.shape else "?") for n in nodes]
    fig.add_trace(go.Scatter(
        x=[n.x for n in nodes], y=[n.lane * lane_gap for n in nodes], mode="markers",
        marker=dict(size=18, opacity=0), hovertext=[n.hover or f"{n.label}<br>{s}"
                                                    for n, s in zip(nodes, shape_text)],
        hoverinfo="text", showlegend=False))
    few = len(nodes) <= 40
    if few:
        bottom = min(n.lane for n in nodes) * lane_gap - 1.0
        for n, s in zip(nodes, shape_text):
            if n.lane != 0:  # a branch: a short label just above its box
                _, h = _box_size(n.shape, max_hw, max_c)
                fig.add_annotation(x=n.x, y=n.lane * lane_gap + h / 2 + 0.18,
                                   text=f"<b>{n.label}</b> {n.shape[-1]}ch",
                                   showarrow=False, font=dict(size=14))
                continue
            if len(nodes) <= 14:  # upright, the shape over two lines to stay narrow
                shape = (f"{n.shape[0]}x{n.shape[1]}<br>x{n.shape[2]}"
                         if n.shape and len(n.shape) == 3 else s)
                fig.add_annotation(x=n.x, y=bottom, text=f"<b>{n.label}</b><br>{shape}",
                                   showarrow=False, font=dict(size=14))
            else:
                fig.add_annotation(x=n.x, y=bottom, text=f"<b>{n.label}</b><br>{s}",
                                   showarrow=False, font=dict(size=14), textangle=-60)
    # a legend of the families present
    for name, colour in dict.fromkeys(_family(n.kind) for n in nodes):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=name,
                                 marker=dict(size=16, symbol="square", color=colour,
                                             line=dict(color="#333", width=1))))
    lanes = [n.lane for n in nodes]
    fig.update_layout(plot_bgcolor="white", xaxis=dict(visible=False),
                      yaxis=dict(visible=False, scaleanchor=None))
    return theme.style(fig, height=max(360, int(150 * (max(lanes) - min(lanes) + 2.5))),
                       title=title)


def spec_diagram(spec: list[A.LayerSpec], input_shape, title: str = "Your network"):
    """The builder's network: branches of inception blocks in parallel lanes."""
    rows = A.analyze(spec, input_shape)
    nodes = [Node("input", "input", "input", tuple(input_shape), 0.0)]
    edges, skips = [], []
    prev, x, shape = "input", 0.0, tuple(input_shape)
    for row, layer in zip(rows, spec):
        if not row.ok:
            break
        if layer.kind == "inception":
            b = A.inception_filters(layer.filters)
            h, w = shape[0], shape[1]
            branches = [
                [("1x1", "conv1x1", b["b1"])],
                [("1x1", "conv1x1", b["b3_reduce"]), ("3x3", "conv", b["b3"])],
                [("1x1", "conv1x1", b["b5_reduce"]), ("5x5", "conv", b["b5"])],
                [("pool", "maxpool", shape[-1]), ("1x1", "conv1x1", b["pool_proj"])],
            ]
            ends = []
            for lane, branch in zip((1.5, 0.5, -0.5, -1.5), branches):
                last = prev
                for step, (label, kind, c) in enumerate(branch):
                    key = f"{row.name}_{lane}_{step}"
                    nodes.append(Node(key, label, kind, (h, w, c), x + 1 + step, lane / 1.3))
                    edges.append((last, key))
                    last = key
                ends.append(last)
            x += 3
            nodes.append(Node(row.name, "concat", "concat", row.shape, x,
                              hover=f"{row.name}: concatenate<br>{row.config}"))
            edges += [(end, row.name) for end in ends]
        elif layer.kind == "residual":
            c1 = f"{row.name}_c1"
            nodes.append(Node(c1, "3x3", "conv", row.shape, x + 1))
            nodes.append(Node(f"{row.name}_c2", "3x3", "conv", row.shape, x + 2))
            x += 3
            proj = shape[-1] != layer.filters or layer.stride != 1
            nodes.append(Node(row.name, "add", "add", row.shape, x,
                              hover=f"{row.name}: residual block<br>{row.config}<br>"
                                    f"shortcut: {'1x1 projection' if proj else 'identity'}"))
            edges += [(prev, c1), (c1, f"{row.name}_c2"), (f"{row.name}_c2", row.name)]
            skips.append((prev, row.name))
        else:
            x += 1
            label = {"conv": f"{layer.kernel}x{layer.kernel}", "conv1x1": "1x1",
                     "maxpool": "max", "avgpool": "avg", "batchnorm": "BN", "dropout": "drop",
                     "gap": "GAP", "gmp": "GMP", "flatten": "flat", "dense": "dense"}[layer.kind]
            nodes.append(Node(row.name, label, layer.kind, row.shape, x,
                              hover=f"{row.name}<br>{row.config}<br>{row.params:,} parameters"))
            edges.append((prev, row.name))
        prev, shape = row.name, row.shape
    return _figure(nodes, edges, skips, title)


_KERAS_KINDS = {
    "Conv2D": "conv", "DepthwiseConv2D": "depthwise",
    "SeparableConv2D": "conv", "MaxPooling2D": "maxpool", "AveragePooling2D": "avgpool",
    "GlobalAveragePooling2D": "gap", "GlobalMaxPooling2D": "gmp", "Flatten": "flatten",
    "Dense": "dense", "Concatenate": "concat", "Add": "add",
}


def _shape(tensor) -> tuple:
    return tuple(int(v) for v in tensor.shape[1:])


def model_diagram(model, title: str | None = None) -> go.Figure:
    """Any Keras model (functional or Sequential; the layers of nested models drawn in
    place): conv/pool/dense/merge layers as boxes in order; batch norm, activations,
    padding and dropout are folded into the box before them; an edge that jumps over
    boxes (a shortcut) is drawn as an arc."""
    from cnnviz import probe

    box_of = {id(t): "input" for t in model.inputs}  # tensor -> the box that made it
    boxes = {"input": ("input", _shape(model.inputs[0]), None, [])}
    for layer, inputs, outputs in probe.layer_calls(model):
        sources = [box_of[id(t)] for t in inputs if id(t) in box_of]
        kind = _KERAS_KINDS.get(type(layer).__name__)
        if kind is None:  # folded into the box of its (first) input
            key = sources[0] if sources else None
        else:
            key = layer.name if layer.name not in boxes else f"{layer.name} ({len(boxes)})"
            boxes[key] = (kind, _shape(outputs[0]), layer, list(dict.fromkeys(sources)))
        box_of.update({id(t): key for t in outputs if key is not None})
    position = {key: i for i, key in enumerate(boxes)}
    nodes, edges, skips = [], [], []
    for key, (kind, shape, layer, sources) in boxes.items():
        label = {"conv": "conv", "depthwise": "dw", "concat": "cat"}.get(kind, kind)
        if kind in ("conv", "depthwise") and hasattr(layer, "kernel_size"):
            label = f"{layer.kernel_size[0]}x{layer.kernel_size[1]}"
        about = "input" if layer is None else f"{key} ({type(layer).__name__})"
        params = 0 if layer is None else layer.count_params()
        nodes.append(Node(key, label, "conv1x1" if label == "1x1" else kind, shape,
                          float(position[key]),
                          hover=f"{about}<br>{'x'.join(map(str, shape))}<br>"
                                f"{params:,} parameters"))
        for source in sources:
            if position[key] - position[source] == 1:
                edges.append((source, key))
            else:
                skips.append((source, key))
    return _figure(nodes, edges, skips, title or model.name)


def model_summary(model) -> list[dict]:
    """One record per layer, input first, the layers of nested models in place: name,
    type, output shape, parameters (a layer used twice counts its weights once)."""
    from cnnviz import probe

    def record(name, kind, tensor, parameters):
        return {"layer": name, "type": kind,
                "output shape": " x ".join(str(v) for v in tensor.shape[1:]),
                "parameters": parameters}

    records = [record(t.name, "InputLayer", t, 0) for t in model.inputs]
    counted: set[int] = set()
    for layer, _, outputs in probe.layer_calls(model):
        first = id(layer) not in counted
        counted.add(id(layer))
        records.append(record(layer.name, type(layer).__name__, outputs[0],
                              layer.count_params() if first else 0))
    return records
