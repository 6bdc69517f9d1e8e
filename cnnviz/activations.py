"""What each layer sees: intermediate activations of a CNN (concepts C9, C10).

The whole trick is one multi-output functional model (C10)::

    sub = keras.Model(model.inputs, [model.get_layer(n).output for n in names])
    maps = sub(images)          # ONE forward pass, a feature map per layer

:func:`extract` does exactly that (through :mod:`cnnviz.probe`, which also
handles ``Sequential`` and nested base models and caches the sub-model), and
the helpers below turn the raw maps into pictures and numbers a student can
read: channels ordered strongest first, each scaled for display, and per-layer
statistics (size, channels, fraction of zeros, mean) to plot against depth
(C9: early layers keep the image's size and respond densely to edges and
colours; deep layers are small, many-channelled and sparse).
"""

from __future__ import annotations

import functools

import numpy as np

from cnnviz.errors import ImageError, ModelError
from cnnviz.probe import feature_model, run


def _as_batch(images) -> np.ndarray:
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4:
        raise ImageError(f"Expected images shaped (n, H, W, C); got {np.asarray(images).shape}.")
    if not np.issubdtype(x.dtype, np.floating):
        raise ImageError("extract() takes float images already preprocessed for the model "
                         "(use cnnviz.models.preprocess).")
    return x.astype(np.float32, copy=False)


def extract(model, images, layer_names) -> dict[str, np.ndarray]:
    """Activations of ``layer_names`` for a batch of preprocessed images.

    One forward pass of one multi-output sub-model (cached per model and layer
    tuple). Returns ``{layer name: float32 array (n, h, w, c)}`` in the order
    asked. ``images`` is a float batch (n, H, W, C) or one image (H, W, C),
    already preprocessed for the model.
    """
    names = (layer_names,) if isinstance(layer_names, str) else tuple(layer_names)
    x = _as_batch(images)
    sub = feature_model(model, names)
    try:
        outputs = run(sub, x)
    except ValueError as error:  # wrong input size or channels
        raise ModelError(f"The model could not take these images: {error}") from error
    return {name: np.asarray(out) for name, out in zip(names, outputs)}


def keras_code(layer_names, *, model_var: str = "model", images_var: str = "images") -> str:
    """The few lines of Keras that produce these activations, to show beside them."""
    names = list((layer_names,) if isinstance(layer_names, str) else layer_names)
    shown = "".join(f"        {model_var}.get_layer({name!r}).output,\n" for name in names)
    return (
        "import keras\n\n"
        "# one model, many outputs: the input and every chosen layer's output\n"
        f"probe = keras.Model(\n    {model_var}.inputs,\n    [\n{shown}    ],\n)\n"
        f"activations = probe({images_var}, training=False)  # one forward pass\n"
        "# activations[i] has shape (batch, height, width, channels) for layer i"
    )


def channel_strength(maps: np.ndarray) -> np.ndarray:
    """Mean activation of each channel of one image's maps (h, w, c) -> (c,)."""
    return np.asarray(maps, dtype=np.float64).mean(axis=(0, 1))


def strongest_channels(maps: np.ndarray) -> np.ndarray:
    """Channel indices of (h, w, c) maps, strongest (highest mean) first; ties by index."""
    strength = channel_strength(maps)
    return np.lexsort((np.arange(strength.size), -strength))


def scale_for_display(maps: np.ndarray, *, mode: str = "channel") -> np.ndarray:
    """(h, w, k) float maps -> (k, h, w) float in [0, 1] for display.

    ``mode="channel"`` stretches each channel between its own min and max (shows
    every channel's pattern, even weak ones); ``mode="layer"`` uses one min/max for
    the whole layer (shows which channels are strong). A constant map becomes 0.
    """
    m = np.moveaxis(np.asarray(maps, dtype=np.float32), -1, 0)
    if mode == "channel":
        lo = m.min(axis=(1, 2), keepdims=True)
        hi = m.max(axis=(1, 2), keepdims=True)
    elif mode == "layer":
        lo, hi = m.min(), m.max()
    else:
        raise ValueError(f"mode must be 'channel' or 'layer', not {mode!r}")
    span = hi - lo
    return np.where(span > 0, (m - lo) / np.where(span > 0, span, 1), 0.0).astype(np.float32)


def colorize(values: np.ndarray, colormap: str = "viridis") -> np.ndarray:
    """Float values in [0, 1], any shape -> uint8 RGB (shape + (3,))."""
    lut = _lut(colormap)
    index = np.clip(np.asarray(values, dtype=np.float32), 0.0, 1.0) * 255
    return lut[np.nan_to_num(index).round().astype(np.intp)]


@functools.lru_cache(maxsize=8)
def _lut(colormap: str) -> np.ndarray:
    """256-entry uint8 colour table sampled from a Plotly colour scale."""
    from plotly.colors import sample_colorscale, unlabel_rgb

    names = {"viridis": "Viridis", "magma": "Magma", "gray": "Greys_r", "inferno": "Inferno"}
    colours = sample_colorscale(names.get(colormap, colormap), list(np.linspace(0, 1, 256)))
    return np.array([unlabel_rgb(c) for c in colours], dtype=np.float64).round().astype(np.uint8)


def grid(tiles: np.ndarray, *, cols: int, pad: int = 2, fill: int = 255) -> np.ndarray:
    """Tile (k, h, w, 3) uint8 images into one picture with ``cols`` columns."""
    tiles = np.asarray(tiles)
    k, h, w = tiles.shape[:3]
    cols = max(1, min(cols, k))
    rows = -(-k // cols)
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad, 3), fill, np.uint8)
    for i in range(k):
        r, c = divmod(i, cols)
        out[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = tiles[i]
    return out


def layer_statistics(activations: dict[str, np.ndarray], depths=None) -> list[dict]:
    """One row per layer: depth, size, channels, fraction of zeros, mean activation.

    ``activations`` as returned by :func:`extract` (statistics pool every image
    of the batch). ``depths`` maps a layer name to its depth; by default the
    order of the dict.
    """
    rows = []
    for order, (name, a) in enumerate(activations.items()):
        a = np.asarray(a, dtype=np.float32)
        rows.append({
            "layer": name,
            "depth": int(depths[name]) if depths is not None else order,
            "height": int(a.shape[1]),
            "width": int(a.shape[2]),
            "channels": int(a.shape[3]),
            "values per image": int(a.shape[1] * a.shape[2] * a.shape[3]),
            "fraction zero": float(np.mean(a <= 0.0)),
            "mean activation": float(a.mean()),
            "channels active": float(np.mean(a.max(axis=(1, 2)) > 0.0)),
        })
    return rows


def statistics_figure(rows: list[dict]):
    """Plotly figure: size, channels, sparsity and mean activation against depth."""
    from plotly.subplots import make_subplots

    depth = [r["depth"] for r in rows]
    names = [r["layer"] for r in rows]
    panels = (
        ("Spatial size (height, pixels)", "height"),
        ("Channels", "channels"),
        ("Fraction of zero activations", "fraction zero"),
        ("Mean activation", "mean activation"),
    )
    fig = make_subplots(rows=1, cols=4, subplot_titles=[p[0] for p in panels],
                        horizontal_spacing=0.06)
    for col, (_, key) in enumerate(panels, start=1):
        fig.add_scatter(x=depth, y=[r[key] for r in rows], mode="lines+markers", text=names,
                        hovertemplate="%{text}<br>%{y:.3g}<extra></extra>", row=1, col=col,
                        showlegend=False, marker={"size": 9}, line={"width": 3})
        fig.update_xaxes(title_text="depth (layer #)", row=1, col=col)
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_yaxes(type="log", row=1, col=2)
    fig.update_yaxes(range=[0, 1.02], row=1, col=3)
    fig.update_layout(height=340, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      font={"size": 15})
    fig.update_annotations(font_size=16)
    return fig


def feature_map_grid_figure(tiles: np.ndarray, labels, *, cols: int, pad: int = 2):
    """A Plotly figure of the tiled feature maps that reports which tile was clicked.

    The tiles are one image trace; an almost invisible marker sits on each tile's
    centre carrying its label, so a click (Streamlit ``on_select``) selects it.
    """
    import plotly.graph_objects as go

    k, h, w = tiles.shape[:3]
    picture = grid(tiles, cols=cols, pad=pad)
    xs, ys = [], []
    for i in range(k):
        r, c = divmod(i, cols)
        xs.append(c * (w + pad) + w / 2)
        ys.append(r * (h + pad) + h / 2)
    fig = go.Figure(go.Image(z=picture, hoverinfo="skip"))
    fig.add_scatter(x=xs, y=ys, mode="markers", customdata=list(labels), text=list(labels),
                    marker={"size": 28, "opacity": 0.02, "color": "white"},
                    hovertemplate="%{text}<extra></extra>", showlegend=False)
    rows = -(-k // cols)
    aspect = (rows * (h + pad)) / max(1, cols * (w + pad))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(margin={"l": 0, "r": 0, "t": 0, "b": 0}, height=int(120 + 760 * aspect),
                      clickmode="event+select", dragmode=False)
    return fig
