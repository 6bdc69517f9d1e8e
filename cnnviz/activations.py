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

import numpy as np

from cnnviz.errors import ModelError
from cnnviz.probe import as_batch, feature_model, run


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
