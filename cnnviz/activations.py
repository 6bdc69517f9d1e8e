"""What each layer sees: intermediate activations of a CNN (concepts C9, C10).

The whole trick is one multi-output functional model (C10)::

    sub = keras.Model(model.inputs, [model.get_layer(n).output for n in names])
    maps = sub(images)          # ONE forward pass, a feature map per layer

:func:`extract` does exactly that (through :mod:`cnnviz.probe`, which also
handles ``Sequential`` and nested base models and caches the sub-model), and
the helpers below turn the raw maps into pictures and numbers a student can
read: channels ordered strongest first, each scaled for display, and per-layer
statistics (size, channels, share of zeros, mean) to plot against depth, with
the sentences that describe them generated from the numbers.

Zeros are counted AFTER the non-linearity (:func:`nonlinearity_layers`): a
BatchNormalization that follows a ReLU has negative outputs, and counting those
as zeros made the per-depth curve zigzag. How well each layer separates the
classes (the measured side of "deep layers are high-level") is in
:mod:`cnnviz.hierarchy`.
"""

from __future__ import annotations

import numpy as np

from cnnviz.errors import ModelError
from cnnviz.probe import (
    ACTIVATION_CLASSES,
    CONV_CLASSES,
    POOL_CLASSES,
    as_batch,
    feature_layers,
    feature_model,
    leaf_layers,
    run,
)

#: A change in the share of zeros smaller than this (5 points) is "about the same".
ZERO_TREND = 0.05
#: A layer whose share of zeros is above this is "silent most of the time".
MOSTLY_ZERO = 0.5
#: The answers to "going deeper, what happens to the share of zeros?"
TRENDS = ("it grows", "it shrinks", "it stays about the same")


def extract(model, images, layer_names) -> dict[str, np.ndarray]:
    """Activations of ``layer_names`` for a batch of preprocessed images.

    One forward pass of one multi-output sub-model (cached per model and layer
    tuple). Returns ``{layer name: float32 array (n, h, w, c)}`` in the order
    asked. ``images`` is a float batch (n, H, W, C) or one image (H, W, C),
    already preprocessed for the model.
    """
    names = (layer_names,) if isinstance(layer_names, str) else tuple(layer_names)
    x = as_batch(images, model)
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


def nonlinearity_layers(model, layer_names) -> dict[str, str | None]:
    """Where each listed layer's zeros are counted: the output of its non-linearity.

    - a convolution with its own ReLU (VGG, the built-in model): its own output;
    - an activation layer (MobileNet's ``*_relu``): its own output;
    - a linear convolution: the first activation layer after it (through
      BatchNormalization, Add, padding...), before the next convolution or pooling;
    - a pooling layer right after a non-linearity: its own output (the max of
      values >= 0 is still >= 0); after a BatchNormalization: ``None``, its
      outputs are signed and a zero there means nothing.

    ``None`` means: no non-linearity to count zeros at.
    """
    names = (layer_names,) if isinstance(layer_names, str) else tuple(layer_names)
    own = {i.name: i.activation not in (None, "linear") for i in feature_layers(model)
           if i.kind == "conv"}
    order = leaf_layers(model)
    index = {layer.name: k for k, layer in enumerate(order)}
    kind = {layer.name: type(layer).__name__ for layer in order}

    def after_nonlinearity(k: int) -> bool:
        name = order[k].name
        return kind[name] in ACTIVATION_CLASSES or own.get(name, False)

    out: dict[str, str | None] = {}
    for name in names:
        if name not in index:
            raise ModelError(f"The model has no layer named {name!r}.")
        k, cls = index[name], kind[name]
        if cls in ACTIVATION_CLASSES or own.get(name, False):
            out[name] = name
        elif cls in POOL_CLASSES:
            out[name] = name if k > 0 and after_nonlinearity(k - 1) else None
        else:  # a linear convolution: its ReLU comes later
            out[name] = None
            for later in order[k + 1:]:
                if type(later).__name__ in ACTIVATION_CLASSES:
                    out[name] = later.name
                    break
                if type(later).__name__ in CONV_CLASSES | POOL_CLASSES:
                    break
    return out


def layer_statistics(activations: dict[str, np.ndarray], depths=None, *,
                     zeros_at: dict[str, str | None] | None = None,
                     layers=None) -> list[dict]:
    """One row per layer: depth, size, channels, share of zeros, mean activation.

    ``activations`` as returned by :func:`extract` (statistics pool every image
    of the batch). ``depths`` maps a layer name to its depth; by default the
    order of the rows. ``zeros_at`` maps a layer to the layer whose output its
    zeros are counted on (:func:`nonlinearity_layers`; that layer's activations
    must be in ``activations``); ``None`` gives NaN. By default each layer's own
    output. ``layers``: the rows, in order (by default every key).
    """
    rows = []
    for order, name in enumerate(list(activations) if layers is None else list(layers)):
        a = np.asarray(activations[name], dtype=np.float32)
        source = name if zeros_at is None else zeros_at.get(name)
        after = None if source is None else np.asarray(activations[source], np.float32)
        rows.append({
            "layer": name,
            "depth": int(depths[name]) if depths is not None else order,
            "height": int(a.shape[1]),
            "width": int(a.shape[2]),
            "channels": int(a.shape[3]),
            "values per image": int(a.shape[1] * a.shape[2] * a.shape[3]),
            "fraction zero": float("nan") if after is None else float(np.mean(after <= 0.0)),
            "zeros counted at": source or "no non-linearity",
            "mean activation": float(a.mean()),
            "channels active": (float("nan") if after is None
                                else float(np.mean(after.max(axis=(1, 2)) > 0.0))),
        })
    return rows


def zero_rows(rows: list[dict]) -> list[dict]:
    """The rows whose share of zeros was measured (after a non-linearity)."""
    return [r for r in rows if np.isfinite(r["fraction zero"])]


def zeros_trend(first: float, last: float, threshold: float = ZERO_TREND) -> str:
    """One of :data:`TRENDS`: how the share of zeros changes from ``first`` to ``last``."""
    change = last - first
    return TRENDS[0] if change > threshold else TRENDS[1] if change < -threshold else TRENDS[2]


def _grows(a: int, b: int, up: str, down: str, same: str) -> str:
    return up if b > a else down if b < a else same


def describe_shapes(first: dict, last: dict) -> str:
    """The sentence on size and channels from the first to the last row."""
    a, b = (first["height"], first["width"]), (last["height"], last["width"])
    size = _grows(a[0] * a[1], b[0] * b[1], "grow", "shrink", "keep their size")
    channels = _grows(first["channels"], last["channels"], "grow", "fall", "stay")
    text = (f"From **{first['layer']}** to **{last['layer']}** the maps {size} from "
            f"{a[0]}×{a[1]} to {b[0]}×{b[1]} pixels while channels {channels} from "
            f"{first['channels']} to {last['channels']}")
    if size == "shrink" and channels == "grow":
        return text + ": space is traded for kinds of features."
    return text + "."


def describe_zeros(rows: list[dict], *, threshold: float = ZERO_TREND,
                   mostly: float = MOSTLY_ZERO) -> str:
    """The sentence on zeros with depth, from the measured rows; says when the run
    disagrees with the textbook picture (sparse deep layers) and what can cause it."""
    measured = zero_rows(rows)
    if len(measured) < 2:
        return ("Zeros are counted after a non-linearity; fewer than two of the chosen "
                "layers have one, so there is no trend to read.")
    first, last = measured[0], measured[-1]
    a, b = first["fraction zero"], last["fraction zero"]
    trend = zeros_trend(a, b, threshold)
    text = (f"Zeros, counted after each non-linearity, go from {a:.0%} in {first['layer']} "
            f"to {b:.0%} in {last['layer']}: {trend} (changes under "
            f"{threshold * 100:.0f} points count as the same). ")
    if b > mostly:
        return text + (f"Over {mostly:.0%} of {last['layer']}'s values are zero: its "
                       "channels fire only where their pattern is.")
    if trend == TRENDS[1]:
        return text + ("This run disagrees with the picture of sparse deep layers: an image "
                       "full of the deep layers' patterns, or a model with other weights, "
                       "can make deep channels busier than early ones.")
    return text + (f"At {b:.0%} zeros, {last['layer']} is not silent most of the time on "
                   "this image.")
